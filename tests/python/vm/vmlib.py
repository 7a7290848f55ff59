# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures of the driver's vm tier tests (real device-mapper, root): a fresh file-backed
dvm-vol pool made through the driver for each test class, swept after; reading and writing
marks on volume devices (O_DIRECT: what the kernel holds, not a cached page); the libdvm
calls not implemented yet (-ENOSYS), found by calling each one harmlessly, so a test that
needs one skips naming it."""

import asyncio
import ctypes
import errno
import mmap
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import helpers  # noqa: E402,F401  (paths: the tree's dvm_vol, the stand-in qubes)

from dvm_vol import _libdvm as L  # noqa: E402
from dvm_vol.qubes_pool import DvmVolPool  # noqa: E402

MiB = 1 << 20
DVM = os.path.join(helpers.BUILD, "dvm-vol")


def sh(cmd: str) -> str:
    return subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, check=True).stdout


# ---- which calls the library has ------------------------------------------------------------

def _probes(h: L.PoolHandle) -> dict:
    absent = ("zzprobe", "root")
    return {
        "dvm_volume_create": lambda: h.volume_create(*absent, L.VolumeConfig(size=0)),
        "dvm_volume_remove": lambda: h.volume_remove(*absent),
        "dvm_volume_start": lambda: h.volume_start(*absent),
        "dvm_volume_stop": lambda: h.volume_stop(*absent),
        "dvm_volume_get": lambda: h.volume_get(*absent),
        "dvm_volume_list": lambda: h.volume_list(),
        "dvm_volume_revisions": lambda: h.volume_revisions(*absent),
        "dvm_volume_revert": lambda: h.volume_revert(*absent, -1),
        "dvm_volume_export": lambda: h.volume_export(*absent),
        "dvm_volume_export_end": lambda: h.volume_export_end(*absent, "/nonexistent"),
        "dvm_volume_import_begin": lambda: h.volume_import_begin(*absent, 0),
        "dvm_volume_import_end": lambda: h.volume_import_end(*absent, False),
        "dvm_volume_resize": lambda: h.volume_resize(*absent, MiB),
    }


_missing: set[str] | None = None


def missing_calls(h: L.PoolHandle) -> set[str]:
    """The dvm_volume_* calls that answer -ENOSYS (or are not exported)."""
    global _missing
    if _missing is None:
        out = set()
        for name, probe in _probes(h).items():
            if not L.has(name):
                out.add(name)
                continue
            try:
                L.call(probe)
            except L.DvmError as e:
                if e.errno == errno.ENOSYS:
                    out.add(name)
        _missing = out
        if out:
            print(f"\nvm tier (qubes driver): libdvm lacks {', '.join(sorted(out))} "
                  "(-ENOSYS): the tests that need them are skipped", file=sys.stderr)
    return _missing


# ---- the pool -----------------------------------------------------------------------------

class PoolCase(unittest.IsolatedAsyncioTestCase):
    """A test class with its own dvm-vol pool (file-backed, 2 GiB) made by the driver."""

    pool: DvmVolPool
    state: str
    needs: tuple[str, ...] = ("dvm_volume_create", "dvm_volume_get", "dvm_volume_start",
                              "dvm_volume_stop", "dvm_volume_remove")

    @classmethod
    def setUpClass(cls) -> None:
        if os.geteuid() != 0 or not os.path.exists("/dev/mapper/control"):
            raise unittest.SkipTest("needs root and device-mapper (the vm tier)")
        cls.state = tempfile.mkdtemp(prefix="dvmq-", dir="/tmp")
        cls.pname = f"q{os.getpid()}{cls.__name__[:6]}"
        cls.pool = DvmVolPool(name=f"qubes-{cls.pname}", dvm_pool=cls.pname, state_dir=cls.state,
                              data_size="2G", revisions_to_keep=1)
        asyncio.run(cls.pool.setup())

    @classmethod
    def tearDownClass(cls) -> None:
        if getattr(cls, "pool", None) is None:
            return
        asyncio.run(cls.pool.destroy())
        sweep(cls.pname, cls.state)

    def setUp(self) -> None:
        lacking = [n for n in self.needs if n in missing_calls(self.pool._sync("probe", lambda h: h))]
        if lacking:
            self.skipTest(f"libdvm lacks {', '.join(lacking)} (returns -ENOSYS)")

    async def asyncSetUp(self) -> None:
        # the test loop runs in debug mode, which reports any step over 0.1 s; under TCG on a
        # shared host a step that only hands work to the library thread can take that long.
        # A step of 2 s is the loop waiting on the kernel: that is reported.
        asyncio.get_running_loop().slow_callback_duration = 2.0

    def handle(self) -> L.PoolHandle:
        return L.call(self.pool._open)

    # volumes of the three kinds, as qubesd's Storage gives them to init_volume
    def vol(self, vm: str, name: str, size: int = 32 * MiB, **kw) -> "qubes.storage.Volume":
        cfg = {"name": name, "rw": True, "size": size}
        cfg.update(kw)
        return self.pool.init_volume(type("VM", (), {"name": vm})(), cfg)

    async def template(self, vm: str, **kw) -> dict:
        v = {"root": self.vol(vm, "root", 64 * MiB, save_on_stop=True, **kw),
             "private": self.vol(vm, "private", save_on_stop=True, **kw),
             "volatile": self.vol(vm, "volatile")}
        for x in v.values():
            await x.create()
        return v

    async def appvm(self, vm: str, tpl: dict) -> dict:
        """A DVM Template (an AppVM): root a snapshot of the template's, private its own."""
        v = {"root": self.vol(vm, "root", 64 * MiB, snap_on_start=True, source=tpl["root"]),
             "private": self.vol(vm, "private", save_on_stop=True),
             "volatile": self.vol(vm, "volatile")}
        for x in v.values():
            await x.create()
        return v

    async def disposable(self, vm: str, tpl: dict, dvm: dict) -> dict:
        """Root: the TemplateVM's root (Qubes follows the chain); private: the DVM Template's."""
        v = {"root": self.vol(vm, "root", 64 * MiB, snap_on_start=True, source=tpl["root"]),
             "private": self.vol(vm, "private", snap_on_start=True, source=dvm["private"]),
             "volatile": self.vol(vm, "volatile")}
        for x in v.values():
            await x.create()
        return v

    def kernel_volume_devices(self) -> set[str]:
        """Every volume device of this pool in the kernel (a volatile's "-raw" layer counted
        as its volume) as "<vm>/<volume>"; a name that is no volume's, as it is."""
        out = set()
        for line in sh("dmsetup info -c --noheadings -o name 2>/dev/null || true").split():
            if line.startswith(f"DVM-{self.pname}-"):
                rest = line[len(f"DVM-{self.pname}-"):].removesuffix("-raw")
                vm, _, vol = rest.rpartition("-")
                out.add(f"{vm}/{vol}" if vol in ("root", "private", "volatile") and vm else line)
        return out


