"""vitc.compile: the vitc command line, called from Python."""

import os
import pathlib
import shutil
import subprocess

BINARY_ENV = "VITC_BINARY"

_PACKAGE_DIR = pathlib.Path(__file__).resolve().parent


def _build_dir():
    """The vitc build to fall back on, or None.

    In a checkout (python/vitc), the source tree's build/; once installed,
    the build pip installed the package from (recorded by setup.py in
    _install.py), since an installed package has no source tree.
    """
    root = _PACKAGE_DIR.parent.parent
    marker = root / "include" / "vitc" / "Runtime" / "vitrt.h"
    if _PACKAGE_DIR.parent.name == "python" and marker.is_file():
        return root / "build"
    try:
        from ._install import BUILD_DIR
    except ImportError:
        return None
    return pathlib.Path(BUILD_DIR)


class CompileError(RuntimeError):
    """vitc failed (or could not be started).

    ``str(error)`` is vitc's error message (its ``vitc: error: ...`` lines);
    ``stderr`` is everything it printed, ``returncode`` its exit status and
    ``command`` the argument list, to reproduce the call in a shell.
    """

    def __init__(self, message, command=(), returncode=None, stderr=""):
        super().__init__(message)
        self.message = message
        self.command = list(command)
        self.returncode = returncode
        self.stderr = stderr


class BinaryNotFoundError(CompileError):
    """The vitc binary could not be found."""


def find_binary():
    """The vitc executable: $VITC_BINARY, else ``vitc`` on PATH, else the
    build of the source tree (build/bin/vitc) or, for an installed package,
    of the build it was installed from.

    When VITC_BINARY is set nothing else is tried, so that a wrong value is
    an error instead of silently compiling with another vitc.
    """
    explicit = os.environ.get(BINARY_ENV)
    if explicit:
        path = pathlib.Path(explicit)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise BinaryNotFoundError(
                "%s is not an executable file (set by %s)" % (path,
                                                              BINARY_ENV))
        return path
    on_path = shutil.which("vitc")
    if on_path:
        return pathlib.Path(on_path)
    build = _build_dir()
    if build is not None and (build / "bin" / "vitc").is_file():
        return build / "bin" / "vitc"
    raise BinaryNotFoundError(
        "vitc not found: %s is not set, there is no vitc on PATH%s; build "
        "vitc (scripts/setup.sh) or set %s" %
        (BINARY_ENV, " and no %s" % (build / "bin" / "vitc")
         if build is not None else "", BINARY_ENV))


def _error_message(stderr, returncode):
    """vitc's error lines, without its progress lines ("vitc: compiling...").
    """
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("vitc: error:")]
    if errors:
        return "\n".join(errors)
    if lines:
        return lines[-1]
    return "vitc exited with status %s and printed nothing" % returncode


def compile(model, out, *, weights=None, random_weights=False, seed=None,
            batch=1, target=None, extra_args=(), binary=None, timeout=None):
    """Compiles a model to a .vitb artifact with the vitc command line.

    model
        A preset name (``vitc --list-models``: ``vit-b16``, ``vit-ti16``,
        ...); ``extra_args`` overrides its fields (``["--depth", "1"]``,
        ``["--config", "model.json"]``, see docs/model-config.md).
    out
        Where to write the artifact.
    weights / random_weights / seed
        A safetensors checkpoint, or seeded random weights (``seed``,
        default 0): exactly one of the two, since an artifact holds its
        weights.
    batch
        Images per run, fixed at compile time.
    target
        ``None`` (vitc's default, this machine's CPU), ``"cpu"``,
        ``"cpu:x86-64-v3"``, ``"cuda:sm_90"``, ...
    extra_args
        Further vitc arguments, passed as they are.
    binary
        The vitc executable; default ``find_binary()``.
    timeout
        Seconds before vitc is killed (``subprocess.TimeoutExpired``).

    Returns the artifact's path (``pathlib.Path``). Raises
    ``CompileError`` with vitc's error message when it fails.
    """
    if (weights is None) == (not random_weights):
        raise ValueError("pass exactly one of weights=<file>.safetensors or "
                         "random_weights=True")
    if seed is not None and not random_weights:
        raise ValueError("seed is for random_weights=True")
    if isinstance(extra_args, (str, bytes)):
        raise TypeError("extra_args must be a sequence of arguments, not a "
                        "string: [\"--depth\", \"1\"]")
    binary = pathlib.Path(binary) if binary is not None else find_binary()
    out = pathlib.Path(out)
    command = [str(binary), "--model", str(model), "--batch", str(int(batch))]
    if weights is not None:
        command += ["--weights", os.fspath(weights)]
    else:
        command += ["--random-weights"]
        if seed is not None:
            command += ["--seed", str(int(seed))]
    if target is not None:
        command += ["--target", str(target)]
    command += [os.fspath(arg) for arg in extra_args]
    command += ["-o", os.fspath(out)]
    try:
        result = subprocess.run(command, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                errors="replace", timeout=timeout)
    except OSError as error:
        raise CompileError("cannot run %s: %s" % (binary, error),
                           command) from error
    if result.returncode != 0:
        raise CompileError(_error_message(result.stderr, result.returncode),
                           command, result.returncode, result.stderr)
    return out
