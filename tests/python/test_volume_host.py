# SPDX-License-Identifier: GPL-2.0-or-later
"""The driver's Volume side on the host (no device-mapper): volume ids and names, the
ephemeral volatile that needs no cryptsetup layer, the device path, and every failure as a
StoragePoolException naming the pool and the volume with the library's message."""

import asyncio
import errno
import tempfile
import types
import unittest

import helpers  # noqa: F401
import qubes.exc
from qubes.storage import StoragePoolException
from dvm_vol.qubes_pool import DvmVolPool, split_vid


class VolumeHost(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.pool = DvmVolPool(name="qp", dvm_pool="dp", state_dir=self.tmp.name, revisions_to_keep=3)
        self.vm = types.SimpleNamespace(name="work")

    def tearDown(self):
        self.tmp.cleanup()

    def vol(self, name, **kw):
        cfg = {"name": name, "rw": True, "size": 1 << 20}
        cfg.update(kw)
        return self.pool.init_volume(self.vm, cfg)

    def test_ids_defaults_and_lookup(self):
        v = self.vol("private", save_on_stop=True)
        self.assertEqual(v.vid, "work/private")
        self.assertEqual(v.revisions_to_keep, 3, "the pool's revisions_to_keep is the default")
        self.assertIs(self.pool.get_volume("work/private"), v)
        self.assertEqual(v.config["vid"], "work/private")
        self.assertEqual(v.config["pool"], "qp")
        w = self.vol("root", vid="other/root", revisions_to_keep=0)
        self.assertEqual((w.vid, w.revisions_to_keep), ("other/root", 0))

    def test_a_source_in_another_pool_is_refused(self):
        other = DvmVolPool(name="elsewhere", dvm_pool="dp2", state_dir=self.tmp.name)
        src = other.init_volume(types.SimpleNamespace(name="tpl"), {"name": "root", "save_on_stop": True})
        with self.assertRaises(StoragePoolException) as cm:
            self.vol("root", snap_on_start=True, source=src)
        self.assertIn("qp:work/root", str(cm.exception))
        self.assertIn("another pool", str(cm.exception))

    def test_only_the_three_volumes(self):
        with self.assertRaises(NotImplementedError) as cm:
            self.vol("kernel")
        self.assertIn("kernel", str(cm.exception))
        for bad in ("work", "work/kernel", "/root", "a/b/root"):
            with self.subTest(bad), self.assertRaises(StoragePoolException):
                split_vid(bad)

    def test_device_path_and_ephemeral(self):
        vol = self.vol("volatile")
        root = self.vol("root", save_on_stop=True)
        self.assertEqual(vol.block_device().path, "/dev/mapper/DVM-dp-work-volatile")
        self.assertTrue(vol.block_device().rw)
        self.assertTrue(vol.ephemeral, "dvm-vol keys every volatile volume")
        self.assertFalse(root.ephemeral)
        with self.assertRaises(qubes.exc.QubesValueError):
            root.ephemeral = True
        # Qubes' Storage would put cryptsetup on an ephemeral volume: ours is the device itself
        self.assertEqual(vol.encrypted_volume_path("work", "volatile"), vol.path)
        dev = vol.block_device()
        self.assertIs(vol.make_encrypted_device(dev, "work"), dev)

    def test_library_failure_names_pool_and_volume(self):
        v = self.vol("private", save_on_stop=True)
        with self.assertRaises(StoragePoolException) as cm:
            asyncio.run(v.create())
        msg = str(cm.exception)
        self.assertIn("qp:work/private", msg)
        self.assertIn("create", msg)
        self.assertIn("pool dp is not initialised", msg, "the library's own message")
        self.assertEqual(cm.exception.errno, errno.ENOENT)

    def test_refusals_before_any_library_call(self):
        ro = self.vol("private", save_on_stop=True, rw=False)
        with self.assertRaises(StoragePoolException) as cm:
            asyncio.run(ro.resize(2 << 20))
        self.assertIn("qp:work/private", str(cm.exception))
        with self.assertRaises(StoragePoolException) as cm:
            asyncio.run(ro.revert("not-a-revision"))
        self.assertIn("qp:work/private", str(cm.exception))
        self.assertIn("not-a-revision", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
