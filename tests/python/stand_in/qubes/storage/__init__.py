# SPDX-License-Identifier: GPL-2.0-or-later
"""Stand-in of qubes.storage for dvm-vol's tests: the Pool and Volume base classes with the
constructor signatures, properties and defaults that the storage driver contract documents,
BlockDevice, the entry point group and its two helpers. Behaviour a driver inherits is kept
(the volume-flag checks of the constructor, ephemeral's default and setter, config, the
per-volume lock); everything a driver must provide raises NotImplementedError."""

import asyncio
import datetime
import functools
import importlib.metadata
import inspect
from typing import Any

import qubes.exc
import qubes.utils
from qubes.exc import StoragePoolException

STORAGE_ENTRY_POINT = "qubes.storage"

__all__ = ["BlockDevice", "Pool", "Volume", "StoragePoolException", "STORAGE_ENTRY_POINT",
           "pool_drivers", "driver_parameters", "isodate"]


class BlockDevice:
    """What libvirt's <disk> gets for a volume."""

    def __init__(self, path: str, name: str, script: Any = None, rw: bool = True,
                 domain: Any = None, devtype: str = "disk") -> None:
        assert name and path
        assert script is None
        self.path = path
        self.name = name
        self.rw = rw
        self.domain = domain
        self.devtype = devtype


def _missing(obj: Any, what: str) -> NotImplementedError:
    return NotImplementedError(f"{type(obj).__name__} does not implement {what}()")


class Volume:
    """One volume of a domain. volatile: neither flag; snapshot: snap_on_start only;
    origin: save_on_stop only; both: a snapshot of the source that is kept."""

    devtype = "disk"
    domain = None
    path = None
    usage = 0

    def __init__(self, name: str, pool: "Pool", vid: str, *, revisions_to_keep: int = 0,
                 rw: bool = False, save_on_stop: bool = False, size: int = 0,
                 snap_on_start: bool = False, source: "Volume | None" = None,
                 ephemeral: bool | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        assert isinstance(pool, Pool)
        if snap_on_start and source is None:
            raise StoragePoolException(f"volume {name!r}: snap_on_start needs a source")
        if source is not None and not snap_on_start:
            raise StoragePoolException(f"volume {name!r}: a source needs snap_on_start")
        self.name = str(name)
        self.pool = pool
        self.vid = vid
        self.revisions_to_keep = int(revisions_to_keep)
        self.rw = rw
        self.save_on_stop = save_on_stop
        self.snap_on_start = snap_on_start
        self.source = source
        self._size = int(size)
        self._ephemeral = ephemeral
        self._lock = asyncio.Lock()

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, Volume):
            return other.pool == self.pool and other.vid == self.vid
        return NotImplemented

    def __hash__(self) -> int:
        return hash(f"{self.pool}:{self.vid}")

    def __repr__(self) -> str:
        return repr(f"{self.pool}:{self.vid}")

    def __str__(self) -> str:
        return str(self.vid)

    def _ephemeral_allowed(self) -> bool:
        return not (self.snap_on_start or self.save_on_stop or self.domain is not None or not self.rw)

    @property
    def ephemeral(self) -> bool:
        if self._ephemeral is not None:
            return self._ephemeral
        return self._ephemeral_allowed() and bool(self.pool.ephemeral_volatile)

    @ephemeral.setter
    def ephemeral(self, value: bool) -> None:
        if value and not self._ephemeral_allowed():
            raise qubes.exc.QubesValueError(
                "ephemeral only for a writable dom0 volume without snap_on_start or save_on_stop")
        self._ephemeral = bool(value)

    @staticmethod
    def locked(method: Any) -> Any:
        """Run a coroutine method under the volume's lock."""
        @functools.wraps(method)
        async def wrapper(self: "Volume", *args: Any, **kwargs: Any) -> Any:
            async with self._lock:
                return await method(self, *args, **kwargs)
        return wrapper

    async def create(self) -> Any:
        raise _missing(self, "create")

    async def remove(self) -> Any:
        raise _missing(self, "remove")

    async def export(self) -> str:
        raise _missing(self, "export")

    async def export_end(self, path: str) -> None:
        pass

    async def import_data(self, size: int) -> str:
        raise _missing(self, "import_data")

    async def import_data_end(self, success: bool) -> None:
        pass

    async def import_volume(self, src_volume: "Volume") -> Any:
        raise _missing(self, "import_volume")

    def is_dirty(self) -> bool:
        raise _missing(self, "is_dirty")

    def is_outdated(self) -> bool:
        raise _missing(self, "is_outdated")

    async def resize(self, size: int) -> None:
        raise _missing(self, "resize")

    async def revert(self, revision: str | None = None) -> Any:
        raise _missing(self, "revert")

    async def start(self) -> Any:
        raise _missing(self, "start")

    async def stop(self) -> Any:
        raise _missing(self, "stop")

    async def verify(self) -> bool:
        raise _missing(self, "verify")

    def block_device(self) -> BlockDevice:
        return BlockDevice(self.path, self.name, None, self.rw, self.domain, self.devtype)

    @property
    def revisions(self) -> dict[str, str]:
        raise _missing(self, "revisions")

    @property
    def size(self) -> int:
        return self._size

    @property
    def config(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "pool": str(self.pool), "vid": self.vid,
            "revisions_to_keep": self.revisions_to_keep, "rw": self.rw,
            "save_on_stop": self.save_on_stop, "snap_on_start": self.snap_on_start,
        }
        if self._ephemeral is not None:
            out["ephemeral"] = self.ephemeral
        if self.size:
            out["size"] = self.size
        if self.source:
            out["source"] = str(self.source)
        return out

    @property
    def snapshots_disabled(self) -> bool:
        return self.revisions_to_keep == -1 and not self.snap_on_start and self.save_on_stop


