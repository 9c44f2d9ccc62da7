"""vitrt.Session: one loaded .vitb artifact, run on NumPy arrays."""

import ctypes
import enum
import os
import threading
from typing import NamedTuple, Tuple

import numpy as np

from . import _library


class Status(enum.IntEnum):
    """vitrt_status of include/vitc/Runtime/vitrt.h."""
    OK = 0
    IO = 1                  # the artifact file could not be read
    INVALID_ARTIFACT = 2    # corrupt, truncated or inconsistent bytes
    UNSUPPORTED = 3         # a newer format version, an unknown target, ...
    NO_DEVICE = 4           # a CUDA artifact and no usable driver or GPU
    INVALID_ARGUMENT = 5    # a caller mistake the runtime caught
    EXECUTION = 6           # loading or running kernels failed


class Error(RuntimeError):
    """A failure reported by the runtime.

    ``str(error)`` is vitrt's one-line message (``vitrt_last_error()``),
    ``error.status`` the ``Status`` it returned, so that callers can tell,
    say, a corrupt file (``INVALID_ARTIFACT``) from a missing GPU
    (``NO_DEVICE``) without parsing the message.
    """

    def __init__(self, status, message):
        try:
            status = Status(status)
        except ValueError:
            pass  # a status newer than this package: keep the number
        super().__init__(message)
        self.status = status
        self.message = message

    def __repr__(self):
        status = getattr(self.status, "name", self.status)
        return "vitrt.Error(%s, %r)" % (status, self.message)


class KernelProfile(NamedTuple):
    """One kernel's time since profiling was turned on (Session.profile)."""
    name: str
    dispatches: int
    seconds: float
    multiply_accumulates: int  # of one dispatch
    bytes_bound: int  # by one dispatch: inputs, weights and output


class TensorInfo(NamedTuple):
    """A model input or output: its name and shape (fp32, row-major)."""
    name: str
    shape: Tuple[int, ...]


def _text(value):
    return value.decode("utf-8", "replace") if value is not None else ""


def _check(library, status):
    if status != Status.OK:
        # vitrt_last_error() is per thread, and ctypes calls run on the
        # calling thread: this is the message of the call just made.
        raise Error(status, _text(library.vitrt_last_error()))


def _parse_device(device):
    """(kind, ordinal) of the `device` argument; kind None accepts any."""
    if device is None:
        return None, 0
    if isinstance(device, bool) or \
            not isinstance(device, (int, np.integer, str)):
        raise TypeError("device must be None, 'cpu', 'cuda', 'cuda:N' or a "
                        "CUDA device ordinal, got %r" % (device,))
    if not isinstance(device, str):
        kind, ordinal = "cuda", int(device)
    elif device == "cpu":
        return "cpu", 0
    elif device == "cuda":
        kind, ordinal = "cuda", 0
    elif device.startswith("cuda:") and device[5:].isdigit():
        kind, ordinal = "cuda", int(device[5:])
    else:
        raise ValueError("device must be 'cpu', 'cuda', 'cuda:N' or a CUDA "
                         "device ordinal, got %r" % (device,))
    if ordinal < 0:
        raise ValueError("the CUDA device ordinal must be >= 0, got %d" %
                         ordinal)
    return kind, ordinal


def _shape(shape):
    return "(%s)" % ", ".join(str(d) for d in shape) if len(shape) != 1 \
        else "(%d,)" % shape[0]