def sweep(pname: str, state: str) -> None:
    """Every device, loop and file of pool @pname (test cleanup, not the product)."""
    for _ in range(3):
        names = [n for n in sh("dmsetup info -c --noheadings -o name 2>/dev/null || true").split()
                 if n.startswith(f"DVM-{pname}")]
        # volumes before the pool they map onto
        for n in sorted(names, key=lambda n: (n == f"DVM-{pname}" or "+" in n, n)):
            subprocess.run(["dmsetup", "remove", "--retry", n], capture_output=True)
    sh(f"losetup -nO NAME,BACK-FILE | while read -r d f; do case $f in {state}/*) losetup -d $d;; esac; done")
    shutil.rmtree(state, ignore_errors=True)


# ---- device contents ------------------------------------------------------------------------

def write_mark(path: str, mark: bytes, offset: int = 0) -> None:
    buf = mmap.mmap(-1, 4096)
    buf.write(mark.ljust(4096, b"\0"))
    fd = os.open(path, os.O_WRONLY | os.O_DIRECT)
    try:
        assert os.pwritev(fd, [buf], offset) == 4096
        os.fsync(fd)
    finally:
        os.close(fd)


def read_mark(path: str, n: int, offset: int = 0) -> bytes:
    buf = mmap.mmap(-1, 4096)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    try:
        assert os.preadv(fd, [buf], offset) == 4096
    finally:
        os.close(fd)
    return bytes(buf[:n])


def device_size(path: str) -> int:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)
