# SPDX-License-Identifier: GPL-2.0-or-later
"""The one module that owns libdvm.so.0: ctypes mirrors of include/dvm.h's structs, the
prototypes of the functions used, and a failure as DvmError (errno + the library's message).

libdevmapper keeps process-wide state and a dvm_ctx keeps its last error per context, so every
call into the library runs on one worker thread (``call``/``run``): the asyncio loop hands it
work through ``run`` and never blocks on a kernel operation or a wipe.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import errno as _errno
import os
from typing import Any, Callable, TypeVar

T = TypeVar("T")

DVM_NAME_MAX = 64
DVM_POOL_NAME_MAX = 32

BACKEND_THIN = 0
BACKEND_SNAP = 1
BACKEND_RBD = 2
BACKENDS = {"thin": BACKEND_THIN, "snap": BACKEND_SNAP, "rbd": BACKEND_RBD}

VM_TEMPLATE = 0
VM_DVM_TEMPLATE = 1
VM_DISPOSABLE = 2
VM_QUBE = 3

DVM_VOLUME_PATH_MAX = 256

VOL_SNAP_ON_START = 1 << 0
VOL_SAVE_ON_STOP = 1 << 1
VOL_RW = 1 << 2
VOL_IN_RAM = 1 << 3


class DvmError(Exception):
    """A libdvm call failed: ``errno`` (positive) and the library's one-line message."""

    def __init__(self, func: str, errno: int, message: str) -> None:
        self.func = func
        self.errno = errno
        self.message = message or os.strerror(errno)
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"DvmError({self.func!r}, {_errno.errorcode.get(self.errno, self.errno)}, {self.message!r})"


# ---- struct mirrors (field for field, in the order of include/dvm.h) ---------------------

class PoolConfig(ctypes.Structure):
    _fields_ = [
        ("backend", ctypes.c_int),
        ("data_dev", ctypes.c_char_p),
        ("metadata_dev", ctypes.c_char_p),
        ("data_size", ctypes.c_uint64),
        ("block_size", ctypes.c_uint64),
        ("chunk_size", ctypes.c_uint64),
        ("cow_percent", ctypes.c_uint),
        ("rbd_conf", ctypes.c_char_p),
        ("rbd_client", ctypes.c_char_p),
        ("rbd_pool", ctypes.c_char_p),
        ("rbd_host", ctypes.c_char_p),
        ("skip_zeroing", ctypes.c_int),
    ]
    c_name = "struct dvm_pool_config"


class PoolInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char * (DVM_POOL_NAME_MAX + 1)),
        ("backend", ctypes.c_int),
        ("active", ctypes.c_bool),
        ("block_size", ctypes.c_uint64),
        ("data_total", ctypes.c_uint64),
        ("data_used", ctypes.c_uint64),
        ("metadata_total", ctypes.c_uint64),
        ("metadata_used", ctypes.c_uint64),
        ("transaction_id", ctypes.c_uint64),
        ("volumes", ctypes.c_uint),
        ("data_path", ctypes.c_char * 4096),
        ("metadata_path", ctypes.c_char * 4096),
        ("skip_zeroing", ctypes.c_bool),
    ]
    c_name = "struct dvm_pool_info"


class VolumeInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char * 16),
        ("size", ctypes.c_uint64),
        ("flags", ctypes.c_uint),
        ("backend_id", ctypes.c_int64),
        ("source", ctypes.c_char * (DVM_NAME_MAX + 18)),
        ("outdated", ctypes.c_bool),
        ("active", ctypes.c_bool),
        ("used", ctypes.c_uint64),
        ("cow_used", ctypes.c_uint64),
        ("cow_size", ctypes.c_uint64),
        ("invalid", ctypes.c_bool),
        ("path", ctypes.c_char * 256),
        ("vm", ctypes.c_char * (DVM_NAME_MAX + 1)),
        ("dirty", ctypes.c_bool),
        ("ephemeral", ctypes.c_bool),
        ("importing", ctypes.c_bool),
        ("revisions_to_keep", ctypes.c_uint),
        ("n_revisions", ctypes.c_uint),
    ]
    c_name = "struct dvm_volume_info"


class VolumeConfig(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint64),
        ("flags", ctypes.c_uint),
        ("source", ctypes.c_char_p),
        ("revisions_to_keep", ctypes.c_uint),
        ("ephemeral", ctypes.c_bool),
    ]
    c_name = "struct dvm_volume_config"


class VolumeRevision(ctypes.Structure):
    _fields_ = [
        ("id", ctypes.c_int64),
        ("time", ctypes.c_int64),
        ("size", ctypes.c_uint64),
    ]
    c_name = "struct dvm_volume_revision"


class VmInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char * (DVM_NAME_MAX + 1)),
        ("kind", ctypes.c_int),
        ("template", ctypes.c_char * (DVM_NAME_MAX + 1)),
        ("running", ctypes.c_bool),
        ("named", ctypes.c_bool),
        ("outdated", ctypes.c_bool),
        ("ready", ctypes.c_bool),
        ("n_volumes", ctypes.c_uint),
        ("volumes", VolumeInfo * 3),
        ("wipe_queued", ctypes.c_bool),
    ]
    c_name = "struct dvm_vm_info"


class RecoverReport(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint) for n in (
        "devices_removed", "devices_resumed", "devices_activated", "layers_deleted",
        "rows_repaired", "loops_detached", "vms_reaped", "intents_finished", "pending")]
    c_name = "struct dvm_recover_report"


class LayerInfo(ctypes.Structure):
    _fields_ = [
        ("id", ctypes.c_int64),
        ("origin", ctypes.c_int64),
        ("size", ctypes.c_uint64),
        ("owner", ctypes.c_char * (DVM_NAME_MAX + 18)),
        ("running", ctypes.c_bool),
    ]
    c_name = "struct dvm_layer_info"


#: every mirrored struct; tests/python/test_layout.py checks each against the C compiler
STRUCTS: list[type[ctypes.Structure]] = [PoolConfig, PoolInfo, VolumeInfo, VmInfo,
                                         RecoverReport, LayerInfo, VolumeConfig, VolumeRevision]


def text(raw: bytes) -> str:
    """A char array of a struct as str."""
    return raw.decode("utf-8", "replace")


# ---- loading -------------------------------------------------------------------------------

_c_ctx_p = ctypes.c_void_p
_c_pool_p = ctypes.c_void_p

# name: (restype, argtypes); restype int means a 0 / count / -errno return
_PROTOTYPES: dict[str, tuple[Any, list[Any]]] = {
    "dvm_ctx_new": (ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(_c_ctx_p)]),
    "dvm_ctx_free": (_c_ctx_p, [_c_ctx_p]),
    "dvm_ctx_last_error": (ctypes.c_char_p, [_c_ctx_p]),
    "dvm_ctx_state_dir": (ctypes.c_char_p, [_c_ctx_p]),
    "dvm_ctx_set_lock_timeout": (None, [_c_ctx_p, ctypes.c_uint]),
    "dvm_pool_init": (ctypes.c_int, [_c_ctx_p, ctypes.c_char_p, ctypes.POINTER(PoolConfig)]),
    "dvm_pool_open": (ctypes.c_int, [_c_ctx_p, ctypes.c_char_p, ctypes.POINTER(_c_pool_p)]),
    "dvm_pool_close": (_c_pool_p, [_c_pool_p]),
    "dvm_pool_info": (ctypes.c_int, [_c_pool_p, ctypes.POINTER(PoolInfo)]),
    "dvm_pool_list": (ctypes.c_int, [_c_ctx_p, ctypes.POINTER(ctypes.POINTER(ctypes.c_char_p))]),
    "dvm_pool_recover": (ctypes.c_int, [_c_pool_p, ctypes.POINTER(RecoverReport)]),
    "dvm_strv_free": (ctypes.c_void_p, [ctypes.POINTER(ctypes.c_char_p)]),
    "dvm_template_create": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.c_uint64, ctypes.c_uint64]),
    "dvm_dvm_create": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint64]),
    "dvm_spawn": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(VmInfo)]),
    "dvm_vm_start": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.POINTER(VmInfo)]),
    "dvm_vm_stop": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p]),
    "dvm_vm_destroy": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p]),
    "dvm_vm_get": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.POINTER(VmInfo)]),
    "dvm_vm_list": (ctypes.c_int, [_c_pool_p, ctypes.POINTER(ctypes.POINTER(VmInfo))]),
    "dvm_volume_layers": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.c_char_p,
                                         ctypes.POINTER(ctypes.POINTER(LayerInfo))]),
    # the per-volume calls (a Qubes pool driver)
    "dvm_volume_create": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.c_char_p,
                                         ctypes.POINTER(VolumeConfig)]),
    "dvm_volume_remove": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.c_char_p]),
    "dvm_volume_start": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.c_char_p,
                                        ctypes.POINTER(VolumeInfo)]),
    "dvm_volume_stop": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.c_char_p]),
    "dvm_volumes_start": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p),
                                         ctypes.c_uint, ctypes.POINTER(ctypes.c_int)]),
    "dvm_volumes_stop": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p),
                                        ctypes.c_uint, ctypes.POINTER(ctypes.c_int)]),
    "dvm_volume_get": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.c_char_p,
                                      ctypes.POINTER(VolumeInfo)]),
    "dvm_volume_list": (ctypes.c_int, [_c_pool_p, ctypes.POINTER(ctypes.POINTER(VolumeInfo))]),
    "dvm_volume_revisions": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.c_char_p,
                                            ctypes.POINTER(ctypes.POINTER(VolumeRevision))]),
    "dvm_volume_revert": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int64]),
    "dvm_volume_export": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.c_char_p,
                                         ctypes.c_char_p]),
    "dvm_volume_export_end": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.c_char_p,
                                             ctypes.c_char_p]),
    "dvm_volume_import_begin": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.c_char_p,
                                               ctypes.c_uint64, ctypes.c_char_p]),
    "dvm_volume_import_end": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_bool]),
    "dvm_volume_resize": (ctypes.c_int, [_c_pool_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint64]),
    "dvm_pool_name_check": (ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]),
    "dvm_name_check": (ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]),
    "dvm_parse_size": (ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint64)]),
}

