"""vitc.keras: a tf_keras ViT of the Keras article's construction, as a
vitc model folder.

    import vitc.keras
    vitc.keras.export(model, "vit_folder")      # a live tf_keras Model

    python -m vitc.keras model.h5 vit_folder     # or .keras, a SavedModel
    python -m vitc.keras build.py vit_folder --weights w.h5 \\
        --class-token cls.npy --position-embedding pos.npy

The folder holds ``model.safetensors`` (vitc's timm names, F32) and
``config.json`` (vitc's model config, docs/model-config.md), which compile
with ``vitc --config DIR/config.json --weights DIR/model.safetensors``.

The construction (the article vitc is built around): a functional tf_keras
(Keras 2) model on a fixed-batch NHWC input; ``Conv2D(D, P, strides=P)``
reshaped to ``[B, N, D]``; a class token concatenated first and a position
embedding added, both made with ``layers.Layer().add_weight`` and used
through TensorFlow ops, so that tf_keras captures them in the call
arguments of its ``Concatenate`` and ``TFOpLambda`` layers rather than in
``model.weights``; pre-norm encoder blocks whose attention is a fused
``Dense(3D)`` reshaped to ``[B, T, 3, heads, D/heads]``, transposed, sliced
into q, k and v, ``softmax(q k^T / sqrt(D/heads)) v``, transposed back and
projected; an MLP ``Dense(H)``, GELU, ``Dense(D)``; a final
LayerNormalization and a ``Dense(K)`` on ``x[:, 0]``.

Everything in the config is read from the layers (image, patch, channels,
width, depth, heads, MLP width, classes, query/key/value bias, the
layer-norm epsilon, the GELU form), and every layer between the input and
the logits is checked against the construction: a model that differs
raises ``ExportError`` naming the layer. Dropout layers are skipped (they
are the identity at inference). See docs/keras.md.

TensorFlow and tf_keras are imported when a model is read, not with this
module; vitc itself does not need them.
"""

import argparse
import inspect
import json
import math
import os
import pathlib
import sys

import numpy as np

from . import _safetensors

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"

# Layers that are the identity at inference (model(x) runs with
# training=False).
_IDENTITY_LAYERS = ("Dropout", "SpatialDropout1D", "GaussianDropout",
                    "GaussianNoise", "AlphaDropout", "Identity")

# Layer classes matched by exact type (a subclass may compute something
# else): their names in tf_keras.layers.
_LAYER_CLASSES = ("InputLayer", "Conv2D", "Dense", "LayerNormalization",
                  "Concatenate", "Add", "Reshape", "Activation", "Softmax"
                  ) + _IDENTITY_LAYERS


class ExportError(ValueError):
    """The model is not a ViT of the construction vitc.keras reads, or a
    part of it (the class token, the position embedding) cannot be found;
    the message names the layer."""


def _import_tensorflow():
    """TensorFlow and tf_keras, or an ImportError saying what to install."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
        import tf_keras
    except ImportError as error:
        raise ImportError(
            "vitc.keras needs TensorFlow and tf_keras (Keras 2, which the "
            "article's construction needs): pip install tensorflow-cpu "
            "tf_keras (%s)" % error) from error
    return tf, tf_keras


# --- The graph: which layer call produced a tensor -------------------------

def _describe(layer):
    kind = type(layer).__name__
    if hasattr(layer, "symbol") and kind in ("TFOpLambda",
                                             "SlicingOpLambda"):
        kind = "tf." + layer.symbol
    return "layer '%s' (%s)" % (layer.name, kind)


def _is_tensor(value):
    """Whether a call argument is a symbolic tensor of the model."""
    return hasattr(value, "_keras_history")


def _key(tensor):
    history = tensor._keras_history
    return (id(history.layer), history.node_index, history.tensor_index)


class _Graph:
    """Looks up the layer call that produced each tensor of a functional
    tf_keras model, with the call's arguments."""

    def __init__(self, model, keras):
        self.model = model
        self.classes = {}
        for name in _LAYER_CLASSES:
            cls = getattr(keras.layers, name, None)
            if cls is not None:
                self.classes[cls] = name

    def kind(self, layer):
        """'Dense', 'Add', ... for the layers matched by type; 'tf.reshape',
        'tf.add', ... (the op's last name) for TensorFlow ops captured by
        TFOpLambda layers; the class name otherwise."""
        name = type(layer).__name__
        if name in ("TFOpLambda", "SlicingOpLambda") and hasattr(layer,
                                                                 "symbol"):
            return "tf." + layer.symbol.split(".")[-1]
        return self.classes.get(type(layer), "other:" + name)

    def call(self, tensor):
        """The _Call that produced ``tensor``."""
        history = tensor._keras_history
        return _Call(self, history.layer,
                     history.layer._inbound_nodes[history.node_index])

    def skip(self, tensor):
        """``tensor`` with the identity layers before it skipped."""
        while True:
            call = self.call(tensor)
            if call.kind not in _IDENTITY_LAYERS:
                return tensor
            tensor = call.input()

    def ancestors(self, tensor):
        """The keys of every tensor ``tensor`` is computed from."""
        seen = set()
        stack = [tensor]
        while stack:
            current = stack.pop()
            for parent in self.call(current).node.keras_inputs:
                key = _key(parent)
                if key not in seen:
                    seen.add(key)
                    stack.append(parent)
        return seen