class Session:
    """A compiled model (.vitb) loaded by the runtime, ready to run.

    ``Session(artifact, threads=None, device=None, cuda_driver=None)``

    artifact
        The path of a ``.vitb`` file (``str`` or ``os.PathLike``), or its
        contents (``bytes``, ``bytearray``, ``memoryview``; copied by the
        runtime, so the buffer may be dropped afterwards).
    threads
        CPU worker threads of the session's pool; ``None`` or 0 uses every
        hardware thread. The result does not depend on it: a CPU run gives
        the same bits with any thread count.
    device
        Where to run. The target is fixed when the model is compiled
        (``vitc --target``), so this selects the CUDA device and checks the
        artifact is what the caller expects: ``None`` runs it wherever it
        was compiled for; ``'cpu'`` requires a CPU artifact; ``'cuda'``,
        ``'cuda:N'`` or ``N`` require a CUDA artifact and run it on device
        N (default 0).
    cuda_driver
        The libcuda-compatible library to run CUDA artifacts with (e.g.
        vitc's driver emulator); ``None``: ``$VITRT_CUDA_DRIVER`` or the
        system's ``libcuda.so.1``.

    Loading verifies the whole artifact (structure, checksums, CPU
    features); any problem raises ``vitrt.Error``. The GIL is released
    while loading and while running, so other Python threads proceed.

    One session runs one model call at a time: ``run`` takes a lock, so
    calls from several threads on one session are serialised. To run a
    model on several threads at once, give each thread its own Session.
    Close a session with ``close()`` or a ``with`` block to free its memory
    and threads at once rather than when it is garbage-collected.
    """

    def __init__(self, artifact, threads=None, device=None,
                 cuda_driver=None):
        self._handle = None
        self._lock = threading.Lock()
        if threads is None:
            threads = 0
        if isinstance(threads, bool) or \
                not isinstance(threads, (int, np.integer)):
            raise TypeError("threads must be an int or None, got %r" %
                            (threads,))
        threads = int(threads)
        if threads < 0:
            raise ValueError("threads must be >= 0 (0 or None: every "
                             "hardware thread), got %d" % threads)
        kind, ordinal = _parse_device(device)

        library = _library.load()
        self._library = library
        options = _library.Options()
        library.vitrt_options_init(ctypes.byref(options))
        options.num_threads = threads
        options.device = ordinal
        if cuda_driver is not None:
            options.cuda_driver = os.fsencode(cuda_driver)

        handle = ctypes.c_void_p()
        if isinstance(artifact, (str, os.PathLike)):
            path = os.fsencode(artifact)
            status = library.vitrt_session_create_from_file(
                path, ctypes.byref(options), ctypes.byref(handle))
        elif isinstance(artifact, (bytes, bytearray, memoryview)):
            data = artifact if isinstance(artifact, bytes) else \
                bytes(artifact)
            status = library.vitrt_session_create_from_memory(
                data, len(data), ctypes.byref(options), ctypes.byref(handle))
        else:
            raise TypeError("artifact must be a path or the artifact's "
                            "bytes, got %s" % type(artifact).__name__)
        _check(library, status)
        self._handle = handle

        self.inputs = self._tensors(library.vitrt_session_input_count,
                                    library.vitrt_session_input_info)
        self.outputs = self._tensors(library.vitrt_session_output_count,
                                     library.vitrt_session_output_info)
        self.target_kind = _text(library.vitrt_session_target_kind(handle))
        self.target_name = _text(library.vitrt_session_target_name(handle))
        self.model_name = _text(library.vitrt_session_model_name(handle))
        self.input_layout = _text(library.vitrt_session_input_layout(handle))
        self.precision = _text(library.vitrt_session_precision(handle))
        self.macs_per_image = int(library.vitrt_session_macs_per_image(handle))
        self.pixel_mean = self._floats(library.vitrt_session_pixel_mean)
        self.pixel_std = self._floats(library.vitrt_session_pixel_std)
        # The class names the artifact embeds (vitc --labels), or none.
        self.labels = tuple(
            _text(library.vitrt_session_label(handle, index))
            for index in range(library.vitrt_session_label_count(handle)))
        self.threads = threads
        self.device = "cpu" if self.target_kind == "cpu" else \
            "%s:%d" % (self.target_kind, ordinal)

        if kind is not None and kind != self.target_kind:
            description = "%s %s" % (self.target_kind, self.target_name)
            self.close()
            raise ValueError(
                "device=%r, but the artifact was compiled for %s; compile "
                "it with vitc --target %s" %
                (device, description,
                 "cpu" if kind == "cpu" else "cuda:sm_NN"))

    def _tensors(self, count, info):
        tensors = []
        for index in range(count(self._handle)):
            c_info = _library.CTensorInfo()
            _check(self._library,
                   info(self._handle, index, ctypes.byref(c_info)))
            # Copied: the runtime's strings and dims live in the artifact.
            shape = tuple(int(c_info.dims[d]) for d in range(c_info.rank))
            tensors.append(TensorInfo(_text(c_info.name), shape))
        return tuple(tensors)

    def _floats(self, getter):
        count = getter(self._handle, None, 0)
        values = (ctypes.c_float * count)()
        getter(self._handle, values, count)
        return tuple(float(v) for v in values)

    # -- what the artifact records -------------------------------------

    @property
    def input_shape(self):
        """The shape of the (first) input, e.g. (1, 3, 224, 224)."""
        return self.inputs[0].shape

    @property
    def output_shape(self):
        """The shape of the (first) output, the logits: (batch, classes)."""
        return self.outputs[0].shape

    @property
    def batch(self):
        """Images per run: the first dimension of the input."""
        return self.inputs[0].shape[0]

    @property
    def metadata(self):
        """Everything the runtime reports about the model, as a dict."""
        return {
            "model_name": self.model_name,
            "target_kind": self.target_kind,
            "target_name": self.target_name,
            "precision": self.precision,
            "input_layout": self.input_layout,
            "batch": self.batch,
            "macs_per_image": self.macs_per_image,
            "pixel_mean": self.pixel_mean,
            "pixel_std": self.pixel_std,
            "labels": self.labels,
            "inputs": [tensor._asdict() for tensor in self.inputs],
            "outputs": [tensor._asdict() for tensor in self.outputs],
        }

    # -- running ---------------------------------------------------------

    def _checked_input(self, info, array):
        """The array as the runtime reads it, or ValueError saying why not.

        float64 is refused rather than converted: the model computes in
        fp32, and a silent conversion would hide both the rounding and a
        full copy of the input on every call.
        """
        what = "input %r" % info.name
        if not isinstance(array, np.ndarray):
            raise TypeError("%s: expected a numpy.ndarray, got %s" %
                            (what, type(array).__name__))
        if array.dtype != np.float32:
            raise ValueError(
                "%s: expected dtype float32, got %s; convert it with "
                "x.astype(np.float32)" % (what, array.dtype.str
                                          if array.dtype.byteorder == ">"
                                          else array.dtype))
        if array.shape != info.shape:
            hint = ""
            if array.shape == info.shape[1:] and info.shape[0] == 1:
                hint = "; add the batch dimension: x[np.newaxis]"
            elif (len(array.shape) == 4 and len(info.shape) == 4 and
                  sorted(array.shape) == sorted(info.shape)):
                hint = "; the model takes %s" % self.input_layout
            raise ValueError("%s: expected shape %s, got %s%s" %
                             (what, _shape(info.shape), _shape(array.shape),
                              hint))
        # Views (transposed, sliced) are copied into the dense row-major
        # layout the runtime reads; dense arrays are passed as they are.
        return np.require(array, requirements=("C_CONTIGUOUS", "ALIGNED"))

    def run(self, x):
        """Runs the model on one input and returns its first output.

        ``x`` is a float32 array of exactly ``input_shape`` (in the model's
        ``input_layout``); the result is a new float32 array of
        ``output_shape``, the logits. Models with several inputs or
        outputs: ``run_all``.
        """
        if len(self.inputs) != 1:
            raise ValueError("the model has %d inputs; use run_all" %
                             len(self.inputs))
        return self.run_all([x])[0]

    def run_all(self, inputs):
        """Runs the model on every input (a sequence, in the order of
        ``inputs``) and returns the list of every output."""
        inputs = list(inputs)
        if len(inputs) != len(self.inputs):
            raise ValueError("expected %d input arrays, got %d" %
                             (len(self.inputs), len(inputs)))
        arrays = [self._checked_input(info, array)
                  for info, array in zip(self.inputs, inputs)]
        outputs = [np.empty(info.shape, dtype=np.float32)
                   for info in self.outputs]
        input_pointers = (ctypes.c_void_p * len(arrays))(
            *[array.ctypes.data for array in arrays])
        output_pointers = (ctypes.c_void_p * len(outputs))(
            *[array.ctypes.data for array in outputs])
        with self._lock:
            if self._handle is None:
                raise ValueError("the session is closed")
            # The GIL is released for the whole run (ctypes.CDLL); `arrays`
            # and `outputs` keep the buffers alive meanwhile.
            _check(self._library, self._library.vitrt_session_run(
                self._handle, input_pointers, output_pointers))
        return outputs

    # -- profiling -------------------------------------------------------

    def set_profiling(self, enabled):
        """Turns kernel profiling on (resetting the totals) or off (CPU
        sessions; a CUDA session raises Error with Status.UNSUPPORTED: its
        runs replay one captured graph). While it is on, every run adds
        each dispatch's wall time to its kernel's total."""
        with self._lock:
            if self._handle is None:
                raise ValueError("the session is closed")
            _check(self._library, self._library.vitrt_session_set_profiling(
                self._handle, 1 if enabled else 0))

    def profile(self):
        """Every kernel's KernelProfile, slowest first; zero times while
        profiling is off."""
        with self._lock:
            if self._handle is None:
                raise ValueError("the session is closed")
            kernels = []
            for index in range(
                    self._library.vitrt_session_kernel_count(self._handle)):
                info = _library.CKernelProfile()
                _check(self._library,
                       self._library.vitrt_session_kernel_profile(
                           self._handle, index, ctypes.byref(info)))
                kernels.append(KernelProfile(
                    _text(info.name), info.dispatches, info.seconds,
                    info.multiply_accumulates, info.bytes_bound))
        return sorted(kernels, key=lambda kernel: -kernel.seconds)

    # -- lifetime --------------------------------------------------------

    def close(self):
        """Frees the session (memory, threads); waits for a run in progress.
        Closing twice is harmless; running a closed session is an error."""
        with self._lock:
            if self._handle is not None:
                self._library.vitrt_session_destroy(self._handle)
                self._handle = None

    @property
    def closed(self):
        return self._handle is None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __del__(self):
        if getattr(self, "_handle", None) is not None:
            self.close()

    def __repr__(self):
        if self._handle is None:
            return "<vitrt.Session (closed)>"
        return "<vitrt.Session %s on %s %s: %s %s %s -> %s>" % (
            self.model_name or "?", self.target_kind, self.target_name,
            self.inputs[0].name, _shape(self.input_shape), self.input_layout,
            _shape(self.output_shape))
