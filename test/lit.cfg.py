# -*- Python -*-
import os
import shutil

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "vitc"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "Unit", "CMakeLists.txt", "lit.cfg.py",
                   "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.vitc_obj_root, "test")

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

config.substitutions.append(("%python", config.python_executable))

llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
tool_dirs = [config.vitc_tools_dir, config.llvm_tools_dir]
tools = ["vitc", "vitc-opt", "vit-run", "vitb-reseal", "mlir-opt", "mlir-runner"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# Execution tests load MLIR's runner utility libraries from the LLVM install.
config.substitutions.append(
    ("%mlir_lib_dir", os.path.join(config.llvm_tools_dir, os.pardir, "lib")))

# The installed-package test (examples/) installs this build and configures
# the example with the same CMake, generator and C compiler as the project.
config.substitutions.append(("%source_dir", config.vitc_src_root))
config.substitutions.append(("%build_dir", config.vitc_obj_root))
config.substitutions.append(
    ("%cmake_configure",
     '"%s" -G "%s" -DCMAKE_MAKE_PROGRAM="%s" -DCMAKE_C_COMPILER="%s"' %
     (config.cmake_executable, config.cmake_generator,
      config.cmake_make_program, config.c_compiler)))
config.substitutions.append(("%cmake", '"%s"' % config.cmake_executable))

# CUDA tests assemble PTX with ptxas, which the machine setup installs in
# /usr/local/cuda/bin. A missing ptxas fails those tests instead of skipping
# them.
config.substitutions.append(
    ("%ptxas", shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"))

# %zen3 runs a command as on an AVX2-only machine: qemu-user (Debian's
# qemu-user, which scripts/setup.sh installs) translating it for QEMU's
# EPYC-Milan model, a Zen 3 with AVX2 and FMA and no AVX-512, whatever this
# machine has. The features QEMU 7.2's translator cannot provide are turned
# off, as it would otherwise warn about each on every start. A missing
# qemu-x86_64 fails those tests instead of skipping them.
zen3_unsupported = ["pcid", "invpcid", "rdseed", "sha-ni", "rdpid", "fsrm",
                    "fxsr-opt", "misalignsse", "3dnowprefetch", "osvw",
                    "topoext", "perfctr-core", "clzero", "xsaveerptr",
                    "wbnoinvd", "ibpb", "ibrs", "amd-stibp", "amd-ssbd",
                    "nrip-save", "xsavec", "xsaves"]
config.substitutions.append(
    ("%zen3", "%s -cpu EPYC-Milan,%s" %
     (shutil.which("qemu-x86_64") or "/usr/bin/qemu-x86_64",
      ",".join("-" + feature for feature in zen3_unsupported))))

# The CUDA driver emulator (lib/CudaEmulator), which runs CUDA artifacts' PTX
# on the CPU when VITRT_CUDA_DRIVER names it.
config.substitutions.append(
    ("%cuda_emulator",
     os.path.join(config.vitc_obj_root, "lib", "libcuda-emulator.so")))

# Whether the CUDA driver can be loaded here: the no-driver error path is
# tested where it cannot (every CI machine), the GPU path where it can.
import ctypes
try:
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass
