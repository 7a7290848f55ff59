# SPDX-License-Identifier: GPL-2.0-or-later
"""Stand-in: the exception classes a storage driver raises (names as in qubes.exc)."""


class QubesException(Exception):
    """Base of every Qubes error."""


class QubesValueError(QubesException, ValueError):
    """A bad value."""


class StoragePoolException(QubesException):
    """A storage pool or volume operation failed."""