class Pool:
    """A storage pool. Drivers subclass it and register under STORAGE_ENTRY_POINT."""

    def __init__(self, *, name: str, revisions_to_keep: int = 1,
                 ephemeral_volatile: bool = False) -> None:
        self.name = name
        self.revisions_to_keep = revisions_to_keep
        self.ephemeral_volatile = qubes.utils.parse_bool(ephemeral_volatile)

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, Pool):
            return self.name == other.name
        if isinstance(other, str):
            return self.name == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    def __str__(self) -> str:
        return self.name

    @property
    def config(self) -> dict[str, Any]:
        raise _missing(self, "config")

    async def destroy(self) -> None:
        raise _missing(self, "destroy")

    def init_volume(self, vm: Any, volume_config: dict[str, Any]) -> Volume:
        raise _missing(self, "init_volume")

    async def setup(self) -> None:
        raise _missing(self, "setup")

    def list_volumes(self) -> list[Volume]:
        raise _missing(self, "list_volumes")

    def get_volume(self, vid: str) -> Volume:
        raise _missing(self, "get_volume")

    def included_in(self, app: Any) -> "Pool | None":
        return None

    @property
    def size(self) -> int | None:
        return None

    @property
    def usage(self) -> int | None:
        return None

    @property
    def usage_details(self) -> dict[str, int]:
        out = {}
        if self.usage is not None:
            out["data_usage"] = self.usage
        if self.size is not None:
            out["data_size"] = self.size
        return out


def pool_drivers() -> list[str]:
    """Names of the registered drivers."""
    return [ep.name for ep in importlib.metadata.entry_points(group=STORAGE_ENTRY_POINT)]


def driver_parameters(name: str) -> dict[str, bool]:
    """The driver's constructor parameters (without self, name, kwargs): name -> required."""
    (ep,) = [e for e in importlib.metadata.entry_points(group=STORAGE_ENTRY_POINT) if e.name == name]
    params = inspect.signature(ep.load().__init__).parameters
    return {p.name: p.default is inspect.Parameter.empty
            for p in params.values() if p.name not in ("self", "name", "kwargs")}


def isodate(seconds: float) -> str:
    """UTC ISO 8601 without the offset, as revisions are dated."""
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc).isoformat().replace("+00:00", "")
