"""vitc: compile Vision Transformers to .vitb artifacts from Python.

A thin wrapper over the ``vitc`` command line (the compiler links MLIR and
LLVM; calling the binary keeps this package pure Python). Run the result
with ``vitrt.Session``.

    import vitc, vitrt

    path = vitc.compile(model="vit-ti16", out="tiny.vitb",
                        random_weights=True,
                        extra_args=["--depth", "1", "--image-size", "32"])
    session = vitrt.Session(path)

See docs/python.md.
"""

from ._compile import (BINARY_ENV, BinaryNotFoundError, CompileError,
                       compile, find_binary)

# Kept equal to VITC_VERSION in the top-level CMakeLists.txt (a test checks).
__version__ = "0.1.0"

__all__ = [
    "BINARY_ENV",
    "BinaryNotFoundError",
    "CompileError",
    "compile",
    "find_binary",
]
