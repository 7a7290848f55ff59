# SPDX-License-Identifier: GPL-2.0-or-later
"""The Qubes OS storage pool driver ``dvm_vol`` (entry point group ``qubes.storage``):
``qvm-pool add NAME dvm_vol -o dvm_pool=...,state_dir=...``. A pool of this driver is one
dvm-vol pool, opened in-process through libdvm (_libdvm); every call into the library runs on
the library's thread, off qubesd's loop. Failures surface as StoragePoolException naming the
volume ("<pool>:<vm>/<volume>") or the pool, with the library's message.
"""

from __future__ import annotations

import os
from typing import Any

import qubes.storage
import qubes.utils
from qubes.storage import StoragePoolException

from . import _libdvm as L

DRIVER = "dvm_vol"

#: options that make a dvm-vol pool when it does not exist yet (qvm-pool add ... -o ...)
MAKE_OPTIONS = ("backend", "data_dev", "metadata_dev", "data_size", "block_size", "chunk_size")


def _size(option: str, value: Any) -> int:
    if isinstance(value, int):
        return value
    try:
        return L.parse_size(str(value))
    except L.DvmError as e:
        raise StoragePoolException(f"option {option}={value!r}: {e}") from None


class DvmVolPool(qubes.storage.Pool):
    """A dvm-vol pool as a Qubes storage pool.

    Options (all strings when they come from qvm-pool or qubes.xml):
      dvm_pool      the dvm-vol pool's name (letters, digits, '_'); default: the Qubes name
                    when it is a valid dvm-vol pool name
      state_dir     dvm-vol's state directory (default /var/lib/dvm-vol)
      backend, data_dev, metadata_dev, data_size, block_size, chunk_size
                    make the dvm-vol pool at setup() when it does not exist (as
                    `dvm-vol pool init`); without any of them setup() requires it to exist
      revisions_to_keep, ephemeral_volatile   as in every Qubes pool
    """

    driver = DRIVER

    def __init__(self, *, name: str, dvm_pool: str | None = None, state_dir: str | None = None,
                 backend: str | None = None, data_dev: str | None = None,
                 metadata_dev: str | None = None, data_size: str | int | None = None,
                 block_size: str | int | None = None, chunk_size: str | int | None = None,
                 revisions_to_keep: int | str = 1, ephemeral_volatile: bool | str = False) -> None:
        super().__init__(name=name, revisions_to_keep=int(revisions_to_keep),
                         ephemeral_volatile=ephemeral_volatile)
        self.dvm_pool = dvm_pool or name
        why = L.name_check("pool", self.dvm_pool)
        if why:
            hint = "" if dvm_pool else " (name the dvm-vol pool with -o dvm_pool=NAME)"
            raise StoragePoolException(f"pool {name}: dvm-vol pool name {self.dvm_pool!r}: {why}{hint}")
        self.state_dir = state_dir or os.environ.get("DVM_STATE_DIR") or "/var/lib/dvm-vol"
        if backend is not None and backend not in L.BACKENDS:
            raise StoragePoolException(
                f"pool {name}: backend={backend!r}: expected one of {', '.join(L.BACKENDS)}")
        if metadata_dev and not data_dev:
            raise StoragePoolException(f"pool {name}: metadata_dev needs data_dev")
        if data_dev and data_size is not None:
            raise StoragePoolException(f"pool {name}: data_size is for a file-backed pool, not with data_dev")
        self.backend = backend
        self.data_dev = data_dev
        self.metadata_dev = metadata_dev
        self.data_size = None if data_size is None else _size("data_size", data_size)
        self.block_size = None if block_size is None else _size("block_size", block_size)
        self.chunk_size = None if chunk_size is None else _size("chunk_size", chunk_size)
        self._ctx: L.Context | None = None
        self._handle: L.PoolHandle | None = None
        self._volumes: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} dvm_pool={self.dvm_pool!r} state_dir={self.state_dir!r}>"

    # ---- the library ---------------------------------------------------------------------

    def _err(self, what: str, e: L.DvmError) -> StoragePoolException:
        return StoragePoolException(f"{self.name}: {what}: {e}")

    def _open(self) -> L.PoolHandle:
        """The pool's handle (library thread only)."""
        if self._handle is None:
            if self._ctx is None:
                self._ctx = L.Context(self.state_dir)
            self._handle = self._ctx.pool_open(self.dvm_pool)
        return self._handle

    def _sync(self, what: str, fn: Any, *args: Any) -> Any:
        """fn(handle, *args) on the library's thread, waited for (properties)."""
        try:
            return L.call(lambda: fn(self._open(), *args))
        except L.DvmError as e:
            raise self._err(what, e) from None

    async def _async(self, what: str, fn: Any, *args: Any) -> Any:
        """fn(handle, *args) on the library's thread, awaited."""
        try:
            return await L.run(lambda: fn(self._open(), *args))
        except L.DvmError as e:
            raise self._err(what, e) from None

    def _config(self) -> L.PoolConfig:
        cfg = L.PoolConfig()
        cfg.backend = L.BACKENDS[self.backend or "thin"]
        cfg.data_dev = self.data_dev.encode() if self.data_dev else None
        cfg.metadata_dev = self.metadata_dev.encode() if self.metadata_dev else None
        cfg.data_size = self.data_size or 0
        cfg.block_size = self.block_size or 0
        cfg.chunk_size = self.chunk_size or 0
        return cfg

    def _makes(self) -> bool:
        return any(getattr(self, o) is not None for o in MAKE_OPTIONS)

    # ---- the Pool contract ---------------------------------------------------------------

    @property
    def config(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "driver": DRIVER, "dvm_pool": self.dvm_pool,
            "state_dir": self.state_dir, "revisions_to_keep": self.revisions_to_keep,
            "ephemeral_volatile": self.ephemeral_volatile,
        }
        for o in MAKE_OPTIONS:
            if getattr(self, o) is not None:
                out[o] = getattr(self, o)
        return out

    async def setup(self) -> None:
        """Open the dvm-vol pool (activating it); make it first when it does not exist and
        making options were given."""
        def work() -> None:
            ctx = self._ctx = self._ctx or L.Context(self.state_dir)
            if self.dvm_pool not in ctx.pool_list():
                if not self._makes():
                    raise L.DvmError("setup", 2, f"dvm-vol pool {self.dvm_pool} does not exist in "
                                     f"{self.state_dir}; make it with 'dvm-vol pool init {self.dvm_pool}' "
                                     "or give data_dev= or data_size=")
                ctx.pool_init(self.dvm_pool, self._config())
            self._open()
        try:
            await L.run(work)
        except L.DvmError as e:
            raise self._err("setup", e) from None

    async def destroy(self) -> None:
        """Qubes forgets the pool; the dvm-vol pool and its data stay (as lvm_thin leaves its
        thin pool): `dvm-vol pool` commands remove it. Releases the handle."""
        def work() -> None:
            if self._handle is not None:
                self._handle.close()
                self._handle = None
        await L.run(work)

    def included_in(self, app: Any) -> "qubes.storage.Pool | None":
        """A file-based Qubes pool whose directory holds our state directory (file-backed
        dvm-vol pools keep their data there)."""
        mine = os.path.realpath(self.state_dir)
        for pool in getattr(app, "pools", {}).values():
            d = getattr(pool, "dir_path", None)
            if pool is not self and d:
                d = os.path.realpath(d)
                if os.path.commonpath([d, mine]) == d:
                    return pool
        return None

    def _info(self) -> L.PoolInfo:
        return self._sync("pool info", L.PoolHandle.info)

    @property
    def size(self) -> int:
        return self._info().data_total

    @property
    def usage(self) -> int:
        return self._info().data_used

    @property
    def usage_details(self) -> dict[str, int]:
        i = self._info()
        return {"data_size": i.data_total, "data_usage": i.data_used,
                "metadata_size": i.metadata_total, "metadata_usage": i.metadata_used}
