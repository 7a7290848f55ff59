# SPDX-License-Identifier: GPL-2.0-or-later
"""make bench, phase 6: a disposable through the dvm_vol Qubes pool driver (three
Volume.start() at once, then three stop(), as qubesd's Storage does) against the library's
spawn and destroy of a disposable of the same sizes, in the same process and pool, rounds
interleaved. Prints one "label ms" line per sample and the medians' ratios with the goal
(driver / library <= 1.3x). The stand-in of Qubes' framework (tests/python/stand_in) stands
for qubesd. Usage: /usr/bin/python3 bench/qubes_driver.py BUILD STATE_DIR ROUNDS"""

import asyncio
import errno
import os
import statistics
import sys
import time
import types

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(TOP, "driver", "python"), os.path.join(TOP, "tests", "python", "stand_in")]
os.environ.setdefault("DVM_LIBDVM", os.path.join(os.path.abspath(sys.argv[1]), "libdvm.so.0"))

from dvm_vol import _libdvm as L  # noqa: E402
from dvm_vol.qubes_pool import DvmVolPool  # noqa: E402

MiB = 1 << 20
ROOT, PRIVATE = 2048 * MiB, 512 * MiB


def ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


async def main() -> int:
    state, rounds = sys.argv[2], int(sys.argv[3])
    pool = DvmVolPool(name="qbench", dvm_pool="qb", state_dir=state, data_size="8G")
    await pool.setup()
    h = L.call(pool._open)
    try:
        L.call(h.volume_get, "zzprobe", "root")
    except L.DvmError as e:
        if e.errno == errno.ENOSYS:
            print("SKIP: libdvm answers -ENOSYS to dvm_volume_get: the per-volume calls are not there yet")
            return 0
    # the library's disposable: TemplateVM lt, DVM Template ld
    L.call(h.template_create, "lt", ROOT, PRIVATE)
    L.call(h.dvm_create, "ld", "lt", 0)

    def vol(vm: str, name: str, size: int, **kw):
        return pool.init_volume(types.SimpleNamespace(name=vm), dict(name=name, rw=True, size=size, **kw))

    tpl = [vol("qt", "root", ROOT, save_on_stop=True), vol("qt", "private", PRIVATE, save_on_stop=True)]
    dvm = [vol("qd", "root", ROOT, snap_on_start=True, source=tpl[0]),
           vol("qd", "private", PRIVATE, save_on_stop=True)]
    for v in tpl + dvm:
        await v.create()
    samples: dict[str, list[float]] = {k: [] for k in ("spawn", "destroy", "start", "stop", "create",
                                                       "remove", "api_start", "api_stop")}
    for i in range(rounds):
        order = [("lib", "drv", "api"), ("drv", "api", "lib"), ("api", "lib", "drv")][i % 3]
        for method in order:
            if method == "api":
                # the same three volumes through the binding alone (no driver): splits the
                # driver's own cost from that of the library's per-volume calls
                name = f"qapi{i}"
                cfgs = {"root": L.VolumeConfig(size=ROOT, flags=L.VOL_SNAP_ON_START | L.VOL_RW, source=b"qt/root"),
                        "private": L.VolumeConfig(size=PRIVATE, flags=L.VOL_SNAP_ON_START | L.VOL_RW,
                                                  source=b"qd/private"),
                        "volatile": L.VolumeConfig(size=1024 * MiB, flags=L.VOL_RW, ephemeral=True)}
                for n, c in cfgs.items():
                    await L.run(h.volume_create, name, n, c)
                t0 = time.perf_counter()
                for n in cfgs:
                    await L.run(h.volume_start, name, n)
                samples["api_start"].append(ms(t0))
                t0 = time.perf_counter()
                for n in cfgs:
                    await L.run(h.volume_stop, name, n)
                samples["api_stop"].append(ms(t0))
                for n in cfgs:
                    await L.run(h.volume_remove, name, n)
                continue
            if method == "lib":
                t0 = time.perf_counter()
                info = await L.run(h.spawn, "ld", None)
                samples["spawn"].append(ms(t0))
                t0 = time.perf_counter()
                await L.run(h.vm_destroy, L.text(info.name))
                samples["destroy"].append(ms(t0))
            else:
                name = f"qdisp{i}"
                d = [vol(name, "root", ROOT, snap_on_start=True, source=tpl[0]),
                     vol(name, "private", PRIVATE, snap_on_start=True, source=dvm[1]),
                     vol(name, "volatile", 1024 * MiB)]
                t0 = time.perf_counter()
                await asyncio.gather(*(v.create() for v in d))
                samples["create"].append(ms(t0))
                t0 = time.perf_counter()
                await asyncio.gather(*(v.start() for v in d))
                samples["start"].append(ms(t0))
                t0 = time.perf_counter()
                await asyncio.gather(*(v.stop() for v in d))
                samples["stop"].append(ms(t0))
                t0 = time.perf_counter()
                await asyncio.gather(*(v.remove() for v in d))
                samples["remove"].append(ms(t0))
    for k, v in samples.items():
        for x in v:
            print(f"{k} {x:.1f}")
    med = {k: statistics.median(v) for k, v in samples.items()}
    for a, b in (("start", "spawn"), ("stop", "destroy")):
        r = med[a] / med[b]
        print(f"figure: driver {a} x3 / library {b} = {r:.2f}x ({med[a]:.1f} / {med[b]:.1f} ms, "
              f"medians of {rounds}; goal 1.3x: {'met' if r <= 1.3 else 'not met'})")
    print(f"figure: binding alone start x3 / library spawn = {med['api_start'] / med['spawn']:.2f}x, "
          f"stop x3 / destroy = {med['api_stop'] / med['destroy']:.2f}x (the driver's own share is the rest)")
    r = (med["create"] + med["start"]) / med["spawn"]
    print(f"figure: driver create+start / library spawn = {r:.2f}x; "
          f"stop+remove / destroy = {(med['stop'] + med['remove']) / med['destroy']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