class _Call:
    """One call of a layer: the layer, its node and its arguments."""

    def __init__(self, graph, layer, node):
        self.graph = graph
        self.layer = layer
        self.node = node
        self.kind = graph.kind(layer)
        self.name = _describe(layer)

    def args(self):
        """The op's arguments by name (TensorFlow op layers)."""
        try:
            bound = inspect.signature(self.layer.function).bind(
                *self.node.call_args, **self.node.call_kwargs)
        except (TypeError, ValueError) as error:
            raise ExportError("%s: cannot read its arguments (%s)" %
                              (self.name, error)) from error
        bound.apply_defaults()
        return dict(bound.arguments)

    def input(self):
        """The single tensor argument of a one-input layer."""
        inputs = self.node.keras_inputs
        if len(inputs) != 1:
            raise ExportError("%s: expected one input, it has %d" %
                              (self.name, len(inputs)))
        return inputs[0]

    def first_arg(self):
        """The first call argument as given (a tensor, or a list for merge
        layers, constants included)."""
        if self.node.call_args:
            return self.node.call_args[0]
        raise ExportError("%s: called without arguments" % self.name)


def _not_vit(message, *args):
    return ExportError("not a ViT of the Keras construction vitc.keras "
                       "reads: " + (message % args if args else message))


def _expect(graph, tensor, kinds, what, consumer):
    """The call producing ``tensor`` (identity layers skipped), which must
    be one of ``kinds``; else an ExportError naming the layer found."""
    tensor = graph.skip(tensor)
    call = graph.call(tensor)
    if call.kind not in kinds:
        raise _not_vit("%s feeds %s, expected %s", call.name, consumer, what)
    return call


def _constant(value, what, call):
    """A call argument that is not a model tensor (a captured tf.Variable,
    an EagerTensor, an array or a nested list) as a float32 array."""
    try:
        if hasattr(value, "numpy"):
            value = value.numpy()
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise ExportError("%s: the %s is not a numeric constant (%s)" %
                          (call.name, what, error)) from error
    return array