_lib: ctypes.CDLL | None = None
_libc = ctypes.CDLL(None)
_libc.free.argtypes = [ctypes.c_void_p]
_libc.free.restype = None


def library_path() -> str:
    """$DVM_LIBDVM (a build tree's library, for the tests), else the one make install put
    beside this package (_config.py), else the soname on the loader's path."""
    if os.environ.get("DVM_LIBDVM"):
        return os.environ["DVM_LIBDVM"]
    try:
        from . import _config  # written by make install
        return _config.LIBDVM
    except ImportError:
        return "libdvm.so.0"


def lib() -> ctypes.CDLL:
    """The loaded library with the prototypes of _PROTOTYPES set (functions it lacks are
    left out: ``has()`` tells)."""
    global _lib
    if _lib is None:
        try:
            handle = ctypes.CDLL(library_path())
        except OSError as e:
            raise DvmError("dlopen", _errno.ENOENT,
                           f"{library_path()}: cannot load libdvm ({e}); install dvm-vol") from None
        for name, (restype, argtypes) in _PROTOTYPES.items():
            fn = getattr(handle, name, None)
            if fn is not None:
                fn.restype = restype
                fn.argtypes = argtypes
        _lib = handle
    return _lib


def has(name: str) -> bool:
    """Whether the loaded library exports @name."""
    return hasattr(lib(), name)


def bind(name: str, restype: Any, argtypes: list[Any]) -> None:
    """Declare one more prototype (for the modules that add calls); applied now if loaded."""
    _PROTOTYPES[name] = (restype, argtypes)
    if _lib is not None and hasattr(_lib, name):
        fn = getattr(_lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def free(ptr: Any) -> None:
    _libc.free(ptr)


# ---- the worker thread ---------------------------------------------------------------------

_executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="libdvm")


def call(fn: Callable[..., T], *args: Any) -> T:
    """Run @fn on the library's thread and wait (for synchronous callers)."""
    return _executor.submit(fn, *args).result()


async def run(fn: Callable[..., T], *args: Any) -> T:
    """Run @fn on the library's thread without blocking the running loop."""
    return await asyncio.get_running_loop().run_in_executor(_executor, fn, *args)


# ---- handles -------------------------------------------------------------------------------

def _b(s: str | None) -> bytes | None:
    return None if s is None else s.encode()


