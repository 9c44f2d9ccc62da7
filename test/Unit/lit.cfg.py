# -*- Python -*-
# Runs every GoogleTest binary under <build>/unittests as part of check-vitc.
import os

import lit.formats

config.name = "vitc-Unit"
config.suffixes = []
config.test_source_root = os.path.join(config.vitc_obj_root, "unittests")
config.test_exec_root = config.test_source_root
config.test_format = lit.formats.GoogleTest(".", "Tests")
