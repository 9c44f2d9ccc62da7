"""Finding and loading libvitrt.so, and the C API's prototypes.

The library is looked for, in order:

1. ``VITRT_LIBRARY``: an explicit path. When it is set, nothing else is
   tried: a wrong path is an error, not a reason to load some other copy.
2. The copy bundled in the installed package (``vitrt/_lib/libvitrt.so``,
   put there by ``pip install ./python`` from a build).
3. ``build/lib/libvitrt.so`` of the source tree this file is in (when it is
   in one: ``python/vitrt`` of a vitc checkout), so that the package runs
   from a checkout (``PYTHONPATH=python``) without installing.

The library is opened with ``ctypes.CDLL``, which releases the GIL around
every call into it: while one Python thread runs a model (or loads one),
the others keep running.
"""

import ctypes
import os
import pathlib
import threading

LIBRARY_ENV = "VITRT_LIBRARY"
LIBRARY_NAME = "libvitrt.so"

_PACKAGE_DIR = pathlib.Path(__file__).resolve().parent
BUNDLED_PATH = _PACKAGE_DIR / "_lib" / LIBRARY_NAME


def source_tree():
    """The vitc checkout this package is in (python/vitrt), or None for an
    installed package."""
    root = _PACKAGE_DIR.parent.parent
    marker = root / "include" / "vitc" / "Runtime" / "vitrt.h"
    return root if _PACKAGE_DIR.parent.name == "python" and \
        marker.is_file() else None


class LibraryNotFoundError(OSError):
    """libvitrt.so could not be found or loaded.

    An installation problem rather than a runtime error, so it is an
    ``OSError`` and not a ``vitrt.Error``; the message lists where the
    library was looked for.
    """


def candidates():
    """The paths tried, in order, each with where it comes from."""
    explicit = os.environ.get(LIBRARY_ENV)
    if explicit:
        return [(pathlib.Path(explicit), LIBRARY_ENV + "=" + explicit)]
    tried = [(BUNDLED_PATH, "the copy bundled in the package")]
    root = source_tree()
    if root is not None:
        tried.append((root / "build" / "lib" / LIBRARY_NAME,
                      "the build of the source tree"))
    return tried


def find_library():
    """The path of the libvitrt.so that would be loaded.

    Raises LibraryNotFoundError naming every place looked at.
    """
    tried = candidates()
    for path, _ in tried:
        if path.is_file():
            return path
    if os.environ.get(LIBRARY_ENV):
        raise LibraryNotFoundError(
            "%s does not exist (set by %s)" % (tried[0][0], LIBRARY_ENV))
    raise LibraryNotFoundError(
        "libvitrt.so not found; looked for %s. Build vitc "
        "(scripts/setup.sh), install this package from a build "
        "(pip install ./python), or set %s to the library's path" %
        (", ".join("%s (%s)" % (path, what) for path, what in tried),
         LIBRARY_ENV))


class CTensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p),
                ("rank", ctypes.c_int),
                ("dims", ctypes.POINTER(ctypes.c_int64))]


class Options(ctypes.Structure):
    _fields_ = [("num_threads", ctypes.c_int),
                ("device", ctypes.c_int),
                ("cuda_driver", ctypes.c_char_p)]


class CKernelProfile(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p),
                ("multiply_accumulates", ctypes.c_int64),
                ("bytes_bound", ctypes.c_int64),
                ("dispatches", ctypes.c_int64),
                ("seconds", ctypes.c_double)]


_SESSION = ctypes.c_void_p
_STATUS = ctypes.c_int

# name: (restype, argtypes), from include/vitc/Runtime/vitrt.h.
_PROTOTYPES = {
    "vitrt_options_init": (None, [ctypes.POINTER(Options)]),
    "vitrt_last_error": (ctypes.c_char_p, []),
    "vitrt_session_create_from_file":
        (_STATUS, [ctypes.c_char_p, ctypes.POINTER(Options),
                   ctypes.POINTER(_SESSION)]),
    "vitrt_session_create_from_memory":
        (_STATUS, [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(Options),
                   ctypes.POINTER(_SESSION)]),
    "vitrt_session_destroy": (None, [_SESSION]),
    "vitrt_session_input_count": (ctypes.c_size_t, [_SESSION]),
    "vitrt_session_output_count": (ctypes.c_size_t, [_SESSION]),
    "vitrt_session_input_info":
        (_STATUS, [_SESSION, ctypes.c_size_t, ctypes.POINTER(CTensorInfo)]),
    "vitrt_session_output_info":
        (_STATUS, [_SESSION, ctypes.c_size_t, ctypes.POINTER(CTensorInfo)]),
    "vitrt_session_target_kind": (ctypes.c_char_p, [_SESSION]),
    "vitrt_session_target_name": (ctypes.c_char_p, [_SESSION]),
    "vitrt_session_model_name": (ctypes.c_char_p, [_SESSION]),
    "vitrt_session_input_layout": (ctypes.c_char_p, [_SESSION]),
    "vitrt_session_macs_per_image": (ctypes.c_int64, [_SESSION]),
    "vitrt_session_precision": (ctypes.c_char_p, [_SESSION]),
    "vitrt_session_pixel_mean":
        (ctypes.c_size_t,
         [_SESSION, ctypes.POINTER(ctypes.c_float), ctypes.c_size_t]),
    "vitrt_session_pixel_std":
        (ctypes.c_size_t,
         [_SESSION, ctypes.POINTER(ctypes.c_float), ctypes.c_size_t]),
    "vitrt_session_label_count": (ctypes.c_size_t, [_SESSION]),
    "vitrt_session_label": (ctypes.c_char_p, [_SESSION, ctypes.c_size_t]),
    "vitrt_session_run":
        (_STATUS, [_SESSION, ctypes.POINTER(ctypes.c_void_p),
                   ctypes.POINTER(ctypes.c_void_p)]),
    "vitrt_session_set_profiling": (_STATUS, [_SESSION, ctypes.c_int]),
    "vitrt_session_kernel_count": (ctypes.c_size_t, [_SESSION]),
    "vitrt_session_kernel_profile":
        (_STATUS, [_SESSION, ctypes.c_size_t,
                   ctypes.POINTER(CKernelProfile)]),
}

_lock = threading.Lock()
_library = None
_library_path = None


def load():
    """The loaded library with its prototypes set (loaded once)."""
    global _library, _library_path
    with _lock:
        if _library is not None:
            return _library
        path = find_library()
        try:
            library = ctypes.CDLL(str(path))
        except OSError as error:
            raise LibraryNotFoundError(
                "cannot load %s: %s" % (path, error)) from error
        for name, (restype, argtypes) in _PROTOTYPES.items():
            try:
                function = getattr(library, name)
            except AttributeError:
                raise LibraryNotFoundError(
                    "%s is not a compatible libvitrt: it lacks %s" %
                    (path, name)) from None
            function.restype = restype
            function.argtypes = argtypes
        _library, _library_path = library, path
        return library


def loaded_path():
    """The path of the loaded library (loading it if needed)."""
    load()
    return _library_path