def _int_list(value, what, call):
    """A shape or permutation argument as a list of ints; a symbolic entry
    (a dynamic batch size) becomes None."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    try:
        items = list(value)
    except TypeError:
        raise ExportError("%s: its %s is not a list (%r)" %
                          (call.name, what, value)) from None
    result = []
    for item in items:
        if _is_tensor(item) or item is None:
            result.append(None)
            continue
        if hasattr(item, "numpy"):
            item = item.numpy()
        try:
            result.append(int(item))
        except (TypeError, ValueError):
            raise ExportError("%s: its %s holds %r" %
                              (call.name, what, item)) from None
    return result


def _arg(args, *names):
    for name in names:
        if name in args:
            return args[name]
    raise KeyError(names[0])


# --- The pieces of the construction -----------------------------------------

def _check_dtype(call):
    dtype = getattr(call.layer, "compute_dtype", "float32")
    if dtype != "float32":
        raise ExportError("%s computes in %s; vitc.keras exports float32 "
                          "models (no mixed precision policy)" %
                          (call.name, dtype))


def _activation_name(layer):
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", repr(activation))


def _dense(graph, tensor, role, consumer, activations=("linear",)):
    """A Dense layer: (call, kernel [in, out], bias [out] or None,
    activation name)."""
    call = _expect(graph, tensor, ("Dense",), "the %s Dense layer" % role,
                   consumer)
    _check_dtype(call)
    activation = _activation_name(call.layer)
    if activation not in activations:
        raise _not_vit("%s (the %s) has activation '%s', expected %s",
                       call.name, role, activation,
                       " or ".join("'%s'" % a for a in activations))
    kernel = call.layer.kernel.numpy()
    bias = call.layer.bias.numpy() if call.layer.use_bias else None
    return call, kernel, bias, activation


def _layer_norm(graph, tensor, role, consumer):
    """A LayerNormalization over the last axis: (call, gamma, beta, eps)."""
    call = _expect(graph, tensor, ("LayerNormalization",),
                   "the %s LayerNormalization" % role, consumer)
    _check_dtype(call)
    layer = call.layer
    rank = len(call.input().shape)
    axes = sorted(a % rank for a in layer.axis)
    if axes != [rank - 1]:
        raise _not_vit("%s (the %s) normalises over axes %s, expected the "
                       "last one", call.name, role, list(layer.axis))
    width = call.input().shape[-1]
    gamma = (layer.gamma.numpy() if layer.scale
             else np.ones(width, np.float32))
    beta = (layer.beta.numpy() if layer.center
            else np.zeros(width, np.float32))
    return call, gamma, beta, float(layer.epsilon)


def _reshape_target(call):
    """The target shape of a reshape (tf.reshape or Reshape), without the
    batch axis."""
    if call.kind == "Reshape":
        return [None if d == -1 else d for d in call.layer.target_shape]
    shape = _int_list(_arg(call.args(), "shape"), "shape", call)
    return [None if d == -1 else d for d in shape[1:]]


def _transpose_perm(call):
    args = call.args()
    perm = args.get("perm")
    if perm is None:
        raise _not_vit("%s transposes without a perm", call.name)
    if args.get("conjugate"):
        raise _not_vit("%s conjugates", call.name)
    return _int_list(perm, "perm", call)


def _matmul(call, transpose_b):
    args = call.args()
    flags = {name: bool(args.get(name)) for name in
             ("transpose_a", "transpose_b", "adjoint_a", "adjoint_b")}
    expected = {"transpose_a": False, "transpose_b": transpose_b,
                "adjoint_a": False, "adjoint_b": False}
    if flags != expected:
        raise _not_vit("%s is a matmul with %s, expected %s", call.name,
                       flags, expected)
    return args["a"], args["b"]


def _getitem_index(call):
    """The index of ``x[i]`` (a SlicingOpLambda) as an int, or None."""
    spec = call.node.call_args[1] if len(call.node.call_args) > 1 else \
        call.node.call_kwargs.get("slice_spec")
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        return int(spec)
    return None


def _is_full_slice(item):
    if isinstance(item, dict):
        item = slice(item.get("start"), item.get("stop"), item.get("step"))
    return isinstance(item, slice) and item == slice(None, None, None)


def _is_class_token_slice(call):
    """Whether a SlicingOpLambda is ``x[:, 0]`` (or ``x[:, 0, :]``)."""
    spec = call.node.call_args[1] if len(call.node.call_args) > 1 else \
        call.node.call_kwargs.get("slice_spec")
    if not isinstance(spec, (list, tuple)) or len(spec) not in (2, 3):
        return False
    if not _is_full_slice(spec[0]):
        return False
    if not (isinstance(spec[1], (int, np.integer)) and int(spec[1]) == 0):
        return False
    return len(spec) == 2 or _is_full_slice(spec[2])


def _add_operands(call):
    """The two operands of an addition (Add layer, tf.add, +), tensors or
    constants; None for other layers."""
    if call.kind == "Add":
        operands = call.first_arg()
    elif call.kind == "tf.add":
        args = call.args()
        operands = [args["x"], args["y"]]
    else:
        return None
    if not isinstance(operands, (list, tuple)) or len(operands) != 2:
        raise _not_vit("%s adds %s operands, expected 2", call.name,
                       len(operands) if isinstance(operands, (list, tuple))
                       else "non-list")
    return list(operands)


def _gelu(graph, tensor, consumer):
    """The GELU before fc2: (the tensor fc1 produced, form, fused) where
    form is 'exact' or 'tanh' and fused says the activation is fc1's own.
    """
    tensor = graph.skip(tensor)
    call = graph.call(tensor)
    if call.kind == "Activation":
        name = _activation_name(call.layer)
        if name != "gelu":
            raise _not_vit("%s applies '%s' between the MLP's Dense layers, "
                           "expected 'gelu'", call.name, name)
        # Activation calls the function with its defaults: Keras' and
        # tf.nn's gelu both default to approximate=False.
        return call.input(), "exact", False
    if call.kind == "tf.gelu":
        args = call.args()
        approximate = bool(args.get("approximate", False))
        if not _is_tensor(args.get("features")):
            raise _not_vit("%s: expected gelu(x)", call.name)
        return args["features"], "tanh" if approximate else "exact", False
    if call.kind == "Dense" and _activation_name(call.layer) == "gelu":
        return tensor, "exact", True
    raise _not_vit("%s feeds %s, expected the MLP's GELU (Activation('gelu'), "
                   "tf.nn.gelu or Dense(..., activation='gelu'))", call.name,
                   consumer)


class _Block:
    pass


def _mlp_branch(graph, tensor, consumer):
    """LayerNorm -> Dense(H) -> GELU -> Dense(D): the block's MLP branch.
    Returns (block fields, the tensor the LayerNorm reads)."""
    block = _Block()
    fc2, block.fc2_w, block.fc2_b, _ = _dense(graph, tensor, "MLP output",
                                             consumer)
    fc1_out, block.gelu, fused = _gelu(graph, fc2.input(), fc2.name)
    fc1, block.fc1_w, block.fc1_b, _ = _dense(
        graph, fc1_out, "MLP input", fc2.name,
        activations=("gelu",) if fused else ("linear",))
    block.fc1_name, block.fc2_name = fc1.name, fc2.name
    norm, block.norm2_g, block.norm2_b, block.norm2_eps = _layer_norm(
        graph, fc1.input(), "second (pre-MLP)", fc1.name)
    block.norm2_name = norm.name
    return block, norm.input()


def _attention_branch(graph, tensor, block, consumer):
    """LayerNorm -> fused q/k/v Dense -> heads -> softmax(q k^T / sqrt(d)) v
    -> output Dense. Fills ``block``; returns the tensor the LayerNorm
    reads."""
    proj, block.proj_w, block.proj_b, _ = _dense(
        graph, tensor, "attention output", consumer)
    block.proj_name = proj.name
    merge = _expect(graph, proj.input(), ("tf.reshape", "Reshape"),
                    "the reshape of the heads back to [B, T, D]", proj.name)
    merged = _reshape_target(merge)
    heads_out = _expect(graph, merge.input(), ("tf.transpose",),
                        "tf.transpose(x, perm=[0, 2, 1, 3])", merge.name)
    if _transpose_perm(heads_out) != [0, 2, 1, 3]:
        raise _not_vit("%s has perm %s, expected [0, 2, 1, 3] (heads back "
                       "next to their width)", heads_out.name,
                       _transpose_perm(heads_out))
    weighted = _expect(graph, heads_out.input(), ("tf.matmul",),
                       "the matmul of the attention weights and v",
                       heads_out.name)
    probs, v = _matmul(weighted, transpose_b=False)
    softmax = _expect(graph, probs, ("tf.softmax", "Softmax", "Activation"),
                      "the softmax over the keys", weighted.name)
    if softmax.kind == "tf.softmax":
        axis = softmax.args().get("axis")
        logits = softmax.args()["logits"]
    elif softmax.kind == "Softmax":
        axis = softmax.layer.axis
        logits = softmax.input()
    else:
        if _activation_name(softmax.layer) != "softmax":
            raise _not_vit("%s feeds %s, expected the softmax over the keys",
                           softmax.name, weighted.name)
        axis, logits = -1, softmax.input()
    if axis not in (None, -1, 3):
        raise _not_vit("%s takes the softmax over axis %s, expected the "
                       "keys (-1)", softmax.name, axis)
    scale = _expect(graph, logits, ("tf.truediv", "tf.multiply"),
                    "the scores scaled by 1/sqrt(head width)", softmax.name)
    args = scale.args()
    x, y = args["x"], args["y"]
    if _is_tensor(y) or not _is_tensor(x):
        raise _not_vit("%s: expected scores %s a constant", scale.name,
                       "/" if scale.kind == "tf.truediv" else "*")
    factor = float(_constant(y, "scale", scale))
    if scale.kind == "tf.truediv":
        factor = 1.0 / factor
    scores = _expect(graph, x, ("tf.matmul",), "the matmul q k^T",
                     scale.name)
    q, k = _matmul(scores, transpose_b=True)

    # q, k and v are slices of one transposed reshape of the q/k/v Dense.
    slices = {}
    split = None
    for role, operand, user in (("q", q, scores), ("k", k, scores),
                                ("v", v, weighted)):
        call = _expect(graph, operand, ("tf.getitem",),
                       "%s = qkv[i] of the transposed q/k/v projection" %
                       role, user.name)
        index = _getitem_index(call)
        if index not in (0, 1, 2):
            raise _not_vit("%s: expected qkv[0], qkv[1] or qkv[2] for %s",
                           call.name, role)
        source = graph.skip(call.input())
        if split is None:
            split = source
        elif _key(source) != _key(split):
            raise _not_vit("%s slices %s from another tensor than q's",
                           call.name, role)
        slices[role] = index
    if sorted(slices.values()) != [0, 1, 2]:
        raise _not_vit("q, k and v take slices %s of the q/k/v projection; "
                       "expected each of 0, 1, 2 once", slices)
    transpose = _expect(graph, split, ("tf.transpose",),
                        "tf.transpose of the q/k/v projection", "q, k, v")
    perm = _transpose_perm(transpose)
    unpack = _expect(graph, transpose.input(), ("tf.reshape", "Reshape"),
                     "the reshape of the q/k/v projection to "
                     "[B, T, 3, heads, D/heads]", transpose.name)
    target = _reshape_target(unpack)
    qkv, block.qkv_w, block.qkv_b, _ = _dense(graph, unpack.input(),
                                              "fused q/k/v", unpack.name)
    block.qkv_name = qkv.name
    width = block.qkv_w.shape[0]
    if block.qkv_w.shape[1] != 3 * width:
        raise _not_vit("%s (the fused q/k/v projection) has %d outputs for "
                       "width %d, expected %d", qkv.name,
                       block.qkv_w.shape[1], width, 3 * width)
    # [B, T, a, b, c] transposed with perm to [3, B, heads, T, head width]:
    # perm[0] is the q/k/v axis, perm[2] the heads, perm[4] the head width.
    if (len(target) != 4 or len(perm) != 5 or perm[1] != 0 or perm[3] != 1
            or sorted((perm[0], perm[2], perm[4])) != [2, 3, 4]):
        raise _not_vit("%s (shape [B] + %s) and %s (perm %s) do not split "
                       "the q/k/v projection into [3, B, heads, T, head "
                       "width]", unpack.name, target, transpose.name, perm)
    sizes = list(target[1:])
    if None in sizes:
        sizes[sizes.index(None)] = width * 3 // max(
            1, int(np.prod([s for s in sizes if s is not None])))
    role_axis, head_axis, dim_axis = perm[0] - 2, perm[2] - 2, perm[4] - 2
    heads, head_width = sizes[head_axis], sizes[dim_axis]
    if (sizes[role_axis] != 3 or heads * head_width != width
            or np.prod(sizes) != 3 * width):
        raise _not_vit("%s splits the %d q/k/v outputs into %s, expected 3, "
                       "heads and head width with heads * head width = %d",
                       unpack.name, 3 * width, sizes, width)
    if len(merged) != 2 or merged[1] != width:
        raise _not_vit("%s reshapes the heads to [B] + %s, expected "
                       "[B, T, %d]", merge.name, merged, width)
    expected = 1.0 / math.sqrt(head_width)
    if abs(factor - expected) > 1e-6 * expected:
        raise _not_vit("%s scales the scores by %.9g, expected 1/sqrt(%d) = "
                       "%.9g", scale.name, factor, head_width, expected)
    block.heads = heads
    # vitc's fused qkv (timm): row r*D + h*d + j is role r (q, k, v), head
    # h, element j. Find the Keras output column of each.
    index = np.indices((3, heads, head_width)).reshape(3, -1)
    coords = [None, None, None]
    coords[role_axis] = np.array([slices[r] for r in "qkv"])[index[0]]
    coords[head_axis] = index[1]
    coords[dim_axis] = index[2]
    columns = np.ravel_multi_index(coords, sizes)
    block.qkv_w = block.qkv_w[:, columns]
    if block.qkv_b is not None:
        block.qkv_b = block.qkv_b[columns]
    norm, block.norm1_g, block.norm1_b, block.norm1_eps = _layer_norm(
        graph, qkv.input(), "first (pre-attention)", qkv.name)
    block.norm1_name = norm.name
    return norm.input()


def _residual(graph, call, what):
    """(branch, skip) of a residual Add: the branch is computed from the
    skip."""
    operands = _add_operands(call)
    if operands is None or not all(_is_tensor(o) for o in operands):
        raise _not_vit("%s: expected the residual addition of the %s",
                       call.name, what)
    a, b = operands
    if _key(graph.skip(b)) in graph.ancestors(a):
        return a, b
    if _key(graph.skip(a)) in graph.ancestors(b):
        return b, a
    raise _not_vit("%s adds two tensors neither of which is computed from "
                   "the other: not the residual addition of the %s",
                   call.name, what)


def _block(graph, tensor):
    """One encoder block, read backward from its output. Returns (block,
    the block's input tensor)."""
    outer = graph.call(graph.skip(tensor))
    branch, skip = _residual(graph, outer, "MLP branch")
    block, source = _mlp_branch(graph, branch, outer.name)
    if _key(graph.skip(source)) != _key(graph.skip(skip)):
        raise _not_vit("%s (the pre-MLP LayerNormalization) does not read "
                       "the tensor %s adds its branch to", block.norm2_name,
                       outer.name)
    inner = graph.call(graph.skip(skip))
    branch, skip = _residual(graph, inner, "attention branch")
    source = _attention_branch(graph, branch, block, inner.name)
    if _key(graph.skip(source)) != _key(graph.skip(skip)):
        raise _not_vit("%s (the pre-attention LayerNormalization) does not "
                       "read the tensor %s adds its branch to",
                       block.norm1_name, inner.name)
    block.add_names = (inner.name, outer.name)
    return block, skip


def _rows_equal(array):
    return all(np.array_equal(array[0], row) for row in array[1:])


def _class_token(graph, operand, concat):
    """The class token from the first operand of the concatenation: a
    constant (tf.broadcast_to of the token, evaluated when the model was
    built) or a tf.broadcast_to layer of one."""
    if _is_tensor(operand):
        call = graph.call(graph.skip(operand))
        if call.kind != "tf.broadcast_to":
            raise ExportError(
                "class token not found: %s concatenates %s first, expected "
                "the class token (a constant, or tf.broadcast_to of it)" %
                (concat.name, call.name))
        value = call.args()["input"]
        if _is_tensor(value):
            raise ExportError("class token not found: %s broadcasts a "
                              "computed tensor, not a weight" % call.name)
        return _constant(value, "class token", call), call.name
    return _constant(operand, "class token", concat), concat.name


def _embedding(graph, tensor, consumer):
    """Patches, class token and position embedding, read backward from the
    input of the first block."""
    pos_call = graph.call(graph.skip(tensor))
    operands = _add_operands(pos_call)
    if operands is None:
        raise ExportError(
            "position embedding not found: %s feeds %s, expected the "
            "addition of the position embedding (tf.add(x, pos_embed)) to "
            "the class token and patches" % (pos_call.name, consumer))
    constants = [o for o in operands if not _is_tensor(o)]
    tensors = [o for o in operands if _is_tensor(o)]
    if len(constants) != 1 or len(tensors) != 1:
        raise ExportError(
            "position embedding not found: %s adds %s, expected one tensor "
            "and the position embedding (a weight)" %
            (pos_call.name, "two computed tensors" if len(tensors) == 2
             else "two constants"))
    pos = _constant(constants[0], "position embedding", pos_call)
    concat = graph.call(graph.skip(tensors[0]))
    if concat.kind == "Concatenate":
        parts, axis = concat.first_arg(), concat.layer.axis
    elif concat.kind == "tf.concat":
        args = concat.args()
        parts, axis = args["values"], args["axis"]
    else:
        raise ExportError(
            "class token not found: %s adds the position embedding to %s, "
            "expected the concatenation of the class token and the patches "
            "(layers.concatenate([cls_token, x], axis=1))" %
            (pos_call.name, concat.name))
    if not isinstance(parts, (list, tuple)) or len(parts) != 2:
        raise ExportError("class token not found: %s concatenates %s "
                          "tensors, expected the class token and the "
                          "patches" % (concat.name, len(parts)))
    if axis not in (1, -2):
        raise _not_vit("%s concatenates along axis %s, expected 1 (tokens)",
                       concat.name, axis)
    if not _is_tensor(parts[1]):
        raise ExportError("class token not found: %s concatenates a "
                          "constant after the patches; the class token must "
                          "come first" % concat.name)
    cls, cls_source = _class_token(graph, parts[0], concat)
    patches = parts[1]

    flat = _expect(graph, patches, ("tf.reshape", "Reshape"),
                   "the reshape of the patch grid to [B, N, D]", concat.name)
    conv = _expect(graph, flat.input(), ("Conv2D",),
                   "the patch embedding Conv2D", flat.name)
    _check_dtype(conv)
    return pos_call, pos, cls, cls_source, flat, conv


def _patch_embedding(graph, conv, flat, model):
    layer = conv.layer
    if layer.data_format != "channels_last":
        raise _not_vit("%s is %s, expected channels_last (NHWC)", conv.name,
                       layer.data_format)
    kernel = layer.kernel.numpy()
    patch_h, patch_w, channels, width = kernel.shape
    if (patch_h != patch_w or tuple(layer.strides) != (patch_h, patch_w)
            or tuple(layer.dilation_rate) != (1, 1)
            or getattr(layer, "groups", 1) != 1):
        raise _not_vit("%s has kernel %dx%d, strides %s, dilation %s, groups "
                       "%s; expected a square kernel with strides equal to "
                       "it, no dilation, one group", conv.name, patch_h,
                       patch_w, tuple(layer.strides),
                       tuple(layer.dilation_rate), getattr(layer, "groups",
                                                           1))
    if _activation_name(layer) != "linear":
        raise _not_vit("%s has activation '%s', expected none", conv.name,
                       _activation_name(layer))
    image = conv.input()
    if _key(image) != _key(model.inputs[0]):
        raise _not_vit("%s reads %s, expected the model's input (no "
                       "preprocessing layers)", conv.name,
                       _describe(image._keras_history.layer))
    shape = list(image.shape)
    if len(shape) != 4 or shape[1] is None or shape[1] != shape[2]:
        raise _not_vit("the input %s has shape %s, expected a square NHWC "
                       "image [B, S, S, C]", model.inputs[0].name, shape)
    size = shape[1]
    if size % patch_h:
        raise ExportError(
            "%s: image size %d is not a multiple of the patch size %d; with "
            "padding='%s' the convolution would %s, which vitc does not "
            "compute" % (conv.name, size, patch_h, layer.padding,
                         "pad the image" if layer.padding == "same"
                         else "drop the last pixels"))
    # With stride = kernel = P and P dividing S, 'same' pads nothing:
    # ((S/P - 1) * P + P - S) = 0 pixels, so it equals 'valid'.
    if layer.padding not in ("same", "valid"):
        raise _not_vit("%s has padding '%s'", conv.name, layer.padding)
    grid = size // patch_h
    target = _reshape_target(flat)
    if target not in ([grid * grid, width], [None, width]):
        raise _not_vit("%s reshapes the %dx%d patch grid to [B] + %s, "
                       "expected [B, %d, %d]", flat.name, grid, grid, target,
                       grid * grid, width)
    bias = (layer.bias.numpy() if layer.use_bias
            else np.zeros(width, np.float32))
    return kernel, bias, size, patch_h, channels, width


def _fix_embedding(array, shape, what, where):
    """A class token or position embedding, as captured (possibly
    broadcast over the batch, or without the batch axis), as ``shape``."""
    if array.ndim == len(shape) - 1:
        array = array[np.newaxis]
    if array.ndim == len(shape) and array.shape[0] > 1 and \
            array.shape[1:] == tuple(shape[1:]):
        if not _rows_equal(array):
            raise ExportError("%s: the %s differs between the images of "
                              "the batch" % (where, what))
        array = array[:1]
    if array.shape != tuple(shape):
        raise ExportError("%s: the %s has shape %s, expected %s" %
                          (where, what, list(array.shape), list(shape)))
    return np.ascontiguousarray(array, dtype=np.float32)


def read_model(model, *, class_token=None, position_embedding=None):
    """Reads a tf_keras ViT of the article's construction.

    Returns ``(config, tensors)``: vitc's model config as a dict (every
    field but the name, the pixel statistics and the labels, which the
    model does not hold) and ``{vitc tensor name: float32 array}``.

    ``class_token`` ([1, 1, D]) and ``position_embedding`` ([1, T, D])
    replace the values found in the model: for a model rebuilt from code
    whose weights were loaded from a ``save_weights`` file, which does not
    hold them. Raises ``ExportError`` (naming the layer) when the model
    differs from the construction.
    """
    tf, keras = _import_tensorflow()
    if not isinstance(model, keras.Model):
        module = type(model).__module__
        if module.startswith("keras"):
            raise ExportError(
                "%s is a Keras 3 model; the construction uses TensorFlow "
                "ops on symbolic tensors, which needs tf_keras (Keras 2): "
                "build it with tf_keras, or TF_USE_LEGACY_KERAS=1" %
                type(model).__name__)
        raise ExportError("expected a tf_keras Model, got %s.%s" %
                          (module, type(model).__name__))
    if not getattr(model, "_is_graph_network", False):
        raise _not_vit("%s '%s' is a subclassed model; vitc.keras reads "
                       "functional models (keras.Model(inputs, outputs))",
                       type(model).__name__, model.name)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise _not_vit("model '%s' has %d inputs and %d outputs, expected "
                       "one image input and the logits", model.name,
                       len(model.inputs), len(model.outputs))
    graph = _Graph(model, keras)

    head, head_w, head_b, _ = _dense(graph, model.outputs[0], "classifier",
                                     "the model output")
    if head_w.ndim != 2:
        raise _not_vit("%s has a kernel of shape %s", head.name,
                       list(head_w.shape))
    pick = _expect(graph, head.input(), ("tf.getitem",),
                   "the class token x[:, 0] of the final LayerNormalization",
                   head.name)
    if not _is_class_token_slice(pick):
        raise _not_vit("%s feeds %s but is not x[:, 0] (the class token)",
                       pick.name, head.name)
    norm, norm_g, norm_b, eps = _layer_norm(graph, pick.input(), "final",
                                            pick.name)
    epsilons = [(eps, norm.name)]

    blocks = []
    tensor = norm.input()
    consumer = norm.name
    while _add_operands(graph.call(graph.skip(tensor))) is not None:
        call = graph.call(graph.skip(tensor))
        operands = _add_operands(call)
        if not all(_is_tensor(o) for o in operands):
            break  # the position embedding's addition: no more blocks
        block, tensor = _block(graph, tensor)
        consumer = block.norm1_name
        blocks.append(block)
    blocks.reverse()
    if not blocks:
        raise _not_vit("%s feeds the final LayerNormalization (%s), "
                       "expected an encoder block's residual addition",
                       graph.call(graph.skip(tensor)).name, norm.name)

    (pos_call, pos, cls, cls_where, flat, conv) = _embedding(
        graph, tensor, consumer)
    kernel, patch_b, size, patch, channels, width = _patch_embedding(
        graph, conv, flat, model)
    tokens = (size // patch) ** 2 + 1

    config = {
        "image_size": int(size),
        "patch_size": int(patch),
        "channels": int(channels),
        "hidden_size": int(width),
        "depth": len(blocks),
        "num_heads": int(blocks[0].heads),
        "mlp_dim": int(blocks[0].fc1_w.shape[1]),
        "num_classes": int(head_w.shape[1]),
        "qkv_bias": blocks[0].qkv_b is not None,
        "layer_norm_eps": None,
        "input_layout": "nhwc",
        "kernel_layout": "hwio",
        "gelu": blocks[0].gelu,
    }
    tensors = {
        "patch_embed.proj.weight": kernel,
        "patch_embed.proj.bias": patch_b,
        "norm.weight": norm_g,
        "norm.bias": norm_b,
        "head.weight": head_w.T,
        "head.bias": (head_b if head_b is not None
                      else np.zeros(head_w.shape[1], np.float32)),
    }
    if class_token is not None:
        cls, cls_where = np.asarray(class_token, np.float32), "class_token"
    if position_embedding is not None:
        pos, pos_where = (np.asarray(position_embedding, np.float32),
                          "position_embedding")
    else:
        pos_where = pos_call.name
    tensors["cls_token"] = _fix_embedding(cls, (1, 1, width), "class token",
                                          cls_where)
    tensors["pos_embed"] = _fix_embedding(pos, (1, tokens, width),
                                          "position embedding", pos_where)

    mlp = config["mlp_dim"]
    for i, block in enumerate(blocks):
        prefix = "blocks.%d." % i
        for field, value, where in (
                ("num_heads", block.heads, block.qkv_name),
                ("mlp_dim", block.fc1_w.shape[1], block.fc1_name),
                ("qkv_bias", block.qkv_b is not None, block.qkv_name),
                ("gelu", block.gelu, block.fc2_name)):
            if value != config[field]:
                raise ExportError(
                    "%s (block %d) has %s %s, block 0 has %s; vitc compiles "
                    "blocks that are all alike" % (where, i, field, value,
                                                   config[field]))
        expected = {block.qkv_name: (width, 3 * width),
                    block.proj_name: (width, width),
                    block.fc1_name: (width, mlp),
                    block.fc2_name: (mlp, width)}
        for (where, shape), array in zip(
                expected.items(), (block.qkv_w, block.proj_w, block.fc1_w,
                                   block.fc2_w)):
            if array.shape != shape:
                raise _not_vit("%s (block %d) has a kernel of shape %s, "
                               "expected %s", where, i, list(array.shape),
                               list(shape))
        epsilons += [(block.norm1_eps, block.norm1_name),
                     (block.norm2_eps, block.norm2_name)]
        tensors[prefix + "norm1.weight"] = block.norm1_g
        tensors[prefix + "norm1.bias"] = block.norm1_b
        tensors[prefix + "attn.qkv.weight"] = block.qkv_w.T
        if block.qkv_b is not None:
            tensors[prefix + "attn.qkv.bias"] = block.qkv_b
        tensors[prefix + "attn.proj.weight"] = block.proj_w.T
        tensors[prefix + "attn.proj.bias"] = (
            block.proj_b if block.proj_b is not None
            else np.zeros(width, np.float32))
        tensors[prefix + "norm2.weight"] = block.norm2_g
        tensors[prefix + "norm2.bias"] = block.norm2_b
        tensors[prefix + "mlp.fc1.weight"] = block.fc1_w.T
        tensors[prefix + "mlp.fc1.bias"] = (
            block.fc1_b if block.fc1_b is not None
            else np.zeros(mlp, np.float32))
        tensors[prefix + "mlp.fc2.weight"] = block.fc2_w.T
        tensors[prefix + "mlp.fc2.bias"] = (
            block.fc2_b if block.fc2_b is not None
            else np.zeros(width, np.float32))
    if head_w.shape[0] != width:
        raise _not_vit("%s (the classifier) reads %d features, expected the "
                       "width %d", head.name, head_w.shape[0], width)

    eps, where = epsilons[0]
    for other, other_where in epsilons[1:]:
        if other != eps:
            raise ExportError(
                "%s has epsilon %g but %s has %g; vitc uses one layer-norm "
                "epsilon for the whole model" % (other_where, other, where,
                                                 eps))
    config["layer_norm_eps"] = eps

    for name, array in tensors.items():
        if not np.all(np.isfinite(array)):
            raise ExportError("tensor %s holds a NaN or an infinity" % name)
        tensors[name] = np.ascontiguousarray(array, dtype=np.float32)
    return config, tensors


def export(model, out_dir, *, name=None, pixel_mean=None, pixel_std=None,
           labels=None, class_token=None, position_embedding=None):
    """Writes ``out_dir/model.safetensors`` and ``out_dir/config.json``
    for a tf_keras ViT of the article's construction (see the module
    docstring) and returns the config written (a dict).

    name
        The config's ``name`` (the artifact's model name); default the
        Keras model's name.
    pixel_mean, pixel_std
        Per-channel statistics that vit-run normalises image files with
        (``(pixel - mean) / std`` on [0, 1] pixels); the model holds no
        preprocessing, so these are not read from it. Default 0.5 for every
        channel, i.e. images scaled to [-1, 1], as the ``vit-b16-keras``
        preset.
    labels
        Optional class names, one per class, written as the config's
        ``labels``.
    class_token, position_embedding
        Replace the values found in the model (see ``read_model``).

    ``out_dir`` is created if needed; the two files in it are replaced.
    Raises ``ExportError`` when the model is not of the construction.
    """
    config, tensors = read_model(model, class_token=class_token,
                                 position_embedding=position_embedding)
    channels = config["channels"]
    full = {"name": name if name is not None else model.name}
    full.update(config)
    for key, values in (("pixel_mean", pixel_mean), ("pixel_std", pixel_std)):
        if values is None:
            values = [0.5] * channels
        values = [float(v) for v in values]
        if len(values) != channels:
            raise ValueError("%s needs one value per channel (%d), got %d" %
                             (key, channels, len(values)))
        full[key] = values
    if labels is not None:
        labels = [str(label) for label in labels]
        if len(labels) != config["num_classes"]:
            raise ValueError("labels: %d names for %d classes" %
                             (len(labels), config["num_classes"]))
        full["labels"] = labels
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _safetensors.write(out / WEIGHTS_FILE, tensors)
    (out / CONFIG_FILE).write_text(json.dumps(full, indent=2) + "\n")
    return full


# --- Model files -------------------------------------------------------------

def _loading_constants(tf, keras):
    """A context manager under which a saved Concatenate of a constant and
    a tensor loads.

    A saved model records the constant class token in the Concatenate's
    call as a nested list, and tf_keras (2.21) calls the rebuilt layer with
    that list as it is, which Concatenate rejects ("should be called on a
    list of at least 1 input"). Converting lists to tensors while loading
    gives back the layer call the model was built with."""
    import contextlib

    @contextlib.contextmanager
    def scope():
        cls = keras.layers.Concatenate
        original = cls.__call__

        def call(self, inputs, *args, **kwargs):
            if isinstance(inputs, (list, tuple)):
                inputs = [i if _is_tensor(i) or tf.is_tensor(i)
                          else tf.constant(np.asarray(i, np.float32))
                          for i in inputs]
            return original(self, inputs, *args, **kwargs)

        cls.__call__ = call
        try:
            yield
        finally:
            cls.__call__ = original

    return scope()


_WEIGHTS_ONLY = (
    "%s holds weights only (Model.save_weights), without the model; and "
    "save_weights does not store the class token and position embedding of "
    "this construction (they are not in model.weights). Rebuild the model "
    "with its code and export from there: python -m vitc.keras build.py OUT "
    "--weights %s --class-token CLS.npy --position-embedding POS.npy (see "
    "docs/keras.md)")


def load_model(path):
    """Loads a full tf_keras model file: ``.h5``/``.hdf5``, ``.keras`` or
    a SavedModel directory (what ``Model.save`` writes), with the
    workaround that lets a constant class token load."""
    tf, keras = _import_tensorflow()
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError("%s does not exist" % path)
    if path.suffix in (".h5", ".hdf5"):
        import h5py
        with h5py.File(path, "r") as f:
            if "model_config" not in f.attrs:
                raise ExportError(_WEIGHTS_ONLY % (path, path))
    if path.is_dir() and not (path / "saved_model.pb").exists():
        raise ExportError("%s is a directory without saved_model.pb: not a "
                          "SavedModel" % path)
    with _loading_constants(tf, keras):
        model = keras.models.load_model(path, compile=False)
    if not isinstance(model, keras.Model):
        raise ExportError("%s did not load as a tf_keras Model (got %s): "
                          "save it with tf_keras' Model.save" %
                          (path, type(model).__name__))
    return model


def _run_script(path):
    """The model a Python file builds: its global ``model``, or what its
    ``build_model()`` returns."""
    import runpy
    scope = runpy.run_path(str(path), run_name="__vitc_keras__")
    if "model" in scope:
        return scope["model"]
    if callable(scope.get("build_model")):
        return scope["build_model"]()
    raise ExportError("%s defines neither `model` nor `build_model()`" %
                      path)


def _floats(text):
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            "expected comma-separated numbers, got %r" % text) from None


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m vitc.keras",
        description="Exports a tf_keras ViT of the Keras article's "
        "construction to a vitc model folder: OUT_DIR/model.safetensors "
        "and OUT_DIR/config.json (docs/keras.md).",
        epilog="Compile the folder with: vitc --config OUT_DIR/config.json "
        "--weights OUT_DIR/model.safetensors -o model.vitb")
    parser.add_argument(
        "model_file", metavar="MODEL_FILE",
        help="a full model saved by tf_keras (.h5, .keras or a SavedModel "
        "directory), or a Python file that builds it (defining `model` or "
        "`build_model()`)")
    parser.add_argument("out_dir", metavar="OUT_DIR")
    parser.add_argument("--weights", metavar="FILE",
                        help="with a Python file: load these weights "
                        "(Model.load_weights) into the model it builds")
    parser.add_argument("--class-token", metavar="NPY",
                        help="the class token [1, 1, D] as .npy, replacing "
                        "the model's")
    parser.add_argument("--position-embedding", metavar="NPY",
                        help="the position embedding [1, T, D] as .npy, "
                        "replacing the model's")
    parser.add_argument("--built-embeddings", action="store_true",
                        help="with --weights: keep the class token and "
                        "position embedding the code builds (the weights "
                        "file does not hold them)")
    parser.add_argument("--name", help="the config's model name (default: "
                        "the Keras model's)")
    parser.add_argument("--pixel-mean", type=_floats, metavar="M,M,M",
                        help="per-channel mean of [0, 1] pixels for vit-run "
                        "(default 0.5 each)")
    parser.add_argument("--pixel-std", type=_floats, metavar="S,S,S",
                        help="per-channel std (default 0.5 each)")
    parser.add_argument("--labels", metavar="FILE",
                        help="class names, one per line")
    args = parser.parse_args(argv)

    def fail(message):
        print("python -m vitc.keras: error: %s" % message, file=sys.stderr)
        return 1

    path = pathlib.Path(args.model_file)
    if not path.exists():
        return fail("%s does not exist" % path)
    script = path.suffix == ".py"
    if args.weights and not script:
        return fail("--weights goes with a Python file that builds the "
                    "model; %s is a model file" % path)
    if (args.weights and not args.built_embeddings and
            (args.class_token is None or args.position_embedding is None)):
        return fail("a weights file does not hold the class token and the "
                    "position embedding of this construction (save_weights "
                    "drops them: they are not in model.weights); pass "
                    "--class-token and --position-embedding, or "
                    "--built-embeddings to keep the values %s builds" % path)
    labels = None
    if args.labels:
        labels = [line.rstrip("\r\n") for line in
                  pathlib.Path(args.labels).read_text().splitlines()]
    try:
        overrides = {}
        for key, option in (("class_token", args.class_token),
                            ("position_embedding", args.position_embedding)):
            if option is not None:
                overrides[key] = np.load(option)
        if script:
            model = _run_script(path)
            if args.weights:
                model.load_weights(args.weights)
        else:
            model = load_model(path)
        config = export(model, args.out_dir, name=args.name,
                        pixel_mean=args.pixel_mean, pixel_std=args.pixel_std,
                        labels=labels, **overrides)
    except (ExportError, ValueError, OSError, ImportError) as error:
        return fail(error)
    out = pathlib.Path(args.out_dir)
    print("wrote %s and %s: %s, image %d, patch %d, width %d, depth %d, "
          "heads %d, mlp %d, %d classes, qkv bias %s, layer-norm eps %g, "
          "%s GELU" % (out / CONFIG_FILE, out / WEIGHTS_FILE, config["name"],
                       config["image_size"], config["patch_size"],
                       config["hidden_size"], config["depth"],
                       config["num_heads"], config["mlp_dim"],
                       config["num_classes"],
                       "yes" if config["qkv_bias"] else "no",
                       config["layer_norm_eps"], config["gelu"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
