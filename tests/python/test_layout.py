# SPDX-License-Identifier: GPL-2.0-or-later
"""The binding's struct mirrors against the C compiler: a program generated from each ctypes
Structure prints sizeof and every field's offsetof and size as include/dvm.h lays them out.
A field added, removed, renamed, resized or moved in the header fails here (a removed or
renamed field fails the compile; an added one changes sizeof)."""

import ctypes
import os
import shutil
import subprocess
import tempfile
import unittest

import helpers
from dvm_vol import _libdvm


def c_program(structs):
    lines = ["#include <dvm.h>", "#include <stdio.h>", "#include <stddef.h>",
             "#define F(s, f) printf(\"%s.%s %zu %zu\\n\", #s, #f, offsetof(s, f), sizeof(((s *)0)->f))",
             "int main(void)", "{"]
    for st in structs:
        lines.append(f'\tprintf("{st.c_name} %zu\\n", sizeof({st.c_name}));')
        for name, _ in st._fields_:
            lines.append(f"\tF({st.c_name}, {name});")
    lines += ["\treturn 0;", "}"]
    return "\n".join(lines) + "\n"


def python_side(structs):
    out = []
    for st in structs:
        out.append(f"{st.c_name} {ctypes.sizeof(st)}")
        for name, _ in st._fields_:
            f = getattr(st, name)
            out.append(f"{st.c_name}.{name} {f.offset} {f.size}")
    return out


class Layout(unittest.TestCase):
    def test_structs_match_the_header(self):
        cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
        if not cc:
            self.skipTest("no C compiler (cc) to check the layouts against")
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "layout.c")
            with open(src, "w") as f:
                f.write(c_program(_libdvm.STRUCTS))
            exe = os.path.join(tmp, "layout")
            r = subprocess.run([cc, "-std=gnu11", "-I", os.path.join(helpers.TOP, "include"),
                                "-o", exe, src], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, f"layout program does not compile:\n{r.stderr}")
            got = subprocess.run([exe], capture_output=True, text=True, check=True).stdout.split("\n")
        want = python_side(_libdvm.STRUCTS)
        self.assertEqual([l for l in got if l], want)

    def test_every_struct_of_the_header_used_by_the_binding_is_checked(self):
        # a struct passed by pointer to a bound function must be in STRUCTS
        for name, (_, argtypes) in _libdvm._PROTOTYPES.items():
            for a in argtypes:
                t = getattr(a, "_type_", None)
                while isinstance(t, type) and issubclass(t, ctypes._Pointer):
                    t = t._type_
                if isinstance(t, type) and issubclass(t, ctypes.Structure):
                    self.assertIn(t, _libdvm.STRUCTS, f"{name}: {t.__name__} is not layout-checked")


class Symbols(unittest.TestCase):
    def test_every_bound_function_is_exported(self):
        # a function of the header the library does not export (a source file left out of
        # the build) would make the binding fail at the first call instead of here
        import ctypes as c
        lib = c.CDLL(os.environ["DVM_LIBDVM"])
        missing = [n for n in _libdvm._PROTOTYPES if not hasattr(lib, n)]
        self.assertEqual(missing, [], f"{os.environ['DVM_LIBDVM']} does not export these")


if __name__ == "__main__":
    unittest.main()
