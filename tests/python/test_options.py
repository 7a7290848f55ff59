# SPDX-License-Identifier: GPL-2.0-or-later
"""The pool driver's options on the host: the entry point in the tree loads DvmVolPool and no
option is required; options arrive as strings (qvm-pool -o, qubes.xml) and are read as
dvm-vol reads them; a bad option is a StoragePoolException naming the pool and the option;
config gives back what makes the same pool; setup refuses an absent dvm-vol pool when no
option says how to make one."""

import asyncio
import os
import shutil
import sys
import tempfile
import types
import unittest

import helpers
import qubes.storage
from qubes.storage import StoragePoolException
from dvm_vol.qubes_pool import DvmVolPool


class EntryPoint(unittest.TestCase):
    def test_tree_entry_point_loads_the_driver_and_nothing_is_required(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        di = os.path.join(tmp, "dvm_vol-0.dist-info")
        os.mkdir(di)
        with open(os.path.join(di, "METADATA"), "w") as f:
            f.write("Metadata-Version: 2.1\nName: dvm-vol\nVersion: 0\n")
        shutil.copy(os.path.join(helpers.TOP, "driver", "python", "dist-info", "entry_points.txt"), di)
        sys.path.insert(0, tmp)
        self.addCleanup(sys.path.remove, tmp)
        self.assertIn("dvm_vol", qubes.storage.pool_drivers())
        params = qubes.storage.driver_parameters("dvm_vol")
        self.assertEqual({k for k, req in params.items() if req}, set(), params)
        for o in ("dvm_pool", "state_dir", "data_dev", "metadata_dev", "data_size", "backend",
                  "revisions_to_keep", "ephemeral_volatile"):
            self.assertIn(o, params)


class Options(unittest.TestCase):
    def test_strings_as_qubes_xml_gives_them(self):
        p = DvmVolPool(name="dvm1", revisions_to_keep="2", ephemeral_volatile="False",
                       data_size="1G", block_size="128K", backend="thin", state_dir="/tmp/x")
        self.assertEqual(p.revisions_to_keep, 2)
        self.assertIs(p.ephemeral_volatile, False)
        self.assertEqual(p.data_size, 1 << 30)
        self.assertEqual(p.block_size, 128 << 10)
        self.assertEqual(p.dvm_pool, "dvm1")

    def test_config_makes_the_same_pool(self):
        p = DvmVolPool(name="q-pool", dvm_pool="qpool", data_dev="/dev/sdx1",
                       metadata_dev="/dev/sdx2", state_dir="/srv/dvm", revisions_to_keep=3)
        cfg = dict(p.config)
        self.assertEqual(cfg.pop("driver"), "dvm_vol")
        q = DvmVolPool(**{k: str(v) for k, v in cfg.items()})
        self.assertEqual(q.config, p.config)

    def test_bad_options_name_pool_and_option(self):
        cases = [
            (dict(name="p", backend="zfs"), "backend='zfs'"),
            (dict(name="my-pool"), "-o dvm_pool=NAME"),
            (dict(name="p", dvm_pool="a.b"), "'a.b'"),
            (dict(name="p", metadata_dev="/dev/x"), "metadata_dev needs data_dev"),
            (dict(name="p", data_size="lots"), "data_size='lots'"),
            (dict(name="p", data_dev="/dev/x", data_size="1G"), "data_size"),
        ]
        for kw, want in cases:
            with self.subTest(kw=kw):
                with self.assertRaises(StoragePoolException) as cm:
                    DvmVolPool(**kw)
                self.assertIn(want, str(cm.exception))
                self.assertIn(kw["name"], str(cm.exception))

    def test_setup_refuses_an_absent_pool_without_making_options(self):
        with tempfile.TemporaryDirectory() as d:
            p = DvmVolPool(name="absent", state_dir=d)
            with self.assertRaises(StoragePoolException) as cm:
                asyncio.run(p.setup())
            self.assertIn("absent", str(cm.exception))
            self.assertIn("does not exist", str(cm.exception))
            self.assertEqual(os.listdir(d), [])

    @unittest.skipIf(os.path.exists("/dev/mapper/control"), "this host has device-mapper")
    def test_setup_failure_of_the_library_is_a_storage_exception(self):
        with tempfile.TemporaryDirectory() as d:
            p = DvmVolPool(name="made", state_dir=d, data_size="1G")
            with self.assertRaises(StoragePoolException) as cm:
                asyncio.run(p.setup())
            self.assertIn("made", str(cm.exception))
            self.assertIn("device-mapper", str(cm.exception))

    def test_included_in_a_file_pool_holding_the_state_dir(self):
        outer = types.SimpleNamespace(dir_path="/var/lib")
        other = types.SimpleNamespace(dir_path="/srv")
        p = DvmVolPool(name="p", state_dir="/var/lib/dvm-vol")
        app = types.SimpleNamespace(pools={"a": other, "b": outer, "p": p})
        self.assertIs(p.included_in(app), outer)
        app.pools = {"a": other}
        self.assertIsNone(p.included_in(app))


if __name__ == "__main__":
    unittest.main()
