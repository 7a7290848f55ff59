# SPDX-License-Identifier: GPL-2.0-or-later
"""The Qubes OS storage pool driver ``dvm_vol`` (entry point group ``qubes.storage``):
``qvm-pool add NAME dvm_vol -o dvm_pool=...,state_dir=...``. A pool of this driver is one
dvm-vol pool, opened in-process through libdvm (_libdvm); every call into the library runs on
the library's thread, off qubesd's loop. Failures surface as StoragePoolException naming the
volume ("<pool>:<vm>/<volume>") or the pool, with the library's message.
"""

from __future__ import annotations

import asyncio
import errno
import mmap
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
        self._batches: dict[tuple[str, str], dict[str, asyncio.Future[None]]] = {}
        self._together_tasks: set[asyncio.Task[None]] = set()

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

    def _together(self, op: str, vm: str, volume: str) -> asyncio.Future[None]:
        """The outcome of @op ("start" or "stop") of @vm's @volume, made in one library call
        with the same op of @vm's other volumes asked for in this turn of the loop: qubesd
        starts and stops a qube's volumes at once (asyncio.gather), and one change of the
        pool for all costs one lock, one recovery check and one udev wait instead of three.
        The future fails with the volume's DvmError (ECANCELED: not tried, after another's)."""
        loop = asyncio.get_running_loop()
        batch = self._batches.get((op, vm))
        if batch is None:
            batch = self._batches[(op, vm)] = {}
            loop.call_soon(self._start_together, op, vm)
        if volume not in batch:
            batch[volume] = loop.create_future()
        return batch[volume]

    def _start_together(self, op: str, vm: str) -> None:
        # the loop holds tasks weakly: keep this one until it is done
        task = asyncio.get_running_loop().create_task(self._run_together(op, vm))
        self._together_tasks.add(task)
        task.add_done_callback(self._together_tasks.discard)

    async def _run_together(self, op: str, vm: str) -> None:
        batch = self._batches.pop((op, vm))
        names = list(batch)
        call = L.PoolHandle.volumes_start if op == "start" else L.PoolHandle.volumes_stop
        try:
            errors = await L.run(lambda: call(self._open(), vm, names))
        except Exception as e:  # the pool did not open: every volume gets the error
            errors = [e] * len(names)
        for name, err in zip(names, errors):
            if err is None:
                batch[name].set_result(None)
            else:
                batch[name].set_exception(err)

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

    # ---- volumes ---------------------------------------------------------------------------

    def init_volume(self, vm: Any, volume_config: dict[str, Any]) -> "DvmVolVolume":
        """A Volume object from its qubes.xml config (touches nothing on disk). Its vid is
        "<vm>/<volume>": dvm-vol's own name of the volume in this pool."""
        cfg = dict(volume_config)
        name = cfg.get("name")
        if name not in VOLUME_NAMES:
            raise NotImplementedError(
                f"pool {self.name}: dvm_vol holds root, private and volatile volumes, not {name!r}")
        cfg.setdefault("revisions_to_keep", self.revisions_to_keep)
        if "vid" not in cfg:
            vm_name = getattr(vm, "name", None)
            if not vm_name:
                raise StoragePoolException(f"pool {self.name}: volume {name} without a qube")
            cfg["vid"] = f"{vm_name}/{name}"
        src = cfg.get("source")
        if src is not None and getattr(src, "pool", None) != self:
            raise StoragePoolException(
                f"volume {self.name}:{cfg['vid']}: its source {src!r} is in another pool; "
                "a dvm_vol volume snapshots volumes of its own pool only")
        cfg["pool"] = self
        vol = DvmVolVolume(**cfg)
        self._volumes[vol.vid] = vol
        return vol

    def get_volume(self, vid: str) -> "DvmVolVolume":
        """The volume @vid: the object init_volume made, else one described by the catalog.
        KeyError when the pool has no such volume."""
        if vid in self._volumes:
            return self._volumes[vid]
        vm, vol = split_vid(vid)
        try:
            info = L.call(lambda: self._open().volume_get(vm, vol))
        except L.DvmError as e:
            if e.errno == errno.ENOENT:
                raise KeyError(vid) from None
            raise self._err(f"volume {vid}", e) from None
        return self._from_info(info)

    def _from_info(self, info: L.VolumeInfo) -> "DvmVolVolume":
        vid = f"{L.text(info.vm)}/{L.text(info.name)}"
        source = L.text(info.source)
        return DvmVolVolume(
            name=L.text(info.name), pool=self, vid=vid, size=info.size,
            rw=bool(info.flags & L.VOL_RW),
            snap_on_start=bool(info.flags & L.VOL_SNAP_ON_START),
            save_on_stop=bool(info.flags & L.VOL_SAVE_ON_STOP),
            revisions_to_keep=info.revisions_to_keep,
            source=self.get_volume(source) if source else None)

    def list_volumes(self) -> list["DvmVolVolume"]:
        infos = self._sync("list volumes", L.PoolHandle.volume_list)
        out = []
        for info in infos:
            vid = f"{L.text(info.vm)}/{L.text(info.name)}"
            out.append(self._volumes.get(vid) or self._from_info(info))
        return out


