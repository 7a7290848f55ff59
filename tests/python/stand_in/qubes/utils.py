# SPDX-License-Identifier: GPL-2.0-or-later
"""Stand-in: the two helpers of qubes.utils that storage code calls."""

import asyncio
from typing import Any


def parse_bool(value: Any) -> bool:
    """Booleans come back from qubes.xml as the strings "True"/"False"."""
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("true", "yes", "on", "1"):
            return True
        if v in ("false", "no", "off", "0", ""):
            return False
        raise ValueError(f"not a boolean: {value!r}")
    return bool(value)


async def coro_maybe(value: Any) -> Any:
    """Await @value when it is awaitable (a driver method may be a coroutine or not)."""
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        return await value
    return value
