# SPDX-License-Identifier: GPL-2.0-or-later
"""dvm-vol for Python: the libdvm binding (_libdvm) and the Qubes OS storage pool driver
(qubes_pool, entry point ``qubes.storage`` / ``dvm_vol``)."""

__all__ = ["DvmError"]

from ._libdvm import DvmError  # noqa: E402
