# SPDX-License-Identifier: GPL-2.0-or-later
"""The dvm_vol Qubes pool driver through real device-mapper, one test per point of the
storage contract (qubes-core-admin doc/qubes-storage.rst) and of lvm_thin's observable
behaviour; the framework is the stand-in, every volume is real."""

import asyncio
import errno
import os
import signal
import subprocess
import sys
import textwrap
import unittest

from vmlib import (MiB, PoolCase, L, device_size, read_mark, sh, write_mark)  # noqa: F401
from qubes.storage import StoragePoolException


class Model(PoolCase):
    """TemplateVM / DVM Template / disposable: snap_on_start takes the source's committed
    layer, save_on_stop commits at stop, volatile is fresh at every start."""

    async def test_template_dvm_template_disposable(self):
        tpl = await self.template("tpl")
        dvm = await self.appvm("dvm", tpl)
        disp = await self.disposable("disp1", tpl, dvm)

        await tpl["root"].start()
        self.assertTrue(tpl["root"].is_dirty(), "a started save_on_stop volume is dirty")
        p = tpl["root"].block_device().path
        self.assertEqual(p, f"/dev/mapper/DVM-{self.pname}-tpl-root")
        self.assertTrue(os.path.exists(p), p)
        write_mark(p, b"TPL1")
        await tpl["root"].stop()
        self.assertFalse(tpl["root"].is_dirty())
        self.assertFalse(os.path.exists(p), f"{p} stays after stop")

        for v in dvm.values():
            await v.start()
        self.assertEqual(read_mark(dvm["root"].path, 4), b"TPL1", "snap_on_start: the committed layer")
        write_mark(dvm["root"].path, b"JUNK")
        write_mark(dvm["private"].path, b"DVMP")
        # the head of a fresh volatile reads zeros (as Qubes' ephemeral start zeroes 64 KiB)
        self.assertEqual(read_mark(dvm["volatile"].path, 4), b"\0" * 4)
        self.assertEqual(read_mark(dvm["volatile"].path, 4, 60 << 10), b"\0" * 4)
        write_mark(dvm["volatile"].path, b"VOL1")
        for v in dvm.values():
            await v.stop()

        # the disposable: template root as committed (not the DVM Template's junk), the DVM
        # Template's private as committed, an empty volatile; twice, fresh each time
        for run in (1, 2):
            for v in disp.values():
                await v.start()
            self.assertEqual(read_mark(disp["root"].path, 4), b"TPL1", f"run {run}")
            self.assertEqual(read_mark(disp["private"].path, 4), b"DVMP", f"run {run}")
            self.assertEqual(read_mark(disp["volatile"].path, 4), b"\0" * 4, f"run {run}: volatile not fresh")
            if run == 2:
                self.assertNotEqual(read_mark(disp["volatile"].path, 4, MiB), b"DISP", "volatile kept data")
            for v in disp.values():
                self.assertFalse(v.is_dirty(), f"{v.vid}: a volume that saves nothing is never dirty")
                write_mark(v.path, b"DISP")
                write_mark(v.path, b"DISP", MiB)
            for v in disp.values():
                await v.stop()
        # nothing the disposable wrote reached its sources
        await dvm["private"].start()
        self.assertEqual(read_mark(dvm["private"].path, 4), b"DVMP")
        await dvm["private"].stop()
        self.assertEqual(self.kernel_volume_devices(), set())

    async def test_ephemeral_volatile_is_dvm_vols_own(self):
        tpl = await self.template("eph")
        v = tpl["volatile"]
        self.assertTrue(v.ephemeral)
        self.assertFalse(tpl["root"].ephemeral)
        # Qubes' Storage.start takes this path for an ephemeral volume: no cryptsetup on top
        await v.start_encrypted(v.encrypted_volume_path("eph", "volatile"))
        self.assertEqual(v.make_encrypted_device(v.block_device(), "eph").path, v.path)
        # the device the qube gets is a dm-crypt one (dvm-vol's own ephemeral key)
        table = sh(f"dmsetup table {os.path.basename(v.path)}")
        deps = sh(f"dmsetup deps -o devname {os.path.basename(v.path)}")
        self.assertTrue("crypt" in table or "crypt" in deps, f"table: {table} deps: {deps}")
        await v.stop_encrypted(v.encrypted_volume_path("eph", "volatile"))
        self.assertFalse(os.path.exists(v.path))


