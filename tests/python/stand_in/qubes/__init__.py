# SPDX-License-Identifier: GPL-2.0-or-later
"""Stand-in for the parts of Qubes OS' `qubes` package a storage pool driver uses, written
for dvm-vol's tests from the documented contract (qubes-core-admin doc/qubes-storage.rst and
the base classes' signatures). Qubes' own code is not in Debian; this is not it. Tests only:
never installed."""