class Context:
    """A dvm_ctx: the state directory and the last error. Use it from the library's thread
    (``call``/``run``)."""

    def __init__(self, state_dir: str | None = None) -> None:
        self._l = lib()
        p = _c_ctx_p()
        r = self._l.dvm_ctx_new(_b(state_dir), ctypes.byref(p))
        if r < 0:
            raise DvmError("dvm_ctx_new", -r, f"state directory {state_dir!r}: {os.strerror(-r)}")
        self.ptr = p

    def close(self) -> None:
        if self.ptr:
            self._l.dvm_ctx_free(self.ptr)
            self.ptr = _c_ctx_p()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def last_error(self) -> str:
        return text(self._l.dvm_ctx_last_error(self.ptr) or b"")

    def check(self, func: str, r: int) -> int:
        """@r of a libdvm call: returned when >= 0, else DvmError with the context's message."""
        if r < 0:
            raise DvmError(func, -r, self.last_error())
        return r

    @property
    def state_dir(self) -> str:
        return text(self._l.dvm_ctx_state_dir(self.ptr))

    def set_lock_timeout(self, ms: int) -> None:
        self._l.dvm_ctx_set_lock_timeout(self.ptr, ms)

    def pool_list(self) -> list[str]:
        names = ctypes.POINTER(ctypes.c_char_p)()
        n = self.check("dvm_pool_list", self._l.dvm_pool_list(self.ptr, ctypes.byref(names)))
        try:
            return [text(names[i]) for i in range(n)]
        finally:
            self._l.dvm_strv_free(names)

    def pool_init(self, name: str, cfg: PoolConfig) -> None:
        self.check("dvm_pool_init", self._l.dvm_pool_init(self.ptr, _b(name), ctypes.byref(cfg)))

    def pool_open(self, name: str) -> "PoolHandle":
        p = _c_pool_p()
        self.check("dvm_pool_open", self._l.dvm_pool_open(self.ptr, _b(name), ctypes.byref(p)))
        return PoolHandle(self, p)


