"""topk: the highest logits of each image, ranked as vit-run ranks them."""

from typing import NamedTuple

import numpy as np


class TopK(NamedTuple):
    """Class indices and their logits, best first."""
    indices: np.ndarray
    values: np.ndarray


def topk(logits, k=5):
    """The k highest logits along the last axis, best first.

    ``logits`` is ``(classes,)`` or ``(batch, classes)`` (any leading axes);
    the result's arrays have the same leading axes and a last axis of
    ``min(k, classes)`` (k is capped at the class count, as vit-run's
    ``--topk`` is). Ties go to the lower class index and NaN ranks last,
    so the ranking is vit-run's and does not depend on the sort's whims.
    """
    logits = np.asarray(logits)
    if logits.ndim == 0:
        raise ValueError("topk: logits must have a class axis, got a scalar")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError("topk: k must be an int, got %r" % (k,))
    if k < 1:
        raise ValueError("topk: k must be >= 1, got %d" % k)
    k = min(int(k), logits.shape[-1])
    # A stable sort of the negated logits: equal values keep index order,
    # and NaN (whose negation is NaN) sorts after every number.
    order = np.argsort(-logits, axis=-1, kind="stable")[..., :k]
    return TopK(order, np.take_along_axis(logits, order, axis=-1))
