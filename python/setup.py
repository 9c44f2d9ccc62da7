"""Bundles the runtime library in the vitrt package (see pyproject.toml).

The metadata is in pyproject.toml; this file only copies libvitrt.so from
a vitc build into the built package (vitrt/_lib/libvitrt.so), so that an
installed vitrt needs neither the source tree nor VITRT_LIBRARY:

    $VITRT_BUILD_DIR/lib/libvitrt.so    when VITRT_BUILD_DIR is set (then
                                        a missing library is an error)
    ../build/lib/libvitrt.so            otherwise, if it exists

It also records that build's directory in vitc/_install.py: an installed
vitc package runs its bin/vitc when VITC_BINARY is unset and there is no
vitc on PATH.

Without a library the package is still built, with a warning: vitrt then
needs VITRT_LIBRARY at run time. A wheel that bundles the library holds
x86-64 (or whatever the build's) machine code, so it is tagged for that
platform (py3-none-linux_x86_64) rather than as pure Python; the library
itself does not depend on the Python version.
"""

import os
import pathlib
import shutil
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = pathlib.Path(__file__).resolve().parent
BUILD_DIR_ENV = "VITRT_BUILD_DIR"


EXPLICIT_BUILD_DIR = os.environ.get(BUILD_DIR_ENV)
BUILD_DIR = (pathlib.Path(EXPLICIT_BUILD_DIR).resolve() if EXPLICIT_BUILD_DIR
             else HERE.parent / "build")


def runtime_library():
    explicit = EXPLICIT_BUILD_DIR
    library = BUILD_DIR / "lib" / "libvitrt.so"
    if library.is_file():
        return library
    if explicit:
        sys.exit("setup.py: %s does not exist (%s=%s); build the runtime "
                 "first" % (library, BUILD_DIR_ENV, explicit))
    print("setup.py: warning: %s does not exist; vitrt is installed without "
          "its library and needs VITRT_LIBRARY at run time (build vitc "
          "first, or set %s)" % (library, BUILD_DIR_ENV), file=sys.stderr)
    return None


LIBRARY = runtime_library()


class BuildPy(build_py):
    """build_py that also copies the runtime library into the package, and
    records the build in vitc/_install.py, where vitc.find_binary looks
    for build/bin/vitc when the package is installed (and the source tree
    out of its reach)."""

    def run(self):
        super().run()
        build_lib = pathlib.Path(self.build_lib)
        record = build_lib / "vitc" / "_install.py"
        if BUILD_DIR.is_dir():
            record.write_text(
                '"""Written by setup.py: the vitc build this package was '
                'installed from."""\nBUILD_DIR = %r\n' % str(BUILD_DIR))
        elif record.exists():
            record.unlink()
        target = build_lib / "vitrt" / "_lib"
        # An earlier build's copy (pip builds in python/build) must not be
        # packaged in place of the one asked for now.
        shutil.rmtree(target, ignore_errors=True)
        if LIBRARY is None:
            return
        target.mkdir(parents=True)
        # libvitrt.so is a symlink chain (.so -> .so.0 -> .so.0.1.0): copy
        # the file it resolves to, under the name vitrt loads.
        shutil.copyfile(LIBRARY.resolve(), target / "libvitrt.so")
        print("setup.py: bundling %s" % LIBRARY.resolve(), file=sys.stderr)


commands = {"build_py": BuildPy}

try:  # setuptools >= 70.1 has its own; older ones use the wheel package's.
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:
    try:
        from wheel.bdist_wheel import bdist_wheel
    except ImportError:
        bdist_wheel = None

if bdist_wheel is not None:
    class PlatformWheel(bdist_wheel):
        """Tags a wheel with a bundled library for its platform."""

        def finalize_options(self):
            super().finalize_options()
            if LIBRARY is not None:
                self.root_is_pure = False

        def get_tag(self):
            python, abi, platform = super().get_tag()
            if LIBRARY is not None:
                return "py3", "none", platform
            return python, abi, platform

    commands["bdist_wheel"] = PlatformWheel

setup(cmdclass=commands)