class Outdated(PoolCase):
    async def test_outdated_after_the_source_commits_while_a_snapshot_runs(self):
        tpl = await self.template("otpl")
        dvm = await self.appvm("odvm", tpl)
        await dvm["root"].start()
        self.assertFalse(dvm["root"].is_outdated())
        await tpl["root"].start()
        self.assertFalse(dvm["root"].is_outdated(), "the source runs but has not committed")
        write_mark(tpl["root"].path, b"NEW!")
        await tpl["root"].stop()
        self.assertTrue(dvm["root"].is_outdated(), "the source committed a new layer")
        self.assertFalse(tpl["root"].is_outdated(), "only snap_on_start volumes are outdated")
        await dvm["root"].stop()
        self.assertFalse(dvm["root"].is_outdated(), "a stopped snapshot is not outdated")
        await dvm["root"].start()
        self.assertFalse(dvm["root"].is_outdated())
        self.assertEqual(read_mark(dvm["root"].path, 4), b"NEW!")
        await dvm["root"].stop()


CRASH = textwrap.dedent("""
    import asyncio, os, signal, sys
    sys.path.insert(0, sys.argv[1])
    import vmlib
    from dvm_vol.qubes_pool import DvmVolPool
    pool = DvmVolPool(name="crash", dvm_pool=sys.argv[2], state_dir=sys.argv[3])
    vm, name, snap = sys.argv[4], sys.argv[5], sys.argv[6]
    cfg = {"name": name, "rw": True, "size": 32 << 20}
    if snap != "-":
        cfg.update(snap_on_start=True, source=pool.get_volume(snap))
    else:
        cfg.update(save_on_stop=True)
    v = pool.init_volume(type("VM", (), {"name": vm})(), cfg)
    asyncio.run(v.start())
    vmlib.write_mark(v.path, b"UNCOMMITTED")
    os.kill(os.getpid(), signal.SIGKILL)
""")


class Dirty(PoolCase):
    def crash(self, vm: str, name: str, snap: str = "-") -> None:
        """A qubesd that starts @vm/@name, writes to it and dies before stop."""
        r = subprocess.run([sys.executable, "-c", CRASH, os.path.dirname(os.path.abspath(__file__)),
                            self.pname, self.state, vm, name, snap], capture_output=True, text=True)
        self.assertEqual(r.returncode, -signal.SIGKILL, r.stderr)

    async def test_save_on_stop_picks_up_the_uncommitted_state(self):
        tpl = await self.template("dtpl")
        self.crash("dtpl", "private")
        # qubesd back: a new driver instance, the volume as the catalog describes it
        again = type(self.pool)(name=self.pool.name, dvm_pool=self.pname, state_dir=self.state)
        fresh = again.get_volume("dtpl/private")
        self.assertTrue(fresh.save_on_stop)
        self.assertTrue(fresh.is_dirty(), "a start whose stop never came leaves it dirty")
        # the next start (qubesd back, or after the device went with a reboot) keeps it
        await fresh.start()
        self.assertEqual(read_mark(fresh.path, 11), b"UNCOMMITTED")
        await fresh.stop()
        self.assertFalse(fresh.is_dirty())
        await fresh.start()
        self.assertEqual(read_mark(fresh.path, 11), b"UNCOMMITTED", "stop committed the picked-up state")
        await fresh.stop()

    async def test_after_a_reboot_the_dirty_layer_is_picked_up_too(self):
        tpl = await self.template("rtpl")
        self.crash("rtpl", "private")
        sh(f"dmsetup remove --retry DVM-{self.pname}-rtpl-private")  # the device goes with a reboot
        self.assertTrue(tpl["private"].is_dirty())
        await tpl["private"].start()
        self.assertEqual(read_mark(tpl["private"].path, 11), b"UNCOMMITTED")
        await tpl["private"].stop()

    async def test_snap_on_start_discards_what_a_crashed_run_wrote(self):
        tpl = await self.template("stpl")
        dvm = await self.appvm("sdvm", tpl)
        self.crash("sdvm", "root", "stpl/root")
        self.assertFalse(dvm["root"].is_dirty())
        await dvm["root"].start()
        self.assertEqual(read_mark(dvm["root"].path, 11), b"\0" * 11, "snap_on_start must start fresh")
        await dvm["root"].stop()