VOLUME_NAMES = ("root", "private", "volatile")


def split_vid(vid: str) -> tuple[str, str]:
    """"<vm>/<volume>" as its two parts."""
    vm, sep, vol = str(vid).partition("/")
    if not sep or not vm or vol not in VOLUME_NAMES:
        raise StoragePoolException(f"volume id {vid!r}: expected <qube>/root, /private or /volatile")
    return vm, vol


#: bytes zeroed at the head of a fresh ephemeral volume (Qubes' BYTES_TO_ZERO)
ZERO_HEAD = 64 << 10


def _zero_head(path: str) -> None:
    """Zeros over the first ZERO_HEAD bytes of @path, written past the page cache (O_DIRECT,
    from page-aligned memory) so that blkback, which reads the device directly, sees them;
    no flush: a volatile layer need not outlive a crash, and a flush commits the thin pool's
    metadata."""
    zeros = mmap.mmap(-1, ZERO_HEAD)
    fd = os.open(path, os.O_WRONLY | os.O_DIRECT | os.O_CLOEXEC)
    try:
        if os.pwrite(fd, zeros, 0) != ZERO_HEAD:
            raise OSError(errno.EIO, f"{path}: short write of its head")
    finally:
        os.close(fd)
        zeros.close()


def _sparse_copy(src: str, dst: str, size: int) -> None:
    """Copy @size bytes of @src onto the fresh (all-zero, unprovisioned) layer @dst, leaving
    all-zero blocks unwritten so they stay unprovisioned (dd conv=sparse)."""
    bs = 1 << 20
    zero = bytes(bs)
    with open(src, "rb", buffering=0) as fi, open(dst, "r+b", buffering=0) as fo:
        off = 0
        while off < size:
            chunk = fi.read(min(bs, size - off))
            if not chunk:
                break
            if chunk != zero[:len(chunk)]:
                fo.seek(off)
                fo.write(chunk)
            off += len(chunk)
        os.fsync(fo.fileno())


