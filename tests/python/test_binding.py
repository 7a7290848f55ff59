# SPDX-License-Identifier: GPL-2.0-or-later
"""The binding on the host (no device-mapper needed): a failure is a DvmError with the errno
and the library's own message (dvm_ctx_last_error) naming the object; library calls run on
the library's thread while the asyncio loop keeps running; a missing library is one clear
error."""

import asyncio
import errno
import os
import subprocess
import sys
import tempfile
import threading
import unittest

import helpers
from dvm_vol import _libdvm as L


class Errors(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.ctx = L.call(L.Context, self.tmp.name)

    def tearDown(self):
        L.call(self.ctx.close)
        self.tmp.cleanup()

    def test_absent_pool_is_enoent_with_the_library_message(self):
        with self.assertRaises(L.DvmError) as cm:
            L.call(self.ctx.pool_open, "nosuch")
        e = cm.exception
        self.assertEqual(e.errno, errno.ENOENT, repr(e))
        self.assertEqual(e.func, "dvm_pool_open")
        self.assertIn("nosuch", str(e))
        # the message is the library's, not one made up here
        self.assertEqual(str(e), L.call(self.ctx.last_error))

    def test_bad_pool_name_is_einval_naming_it(self):
        with self.assertRaises(L.DvmError) as cm:
            L.call(self.ctx.pool_open, "no-dash")
        self.assertEqual(cm.exception.errno, errno.EINVAL, repr(cm.exception))
        self.assertIn("no-dash", str(cm.exception))

    @unittest.skipIf(os.path.exists("/dev/mapper/control"), "this host has device-mapper")
    def test_pool_init_without_device_mapper_is_enodev_and_makes_nothing(self):
        cfg = L.PoolConfig(data_size=1 << 30)
        with self.assertRaises(L.DvmError) as cm:
            L.call(self.ctx.pool_init, "p", cfg)
        self.assertEqual(cm.exception.errno, errno.ENODEV, repr(cm.exception))
        self.assertIn("device-mapper", str(cm.exception))
        self.assertEqual(L.call(self.ctx.pool_list), [])

    def test_state_dir_and_empty_list(self):
        self.assertEqual(L.call(lambda: self.ctx.state_dir), self.tmp.name)
        self.assertEqual(L.call(self.ctx.pool_list), [])

    def test_values(self):
        self.assertEqual(L.parse_size("3G"), 3 << 30)
        with self.assertRaises(L.DvmError) as cm:
            L.parse_size("3X")
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        self.assertIn("3X", str(cm.exception))
        self.assertIsNone(L.name_check("vm", "work-1.a"))
        self.assertIn("letter", L.name_check("vm", "1work"))
        self.assertIsNotNone(L.name_check("pool", "a-b"))


class Thread(unittest.TestCase):
    def test_calls_run_off_the_loop_and_the_loop_keeps_running(self):
        # the call waits for the loop to act while it is inside: a call made on the loop's
        # thread (or one that blocked it) would wait out the 30 s and return False
        seen = {}
        loop_ran = threading.Event()

        def call_that_needs_the_loop():
            seen["thread"] = threading.current_thread().name
            return loop_ran.wait(30)

        async def main():
            fut = asyncio.ensure_future(L.run(call_that_needs_the_loop))
            await asyncio.sleep(0)
            loop_ran.set()
            return await fut

        self.assertTrue(asyncio.run(main()), "the loop stalled while the library worked")
        self.assertTrue(seen["thread"].startswith("libdvm"), seen)

    def test_one_thread_owns_the_library(self):
        names = {L.call(lambda: threading.current_thread().ident) for _ in range(5)}
        self.assertEqual(len(names), 1)
        self.assertNotIn(threading.current_thread().ident, names)


class Loading(unittest.TestCase):
    def test_missing_library_is_one_clear_error(self):
        env = dict(os.environ, DVM_LIBDVM="/nonexistent/libdvm.so.0",
                   PYTHONPATH=os.path.join(helpers.TOP, "driver", "python"))
        r = subprocess.run([sys.executable, "-c",
                            "from dvm_vol import _libdvm as L\n"
                            "try:\n L.lib()\nexcept L.DvmError as e:\n print(e.errno, e)\n"],
                           env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^2 /nonexistent/libdvm.so.0: cannot load libdvm")


if __name__ == "__main__":
    unittest.main()