class Revisions(PoolCase):
    needs = PoolCase.needs + ("dvm_volume_revisions", "dvm_volume_revert", "dvm_volume_export",
                              "dvm_volume_export_end")

    async def run_once(self, v, mark: bytes) -> None:
        await v.start()
        write_mark(v.path, mark)
        await v.stop()

    async def read(self, v) -> bytes:
        """The committed layer, through an export: a start/stop would commit a revision."""
        path = await v.export()
        try:
            return read_mark(path, 2)
        finally:
            await v.export_end(path)

    async def test_kept_pruned_reverted(self):
        v = self.vol("rev", "private", save_on_stop=True, revisions_to_keep=2)
        await v.create()
        self.assertEqual(v.revisions, {})
        for m in (b"M1", b"M2", b"M3", b"M4"):
            await self.run_once(v, m)
        revs = v.revisions
        self.assertEqual(len(revs), 2, f"revisions_to_keep=2 keeps two: {revs}")
        for rid, date in revs.items():
            self.assertRegex(date, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$", rid)
        # newest first from the library; revert() without an id takes the newest (M3)
        self.assertEqual(await self.read(v), b"M4")
        await v.revert()
        self.assertEqual(await self.read(v), b"M3")
        self.assertEqual(v.revisions, revs, "the reverted-to revision stays (lvm_thin clones it)")
        older = min(v.revisions, key=int)
        await v.revert(older)
        self.assertEqual(await self.read(v), b"M2")
        # a start/stop commits, so the oldest revision goes: two kept still
        await self.run_once(v, b"M5")
        self.assertEqual(len(v.revisions), 2)
        self.assertNotIn(older, v.revisions)
        # a dirty volume is not reverted
        await v.start()
        with self.assertRaises(StoragePoolException) as cm:
            await v.revert()
        self.assertIn("rev/private", str(cm.exception))
        await v.stop()
        with self.assertRaises(StoragePoolException) as cm:
            await v.revert("no-such")
        self.assertIn("rev/private", str(cm.exception))

    async def test_zero_keeps_none(self):
        v = self.vol("rev0", "private", save_on_stop=True, revisions_to_keep=0)
        await v.create()
        for m in (b"A1", b"A2"):
            await self.run_once(v, m)
        self.assertEqual(v.revisions, {})


class Import(PoolCase):
    needs = PoolCase.needs + ("dvm_volume_import_begin", "dvm_volume_import_end",
                              "dvm_volume_export", "dvm_volume_export_end")

    async def test_import_data_with_a_new_size(self):
        tpl = await self.template("itpl")
        v = tpl["private"]
        path = await v.import_data(48 * MiB)
        self.assertEqual(device_size(path), 48 * MiB)
        write_mark(path, b"IMPORTED")
        write_mark(path, b"TAIL", 47 * MiB)
        # the volume is unchanged until the end
        self.assertEqual(v.size, 32 * MiB)
        await v.import_data_end(True)
        self.assertEqual(v.size, 48 * MiB)
        await v.start()
        self.assertEqual(read_mark(v.path, 8), b"IMPORTED")
        self.assertEqual(read_mark(v.path, 4, 47 * MiB), b"TAIL")
        self.assertEqual(device_size(v.path), 48 * MiB)
        await v.stop()

    async def test_failed_import_changes_nothing_and_end_without_begin_is_an_error(self):
        tpl = await self.template("ftpl")
        v = tpl["private"]
        await self.runmark(v, b"KEEP")
        path = await v.import_data(32 * MiB)
        write_mark(path, b"LOST")
        await v.import_data_end(False)
        self.assertFalse(os.path.exists(path), path)
        await v.start()
        self.assertEqual(read_mark(v.path, 4), b"KEEP")
        # importing into a dirty (started) volume is refused
        with self.assertRaises(StoragePoolException) as cm:
            await v.import_data(32 * MiB)
        self.assertIn("ftpl/private", str(cm.exception))
        await v.stop()
        with self.assertRaises(StoragePoolException) as cm:
            await v.import_data_end(True)
        self.assertIn("ftpl/private", str(cm.exception))

    async def runmark(self, v, mark: bytes) -> None:
        await v.start()
        write_mark(v.path, mark)
        await v.stop()

    async def test_import_volume_takes_the_source_size_and_content(self):
        a = await self.template("isrc")
        b = {"private": self.vol("idst", "private", 24 * MiB, save_on_stop=True),
             "volatile": self.vol("idst", "volatile")}
        for x in b.values():
            await x.create()
        await self.runmark(a["private"], b"FROMSRC")
        await b["private"].import_volume(a["private"])
        self.assertEqual(b["private"].size, 32 * MiB, "import_volume takes the source's size")
        await b["private"].start()
        self.assertEqual(read_mark(b["private"].path, 7), b"FROMSRC")
        await b["private"].stop()
        # a volume that saves nothing has nothing to import (lvm_thin: a no-op)
        await b["volatile"].import_volume(a["volatile"])

    async def test_export_while_running_shows_the_committed_state(self):
        tpl = await self.template("etpl")
        v = tpl["root"]
        await self.runmark(v, b"COMMITTED")
        await v.start()
        write_mark(v.path, b"RUNNINGXX")
        path = await v.export()
        self.assertNotEqual(path, v.path)
        self.assertEqual(read_mark(path, 9), b"COMMITTED")
        self.assertEqual(sh(f"blockdev --getro {path}").strip(), "1", f"{path} is not read-only")
        with self.assertRaises(OSError):
            write_mark(path, b"OVERWRITE")
        await v.export_end(path)
        self.assertFalse(os.path.exists(path))
        await v.stop()
        # a snapshot volume exports its source's committed layer
        dvm = await self.appvm("edvm", tpl)
        path = await dvm["root"].export()
        self.assertEqual(read_mark(path, 9), b"RUNNINGXX")
        await dvm["root"].export_end(path)


class Resize(PoolCase):
    needs = PoolCase.needs + ("dvm_volume_resize",)

    async def test_grow_shrink_readonly(self):
        tpl = await self.template("ztpl")
        v = tpl["private"]
        await v.resize(48 * MiB)
        self.assertEqual(v.size, 48 * MiB)
        await v.start()
        self.assertEqual(device_size(v.path), 48 * MiB)
        await v.stop()
        await v.resize(48 * MiB)  # the same size: nothing to do
        with self.assertRaises(StoragePoolException) as cm:
            await v.resize(16 * MiB)
        self.assertIn("ztpl/private", str(cm.exception))
        self.assertEqual(v.size, 48 * MiB)
        ro = self.vol("zro", "private", save_on_stop=True, rw=False)
        await ro.create()
        with self.assertRaises(StoragePoolException) as cm:
            await ro.resize(64 * MiB)
        self.assertIn("zro/private", str(cm.exception))

    async def test_grow_while_running(self):
        """qvm-volume extend of a running qube: the open device grows, its data stays."""
        tpl = await self.template("ytpl")
        v = tpl["private"]
        await v.start()
        write_mark(v.path, b"BEFOREGROW")
        await v.resize(64 * MiB)
        self.assertEqual(device_size(v.path), 64 * MiB)
        self.assertEqual(read_mark(v.path, 10), b"BEFOREGROW")
        await v.stop()
        self.assertEqual(v.size, 64 * MiB)
        await v.start()
        self.assertEqual(device_size(v.path), 64 * MiB, "the commit at stop kept the old size")
        await v.stop()


def pool_txn(pname: str) -> int:
    """The thin-pool's transaction id (it moves once per change of the pool)."""
    return int(sh(f"dmsetup status DVM-{pname}").split()[3])


def thin_pool_status(pname: str) -> tuple[int, int, int, int]:
    """used/total metadata blocks, used/total data blocks of the pool's thin-pool."""
    f = sh(f"dmsetup status DVM-{pname}").split()
    assert f[2] == "thin-pool", f
    mu, mt = map(int, f[4].split("/"))
    du, dt = map(int, f[5].split("/"))
    return mu, mt, du, dt


class PoolLevel(PoolCase):
    """What needs no per-volume call: setup made a real pool, its figures are the kernel's,
    a second driver instance opens it, destroy leaves it."""

    needs = ()

    async def test_setup_made_a_thin_pool_and_usage_is_the_kernels(self):
        info = L.call(self.handle().info)
        self.assertEqual(L.text(info.name), self.pname)
        self.assertTrue(info.active)
        mu, mt, du, dt = thin_pool_status(self.pname)
        d = self.pool.usage_details
        self.assertEqual(d["data_size"], dt * info.block_size)
        self.assertEqual(d["data_usage"], du * info.block_size)
        self.assertEqual(d["metadata_size"], mt * 4096)
        self.assertEqual(d["metadata_usage"], mu * 4096)
        self.assertEqual(self.pool.size, 2 << 30)
        self.assertEqual(self.pool.usage, d["data_usage"])

    async def test_second_instance_opens_it_and_destroy_leaves_it(self):
        for kw in ({}, {"data_size": "2G"}):
            again = type(self.pool)(name="again", dvm_pool=self.pname, state_dir=self.state, **kw)
            await again.setup()
            self.assertEqual(again.size, self.pool.size)
            await again.destroy()
        self.assertIn(self.pname, L.call(lambda: L.Context(self.state).pool_list()))
        self.assertTrue(os.path.exists(f"/dev/mapper/DVM-{self.pname}"))


class Usage(PoolCase):
    async def test_volume_and_pool_usage_against_the_kernel(self):
        tpl = await self.template("utpl")
        v = tpl["private"]
        await v.start()
        for i in range(8):
            write_mark(v.path, b"U", i * MiB)
        status = sh(f"dmsetup status {os.path.basename(v.path)}").split()
        # thin target status: <mapped sectors> <highest mapped sector>
        self.assertEqual(status[2], "thin", status)
        self.assertEqual(v.usage, int(status[3]) * 512, status)
        self.assertGreater(v.usage, 0)
        info = L.call(self.handle().info)
        mu, mt, du, dt = thin_pool_status(self.pname)
        d = self.pool.usage_details
        self.assertEqual(d["data_size"], dt * info.block_size)
        self.assertEqual(d["data_usage"], du * info.block_size)
        self.assertEqual(d["metadata_size"], mt * 4096)
        self.assertEqual(d["metadata_usage"], mu * 4096)
        self.assertEqual(self.pool.size, d["data_size"])
        self.assertEqual(self.pool.usage, d["data_usage"])
        await v.stop()


class Refusals(PoolCase):
    async def test_remove_of_a_volume_in_use_is_refused(self):
        tpl = await self.template("btpl")
        v = tpl["private"]
        await v.start()
        with self.assertRaises(StoragePoolException) as cm:
            await v.remove()
        self.assertIn("btpl/private", str(cm.exception))
        self.assertEqual(getattr(cm.exception, "errno", None), errno.EBUSY)
        self.assertTrue(os.path.exists(v.path))
        await v.stop()
        # as with lvm_thin, the source of a running snapshot can go: the snapshot keeps its
        # content until it stops (qubesd itself refuses to remove a template with dependents)
        dvm = await self.appvm("bdvm", tpl)
        await tpl["root"].start()
        write_mark(tpl["root"].path, b"BASE")
        await tpl["root"].stop()
        await dvm["root"].start()
        await tpl["root"].remove()
        self.assertEqual(read_mark(dvm["root"].path, 4), b"BASE")
        await dvm["root"].stop()
        for x in list(dvm.values()) + [tpl["private"], tpl["volatile"]]:
            await x.remove()
        with self.assertRaises(KeyError):
            self.pool.get_volume("btpl/private")
        self.assertNotIn("btpl/private", [x.vid for x in self.pool.list_volumes()])

    async def test_errors_are_storage_exceptions_naming_the_volume(self):
        tpl = await self.template("etpl")
        cases = [
            ("create twice", tpl["root"].create()),
            ("start of a volume never created", self.vol("never", "private", save_on_stop=True).start()),
            ("snapshot of a missing source", self.vol("orph", "root", snap_on_start=True,
                                                      source=self.vol("gone", "root", save_on_stop=True)).create()),
        ]
        for what, coro in cases:
            with self.subTest(what):
                with self.assertRaises(StoragePoolException) as cm:
                    await coro
                msg = str(cm.exception)
                self.assertRegex(msg, r"(etpl/root|never/private|orph/root)", msg)
                self.assertIn(self.pool.name, msg)

    async def test_verify_list_get(self):
        tpl = await self.template("vtpl")
        dvm = await self.appvm("vdvm", tpl)
        self.assertTrue(await dvm["root"].verify())
        self.assertTrue(await dvm["volatile"].verify())
        vids = {x.vid for x in self.pool.list_volumes()}
        self.assertLessEqual({"vtpl/root", "vtpl/private", "vdvm/root", "vdvm/private"}, vids)
        # a fresh driver instance (qubesd restarted) reads the catalog
        again = type(self.pool)(name=self.pool.name, dvm_pool=self.pname, state_dir=self.state)
        g = again.get_volume("vdvm/root")
        self.assertTrue(g.snap_on_start)
        self.assertEqual(g.source.vid, "vtpl/root")
        self.assertEqual(g.size, 64 * MiB)
        missing = self.vol("vmiss", "root", snap_on_start=True, source=self.vol("vnone", "root", save_on_stop=True))
        with self.assertRaises(StoragePoolException) as cm:
            await missing.verify()
        self.assertIn("vmiss/root", str(cm.exception))


class Concurrency(PoolCase):
    async def test_eight_disposables_at_once(self):
        tpl = await self.template("ctpl")
        dvm = await self.appvm("cdvm", tpl)
        await self.runmark(tpl["root"], b"CTPL")

        async def one(i: int) -> None:
            d = await self.disposable(f"cdisp{i}", tpl, dvm)
            for _ in range(2):
                await asyncio.gather(*(v.start() for v in d.values()))
                self.assertEqual(read_mark(d["root"].path, 4), b"CTPL")
                write_mark(d["private"].path, f"D{i}".encode())
                await asyncio.gather(*(v.stop() for v in d.values()))
            await asyncio.gather(*(v.remove() for v in d.values()))

        async def half(i: int) -> dict:
            d = await self.disposable(f"chalf{i}", tpl, dvm)
            await asyncio.gather(*(v.start() for v in d.values()))
            return d

        results = await asyncio.gather(*(one(i) for i in range(8)), *(half(i) for i in range(2)),
                                       return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        self.assertEqual(errors, [])
        # the kernel's volume devices are exactly the catalog's active volumes: chalf0/1
        infos = L.call(self.handle().volume_list)
        active = {f"{L.text(i.vm)}/{L.text(i.name)}" for i in infos if i.active}
        self.assertEqual(self.kernel_volume_devices(), active)
        self.assertEqual(active, {f"chalf{i}/{n}" for i in range(2) for n in ("root", "private", "volatile")})
        self.assertFalse([L.text(i.vm) for i in infos if L.text(i.vm).startswith("cdisp")])
        # and recovery finds nothing to repair
        rep = L.call(self.handle().recover)
        self.assertEqual({n: getattr(rep, n) for n, _ in rep._fields_ if getattr(rep, n)}, {})
        for d in results[8:]:
            await asyncio.gather(*(v.stop() for v in d.values()))
        self.assertEqual(self.kernel_volume_devices(), set())

    async def test_a_qubes_volumes_go_together(self):
        """Storage.start/stop gather a qube's volumes: one change of the pool for the three
        (the thin-pool's transaction id moves once, as for one volume alone)."""
        tpl = await self.template("gtpl")
        dvm = await self.appvm("gdvm", tpl)
        d = await self.disposable("gdisp", tpl, dvm)
        t0 = pool_txn(self.pname)
        await dvm["private"].start()
        one = pool_txn(self.pname) - t0
        await dvm["private"].stop()
        t0 = pool_txn(self.pname)
        await asyncio.gather(*(v.start() for v in d.values()))
        self.assertEqual(pool_txn(self.pname) - t0, one, "three starts at once were not one change")
        names = {f"gdisp/{n}" for n in d}
        self.assertEqual(self.kernel_volume_devices() & names, names)
        t0 = pool_txn(self.pname)
        await asyncio.gather(*(v.stop() for v in d.values()))
        self.assertEqual(pool_txn(self.pname) - t0, one, "three stops at once were not one change")
        self.assertFalse(self.kernel_volume_devices() & names)

    async def runmark(self, v, mark: bytes) -> None:
        await v.start()
        write_mark(v.path, mark)
        await v.stop()


if __name__ == "__main__":
    unittest.main()