class DvmVolVolume(qubes.storage.Volume):
    """One volume of a qube in a dvm-vol pool, driven as qubesd drives it (start and stop of a
    qube's volumes together in one library call, DvmVolPool._together).

    volatile (neither flag): a fresh layer under a new ephemeral key at every start, wiped at
    stop; snap_on_start: a fresh snapshot of the source's committed layer at every start;
    save_on_stop: start snapshots the committed layer, stop commits it (the replaced one kept
    as a revision, up to revisions_to_keep)."""

    pool: DvmVolPool

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vm_name, self.volume_name = split_vid(self.vid)
        self._exports: dict[str, tuple[str, str]] = {}

    # ---- the library ---------------------------------------------------------------------

    def _err(self, what: str, e: L.DvmError) -> StoragePoolException:
        x = StoragePoolException(f"volume {self.pool.name}:{self.vid}: {what}: {e}")
        x.errno = e.errno  # type: ignore[attr-defined]
        return x

    async def _lib(self, what: str, method: Any, *args: Any, ok: tuple[int, ...] = (),
                   vm: str | None = None, volume: str | None = None) -> Any:
        """PoolHandle.@method(vm, volume, *args) on the library's thread; the errnos in @ok
        give None instead of an error."""
        v, n = vm or self.vm_name, volume or self.volume_name
        try:
            return await L.run(lambda: method(self.pool._open(), v, n, *args))
        except L.DvmError as e:
            if e.errno in ok:
                return None
            raise self._err(what, e) from None

    async def _together(self, op: str, ok: tuple[int, ...] = ()) -> None:
        """@op of this volume with its qube's other volumes (DvmVolPool._together); one that
        was not tried because another failed is made on its own."""
        try:
            await self.pool._together(op, self.vm_name, self.volume_name)
        except L.DvmError as e:
            if e.errno in ok:
                return
            if e.errno != errno.ECANCELED:
                raise self._err(op, e) from None
            single = L.PoolHandle.volume_start if op == "start" else L.PoolHandle.volume_stop
            await self._lib(op, single, ok=ok)

    def _info(self) -> L.VolumeInfo | None:
        """The catalog's description, None when the volume is not created (yet)."""
        try:
            return L.call(lambda: self.pool._open().volume_get(self.vm_name, self.volume_name))
        except L.DvmError as e:
            if e.errno == errno.ENOENT:
                return None
            raise self._err("describe", e) from None

    def _config(self) -> L.VolumeConfig:
        cfg = L.VolumeConfig()
        cfg.size = self._size
        cfg.flags = ((L.VOL_SNAP_ON_START if self.snap_on_start else 0)
                     | (L.VOL_SAVE_ON_STOP if self.save_on_stop else 0)
                     | (L.VOL_RW if self.rw else 0))
        cfg.source = str(self.source.vid).encode() if self.source is not None else None
        # -1 (Qubes' snapshots_disabled) keeps no revision here: see the README
        cfg.revisions_to_keep = max(int(self.revisions_to_keep), 0)
        cfg.ephemeral = self.ephemeral
        return cfg

    # ---- properties ------------------------------------------------------------------------

    @property
    def ephemeral(self) -> bool:
        """dvm-vol runs every volatile volume under a new ephemeral key (its own dm-crypt
        layer, no cryptsetup): true for each one, whatever the pool's ephemeral_volatile."""
        return not (self.snap_on_start or self.save_on_stop)

    @ephemeral.setter
    def ephemeral(self, value: bool) -> None:
        qubes.storage.Volume.ephemeral.fset(self, value)  # type: ignore[attr-defined]

    @property
    def path(self) -> str:  # type: ignore[override]
        """The device the qube gets: the same name whether started or not."""
        return f"/dev/mapper/DVM-{self.pool.dvm_pool}-{self.vm_name}-{self.volume_name}"

    @property
    def size(self) -> int:
        info = self._info()
        return info.size if info is not None else self._size

    @property
    def usage(self) -> int:  # type: ignore[override]
        info = self._info()
        return info.used if info is not None else 0

    @property
    def revisions(self) -> dict[str, str]:
        if not self.save_on_stop:
            return {}
        try:
            revs = L.call(lambda: self.pool._open().volume_revisions(self.vm_name, self.volume_name))
        except L.DvmError as e:
            if e.errno == errno.ENOENT:
                return {}
            raise self._err("revisions", e) from None
        return {str(r.id): qubes.storage.isodate(r.time) for r in revs}

    def is_dirty(self) -> bool:
        if not self.save_on_stop:
            return False
        info = self._info()
        return bool(info is not None and info.dirty)

    def is_outdated(self) -> bool:
        if not self.snap_on_start:
            return False
        info = self._info()
        return bool(info is not None and info.outdated)

    def block_device(self) -> qubes.storage.BlockDevice:
        return qubes.storage.BlockDevice(self.path, self.name, None, self.rw, self.domain, self.devtype)

    # the ephemeral key is dvm-vol's own: Qubes' cryptsetup layer is not stacked on top
    def encrypted_volume_path(self, qube_name: str, device_name: str) -> str:
        return self.path

    def make_encrypted_device(self, device: qubes.storage.BlockDevice, qube_name: str) -> qubes.storage.BlockDevice:
        return device

    async def start_encrypted(self, name: str) -> "DvmVolVolume":
        return await self.start()

    async def stop_encrypted(self, name: str) -> "DvmVolVolume":
        return await self.stop()

    # ---- the Volume contract ---------------------------------------------------------------

    @qubes.storage.Volume.locked
    async def create(self) -> "DvmVolVolume":
        await self._lib("create", L.PoolHandle.volume_create, self._config())
        return self

    @qubes.storage.Volume.locked
    async def remove(self) -> None:
        # an absent volume is removed already (lvm_thin: nothing to do)
        await self._lib("remove", L.PoolHandle.volume_remove, ok=(errno.ENOENT,))
        self.pool._volumes.pop(self.vid, None)

    @qubes.storage.Volume.locked
    async def start(self) -> "DvmVolVolume":
        # as lvm_thin: a save_on_stop volume started already (or left dirty by a crash) keeps
        # its running layer; a snapshot or volatile one left running is made afresh
        await self._together("start")
        if self.ephemeral:
            # a fresh layer under a new key reads as noise: its head is zeroed, as Qubes'
            # ephemeral start does, so that the qube finds no stale partition table there
            try:
                await asyncio.get_running_loop().run_in_executor(None, _zero_head, self.path)
            except OSError as e:
                raise StoragePoolException(
                    f"volume {self.pool.name}:{self.vid}: start: zeroing its head: {e}") from None
        return self

    @qubes.storage.Volume.locked
    async def stop(self) -> "DvmVolVolume":
        await self._together("stop", ok=(errno.ENOENT,))
        return self

    async def verify(self) -> bool:
        if not self.snap_on_start and not self.save_on_stop:
            return True
        for vol in (self, self.source) if self.source is not None else (self,):
            try:
                await L.run(lambda v=vol: self.pool._open().volume_get(v.vm_name, v.volume_name))
            except L.DvmError as e:
                raise self._err(f"verify: volume {vol.vid} missing" if e.errno == errno.ENOENT
                                else "verify", e) from None
        return True

    def _export_target(self) -> tuple[str, str]:
        # a snapshot volume has no committed layer of its own: its content is its source's
        if self.snap_on_start and self.source is not None and not self.save_on_stop:
            return self.source.vm_name, self.source.volume_name  # type: ignore[attr-defined]
        return self.vm_name, self.volume_name

    async def export(self) -> str:
        vm, vol = self._export_target()
        path = await self._lib("export", L.PoolHandle.volume_export, vm=vm, volume=vol)
        self._exports[path] = (vm, vol)
        return path

    async def export_end(self, path: str) -> None:
        vm, vol = self._exports.pop(path, self._export_target())
        await self._lib("export end", L.PoolHandle.volume_export_end, path, vm=vm, volume=vol)

    @qubes.storage.Volume.locked
    async def import_data(self, size: int) -> str:
        return await self._lib("import", L.PoolHandle.volume_import_begin, int(size))

    @qubes.storage.Volume.locked
    async def import_data_end(self, success: bool) -> None:
        await self._lib("import end", L.PoolHandle.volume_import_end, bool(success))

    @qubes.storage.Volume.locked
    async def import_volume(self, src_volume: qubes.storage.Volume) -> "DvmVolVolume":
        if not src_volume.save_on_stop:
            return self  # lvm_thin: nothing to carry over from a volume that saves nothing
        size = int(src_volume.size)
        dst = await self._lib("import", L.PoolHandle.volume_import_begin, size)
        ok = False
        try:
            src = await qubes.utils.coro_maybe(src_volume.export())
            try:
                await asyncio.get_running_loop().run_in_executor(None, _sparse_copy, src, dst, size)
                ok = True
            except OSError as e:
                raise StoragePoolException(
                    f"volume {self.pool.name}:{self.vid}: import from {src_volume!r}: {e}") from None
            finally:
                await qubes.utils.coro_maybe(src_volume.export_end(src))
        finally:
            await self._lib("import end", L.PoolHandle.volume_import_end, ok)
        return self

    @qubes.storage.Volume.locked
    async def resize(self, size: int) -> None:
        if not self.rw:
            raise StoragePoolException(f"volume {self.pool.name}:{self.vid}: cannot resize a read-only volume")
        size = int(size)
        info = await self._lib("describe", L.PoolHandle.volume_get, ok=(errno.ENOENT,))
        if size == (info.size if info is not None else self._size):
            return
        await self._lib("resize", L.PoolHandle.volume_resize, size)
        self._size = size

    @qubes.storage.Volume.locked
    async def revert(self, revision: str | None = None) -> "DvmVolVolume":
        try:
            rev = -1 if revision is None else int(revision)
        except ValueError:
            raise StoragePoolException(
                f"volume {self.pool.name}:{self.vid}: no revision {revision!r}") from None
        await self._lib("revert", L.PoolHandle.volume_revert, rev)
        return self
