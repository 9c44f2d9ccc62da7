"""vitrt: run vitc's compiled models (.vitb) from Python.

A thin ctypes layer over the runtime's C API (include/vitc/Runtime/vitrt.h):
no compiler or build step, and ctypes releases the GIL during every call
into the runtime, so models run in parallel with other Python threads.

    import numpy as np, vitrt

    with vitrt.Session("model.vitb", threads=4) as session:
        x = np.zeros(session.input_shape, dtype=np.float32)
        logits = session.run(x)
        print(vitrt.topk(logits, 5))

See docs/python.md.
"""

from ._library import LIBRARY_ENV, LibraryNotFoundError, find_library
from ._library import loaded_path as library_path
from ._session import Error, KernelProfile, Session, Status, TensorInfo
from ._topk import TopK, topk

# Kept equal to VITC_VERSION in the top-level CMakeLists.txt (a test checks).
__version__ = "0.1.0"

__all__ = [
    "Error",
    "KernelProfile",
    "LIBRARY_ENV",
    "LibraryNotFoundError",
    "Session",
    "Status",
    "TensorInfo",
    "TopK",
    "find_library",
    "library_path",
    "topk",
]