class PoolHandle:
    """A dvm_pool of a Context."""

    def __init__(self, ctx: Context, ptr: Any) -> None:
        self.ctx = ctx
        self.ptr = ptr
        self._l = ctx._l

    def close(self) -> None:
        if self.ptr:
            self._l.dvm_pool_close(self.ptr)
            self.ptr = _c_pool_p()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass

    def _call(self, func: str, *args: Any) -> int:
        return self.ctx.check(func, getattr(self._l, func)(self.ptr, *args))

    def info(self) -> PoolInfo:
        out = PoolInfo()
        self._call("dvm_pool_info", ctypes.byref(out))
        return out

    def recover(self) -> RecoverReport:
        out = RecoverReport()
        self._call("dvm_pool_recover", ctypes.byref(out))
        return out

    def template_create(self, name: str, root_size: int, private_size: int) -> None:
        self._call("dvm_template_create", _b(name), root_size, private_size)

    def dvm_create(self, name: str, template: str, private_size: int = 0) -> None:
        self._call("dvm_dvm_create", _b(name), _b(template), private_size)

    def spawn(self, dvm: str, name: str | None = None) -> VmInfo:
        out = VmInfo()
        self._call("dvm_spawn", _b(dvm), _b(name), ctypes.byref(out))
        return out

    def vm_start(self, name: str) -> VmInfo:
        out = VmInfo()
        self._call("dvm_vm_start", _b(name), ctypes.byref(out))
        return out

    def vm_stop(self, name: str) -> None:
        self._call("dvm_vm_stop", _b(name))

    def vm_destroy(self, name: str) -> None:
        self._call("dvm_vm_destroy", _b(name))

    def vm_get(self, name: str) -> VmInfo:
        out = VmInfo()
        self._call("dvm_vm_get", _b(name), ctypes.byref(out))
        return out

    def vm_list(self) -> list[VmInfo]:
        arr = ctypes.POINTER(VmInfo)()
        n = self._call("dvm_vm_list", ctypes.byref(arr))
        try:
            return [VmInfo.from_buffer_copy(arr[i]) for i in range(n)]
        finally:
            free(arr)

    def volume_layers(self, vm: str, volume: str) -> list[LayerInfo]:
        arr = ctypes.POINTER(LayerInfo)()
        n = self._call("dvm_volume_layers", _b(vm), _b(volume), ctypes.byref(arr))
        try:
            return [LayerInfo.from_buffer_copy(arr[i]) for i in range(n)]
        finally:
            free(arr)


    # ---- volumes one by one ----

    def volume_create(self, vm: str, volume: str, cfg: VolumeConfig) -> None:
        self._call("dvm_volume_create", _b(vm), _b(volume), ctypes.byref(cfg))

    def volume_remove(self, vm: str, volume: str) -> None:
        self._call("dvm_volume_remove", _b(vm), _b(volume))

    def volume_start(self, vm: str, volume: str) -> VolumeInfo:
        out = VolumeInfo()
        self._call("dvm_volume_start", _b(vm), _b(volume), ctypes.byref(out))
        return out

    def volume_stop(self, vm: str, volume: str) -> None:
        self._call("dvm_volume_stop", _b(vm), _b(volume))

    def _volumes(self, func: str, vm: str, volumes: list[str]) -> list[DvmError | None]:
        n = len(volumes)
        names = (ctypes.c_char_p * n)(*[_b(v) for v in volumes])
        results = (ctypes.c_int * n)()
        getattr(self._l, func)(self.ptr, _b(vm), names, n, results)
        # the last error is the failed volume's (the ones after it are -ECANCELED)
        return [None if r >= 0 else DvmError(func, -r, self.ctx.last_error() if r != -_errno.ECANCELED else "")
                for r in results]

    def volumes_start(self, vm: str, volumes: list[str]) -> list[DvmError | None]:
        """dvm_volumes_start(): one change of the pool for all; per volume None or its error."""
        return self._volumes("dvm_volumes_start", vm, volumes)

    def volumes_stop(self, vm: str, volumes: list[str]) -> list[DvmError | None]:
        """dvm_volumes_stop(): one change of the pool for all; per volume None or its error."""
        return self._volumes("dvm_volumes_stop", vm, volumes)

    def volume_get(self, vm: str, volume: str) -> VolumeInfo:
        out = VolumeInfo()
        self._call("dvm_volume_get", _b(vm), _b(volume), ctypes.byref(out))
        return out

    def volume_list(self) -> list[VolumeInfo]:
        arr = ctypes.POINTER(VolumeInfo)()
        n = self._call("dvm_volume_list", ctypes.byref(arr))
        try:
            return [VolumeInfo.from_buffer_copy(arr[i]) for i in range(n)]
        finally:
            free(arr)

    def volume_revisions(self, vm: str, volume: str) -> list[VolumeRevision]:
        arr = ctypes.POINTER(VolumeRevision)()
        n = self._call("dvm_volume_revisions", _b(vm), _b(volume), ctypes.byref(arr))
        try:
            return [VolumeRevision.from_buffer_copy(arr[i]) for i in range(n)]
        finally:
            free(arr)

    def volume_revert(self, vm: str, volume: str, revision: int = -1) -> None:
        self._call("dvm_volume_revert", _b(vm), _b(volume), revision)

    def volume_export(self, vm: str, volume: str) -> str:
        buf = ctypes.create_string_buffer(DVM_VOLUME_PATH_MAX)
        self._call("dvm_volume_export", _b(vm), _b(volume), buf)
        return text(buf.value)

    def volume_export_end(self, vm: str, volume: str, path: str) -> None:
        self._call("dvm_volume_export_end", _b(vm), _b(volume), _b(path))

    def volume_import_begin(self, vm: str, volume: str, size: int) -> str:
        buf = ctypes.create_string_buffer(DVM_VOLUME_PATH_MAX)
        self._call("dvm_volume_import_begin", _b(vm), _b(volume), size, buf)
        return text(buf.value)

    def volume_import_end(self, vm: str, volume: str, commit: bool) -> None:
        self._call("dvm_volume_import_end", _b(vm), _b(volume), commit)

    def volume_resize(self, vm: str, volume: str, size: int) -> None:
        self._call("dvm_volume_resize", _b(vm), _b(volume), size)


def name_check(kind: str, name: str) -> str | None:
    """Why @name is not a valid pool ("pool") or VM ("vm") name, or None when it is."""
    why = ctypes.c_char_p()
    fn = lib().dvm_pool_name_check if kind == "pool" else lib().dvm_name_check
    if fn(_b(name), ctypes.byref(why)) < 0:
        return text(why.value or b"invalid")
    return None


def parse_size(s: str) -> int:
    """"<n>[K|M|G|T]" or a plain byte count, as dvm_parse_size() reads it."""
    out = ctypes.c_uint64()
    r = lib().dvm_parse_size(_b(s), ctypes.byref(out))
    if r < 0:
        raise DvmError("dvm_parse_size", -r, f"size {s!r}: {os.strerror(-r)}")
    return out.value
