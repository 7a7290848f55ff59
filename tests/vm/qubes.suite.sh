#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vm tier: the dvm_vol Qubes pool driver (driver/python/dvm_vol) through real device-mapper,
# under Debian's /usr/bin/python3 with the stand-in of Qubes' framework (tests/python/stand_in):
# the volume model of TemplateVM / DVM Template / disposable, is_outdated, is_dirty after a
# crash, revisions, import/export, resize, usage against the kernel, refusals, errors as
# StoragePoolException naming the volume, 8 disposables started and stopped at once.
# Tests of libdvm calls that still answer -ENOSYS are skipped, naming the call.
# Usage: tests/vm/qubes.suite.sh BUILD   (root, device-mapper)
set -euo pipefail

BUILD=$(cd "${1:?usage: qubes.suite.sh BUILD}" && pwd)
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: $PY missing (Debian's python3)"; exit 0; }
cd "$TOP/tests/python/vm"
export DVM_BUILD=$BUILD DVM_LIBDVM=$BUILD/libdvm.so.0 PYTHONDONTWRITEBYTECODE=1
exec "$PY" -m unittest -v vm_qubes_driver
