# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared by the Python tests: where the tree, the build and the stand-in are, and the
import path set up so that `dvm_vol` is the tree's package, `qubes` the stand-in, and
libdvm the build's (DVM_LIBDVM). Import it first."""

import os
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get("DVM_BUILD", os.path.join(TOP, "build")))
STAND_IN = os.path.join(TOP, "tests", "python", "stand_in")

for p in (os.path.join(TOP, "driver", "python"), STAND_IN):
    if p not in sys.path:
        sys.path.insert(0, p)
os.environ.setdefault("DVM_LIBDVM", os.path.join(BUILD, "libdvm.so.0"))
