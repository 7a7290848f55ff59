// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, the per-volume calls (dvm_volume_*) a Qubes pool driver makes, one test per
 * point of the contract Qubes' lvm_thin shows: save_on_stop commits at stop, snap_on_start
 * takes the source's committed layer, volatile is fresh, outdated, dirty after a crash
 * (picked up or discarded by the next start), revisions kept, pruned and reverted, import
 * with and without a size, export while running, resize (also of a started volume), remove
 * of a started volume, and
 * errors that name the volume. Real device-mapper; the witnesses are the devices' bytes,
 * dmsetup and the pool's thin ids.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dvm.h"
#include "vmtest.h"

#define MiB (1ULL << 20)
#define SIZE (32 * MiB)

static struct vt vt;
static dvm_ctx *ctx;
static dvm_pool *pool;

static void open_pool(void)
{
        cr_assert_eq(dvm_ctx_new(vt.state, &ctx), 0, "dvm_ctx_new");
        int r = dvm_pool_open(ctx, vt.pool, &pool);
        cr_assert_eq(r, 0, "dvm_pool_open: %d (%s)", r, dvm_ctx_last_error(ctx));
}

static void close_pool(void)
{
        pool = dvm_pool_close(pool);
        ctx = dvm_ctx_free(ctx);
}

static void setup(void)
{
        vt_require_dm();
        vt_init(&vt, "1G");
        open_pool();
}

static void teardown(void)
{
        close_pool();
        vt_cleanup(&vt);
}

TestSuite(volume_api, .init = setup, .fini = teardown, .timeout = 600);

static void create(const char *vm, const char *vol, unsigned flags, const char *source, unsigned keep)
{
        struct dvm_volume_config cfg = { .size = SIZE, .flags = flags, .source = source, .revisions_to_keep = keep };
        int r = dvm_volume_create(pool, vm, vol, &cfg);
        cr_assert_eq(r, 0, "create %s/%s: %d (%s)", vm, vol, r, dvm_ctx_last_error(ctx));
}

static struct dvm_volume_info start(const char *vm, const char *vol)
{
        struct dvm_volume_info info;
        int r = dvm_volume_start(pool, vm, vol, &info);
        cr_assert_eq(r, 0, "start %s/%s: %d (%s)", vm, vol, r, dvm_ctx_last_error(ctx));
        cr_assert(info.active && info.path[0], "%s/%s started without a device", vm, vol);
        return info;
}

static void stop(const char *vm, const char *vol)
{
        int r = dvm_volume_stop(pool, vm, vol);
        cr_assert_eq(r, 0, "stop %s/%s: %d (%s)", vm, vol, r, dvm_ctx_last_error(ctx));
}

static struct dvm_volume_info get(const char *vm, const char *vol)
{
        struct dvm_volume_info info;
        int r = dvm_volume_get(pool, vm, vol, &info);
        cr_assert_eq(r, 0, "get %s/%s: %d (%s)", vm, vol, r, dvm_ctx_last_error(ctx));
        return info;
}

/* A save_on_stop volume whose committed layer holds pattern @seed in its first 4 MiB. */
static void committed_with(const char *vm, const char *vol, uint32_t seed, unsigned keep)
{
        create(vm, vol, DVM_VOL_SAVE_ON_STOP | DVM_VOL_RW, NULL, keep);
        vt_pattern(start(vm, vol).path, 0, 4 * MiB, seed);
        stop(vm, vol);
}

/* Start, write pattern @seed, stop: one commit. */
static void commit_seed(const char *vm, const char *vol, uint32_t seed)
{
        vt_pattern(start(vm, vol).path, 0, 4 * MiB, seed);
        stop(vm, vol);
}

static bool device_exists(const char *path)
{
        return access(path, F_OK) == 0;
}

static bool has_id(int64_t id)
{
        char *ids = vt_thin_ids(&vt), want[32];
        snprintf(want, sizeof(want), " %lld ", (long long)id);
        bool has = strstr(ids, want) != NULL;
        free(ids);
        return has;
}

Test(volume_api, save_on_stop_commits_at_stop)
{
        create("tmpl", "private", DVM_VOL_SAVE_ON_STOP | DVM_VOL_RW, NULL, 0);
        struct dvm_volume_info info = start("tmpl", "private");
        cr_assert(info.dirty, "a started save_on_stop volume is dirty (Qubes' is_dirty)");
        vt_pattern(info.path, 0, 4 * MiB, 7);
        stop("tmpl", "private");
        info = get("tmpl", "private");
        cr_assert(!info.dirty && !info.active, "stopped: dirty %d active %d", info.dirty, info.active);
        cr_assert(!device_exists(info.path[0] ? info.path : "/dev/mapper/none"), "device left after stop");

        info = start("tmpl", "private");
        cr_assert(vt_has_pattern(info.path, 0, 4 * MiB, 7), "the commit at stop was lost");
        stop("tmpl", "private");
}

Test(volume_api, snap_on_start_takes_the_committed_layer_of_its_source)
{
        committed_with("tmpl", "root", 1, 0);
        create("app", "root", DVM_VOL_SNAP_ON_START | DVM_VOL_RW, "tmpl/root", 0);

        /* the source runs with changes not committed yet: the snapshot does not see them */
        vt_pattern(start("tmpl", "root").path, 0, 4 * MiB, 2);
        struct dvm_volume_info app = start("app", "root");
        cr_assert(vt_has_pattern(app.path, 0, 4 * MiB, 1), "snap_on_start did not take the committed layer");
        cr_assert_str_eq(app.source, "tmpl/root", "source shown: %s", app.source);
        vt_pattern(app.path, 0, 4 * MiB, 3);
        stop("app", "root");
        stop("tmpl", "root");

        /* its writes never reach the source, and are gone at the next start */
        struct dvm_volume_info t = start("tmpl", "root");
        cr_assert(vt_has_pattern(t.path, 0, 4 * MiB, 2), "the source lost its own commit");
        stop("tmpl", "root");
        app = start("app", "root");
        cr_assert(vt_has_pattern(app.path, 0, 4 * MiB, 2), "snap_on_start kept its own writes or an old layer");
        stop("app", "root");
}

Test(volume_api, volatile_is_fresh_and_ephemeral_at_each_start)
{
        int st;
        create("app", "volatile", DVM_VOL_RW, NULL, 0);
        struct dvm_volume_info v = start("app", "volatile");
        cr_assert(v.ephemeral, "volatile not under an ephemeral key");
        char *table = vt_sh(&st, "dmsetup table %s", strrchr(v.path, '/') + 1);
        cr_assert(strstr(table, " crypt "), "volatile device is not a crypt device: %s", table);
        free(table);
        vt_pattern(v.path, 0, 4 * MiB, 5);
        int64_t old = v.backend_id;
        stop("app", "volatile");
        cr_assert(!has_id(old), "the volatile layer %lld outlived its stop", (long long)old);
        v = start("app", "volatile");
        /* under a new key even its unwritten blocks read as noise: the old data must not show */
        cr_assert(v.backend_id != old, "volatile reused layer %lld", (long long)old);
        cr_assert(!vt_has_pattern(v.path, 0, 4 * MiB, 5), "volatile kept data across a stop");
        stop("app", "volatile");
}

Test(volume_api, outdated_once_the_source_commits)
{
        committed_with("tmpl", "root", 1, 0);
        create("app", "root", DVM_VOL_SNAP_ON_START | DVM_VOL_RW, "tmpl/root", 0);
        start("app", "root");
        cr_assert(!get("app", "root").outdated, "outdated before the source changed");
        commit_seed("tmpl", "root", 2);
        cr_assert(get("app", "root").outdated, "not outdated after its source committed");
        stop("app", "root");
        start("app", "root");
        cr_assert(!get("app", "root").outdated, "still outdated after a new start");
        stop("app", "root");
}

/* Start @vm/@vol in a child process that writes pattern @seed and dies without a stop. */
static void crash_while_started(const char *vm, const char *vol, uint32_t seed)
{
        pid_t pid = fork();
        cr_assert(pid >= 0, "fork");
        if (pid == 0) {
                dvm_ctx *c = NULL;
                dvm_pool *p = NULL;
                struct dvm_volume_info info;
                if (dvm_ctx_new(vt.state, &c) < 0 || dvm_pool_open(c, vt.pool, &p) < 0 ||
                    dvm_volume_start(p, vm, vol, &info) < 0)
                        _exit(2);
                vt_pattern(info.path, 0, 4 * MiB, seed);
                _exit(0); /* no stop, no close: what a crash leaves */
        }
        int status;
        waitpid(pid, &status, 0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the crashing child failed: %d", status);
}

Test(volume_api, dirty_after_a_crash_and_the_next_start_picks_it_up)
{
        committed_with("tmpl", "private", 1, 0);
        crash_while_started("tmpl", "private", 9);
        close_pool();
        open_pool();
        struct dvm_volume_info info = get("tmpl", "private");
        cr_assert(info.dirty, "not dirty after a start without its stop");

        /* and across a reboot: its device gone, the running layer is still there */
        close_pool();
        vt_reboot(&vt);
        open_pool();
        info = get("tmpl", "private");
        cr_assert(info.dirty && !info.active, "after a reboot: dirty %d active %d", info.dirty, info.active);
        info = start("tmpl", "private");
        cr_assert(vt_has_pattern(info.path, 0, 4 * MiB, 9), "start did not pick up the uncommitted changes");
        stop("tmpl", "private");
        cr_assert(!get("tmpl", "private").dirty, "dirty after its stop");
        info = start("tmpl", "private");
        cr_assert(vt_has_pattern(info.path, 0, 4 * MiB, 9), "the picked-up changes were not committed");
        stop("tmpl", "private");
}

Test(volume_api, snap_on_start_left_by_a_crash_is_discarded_at_start)
{
        committed_with("tmpl", "root", 1, 0);
        create("app", "root", DVM_VOL_SNAP_ON_START | DVM_VOL_RW, "tmpl/root", 0);
        crash_while_started("app", "root", 4);
        close_pool();
        open_pool();
        struct dvm_volume_info info = get("app", "root");
        cr_assert(info.active && !info.dirty, "snap_on_start after a crash: active %d dirty %d", info.active,
                  info.dirty);
        int64_t left = info.backend_id;
        info = start("app", "root");
        cr_assert(info.backend_id != left, "the running layer of the crashed start was reused");
        cr_assert(vt_has_pattern(info.path, 0, 4 * MiB, 1), "start kept what the crashed run wrote");
        stop("app", "root");
        char *ids = vt_thin_ids(&vt);
        char want[32];
        snprintf(want, sizeof(want), " %lld ", (long long)left);
        cr_assert(!strstr(ids, want), "the dropped layer %lld is still in the pool: %s", (long long)left, ids);
        free(ids);
}

/* The committed layer of tmpl/private holds pattern @seed. */
static void committed_holds(uint32_t seed)
{
        char path[DVM_VOLUME_PATH_MAX];
        int r = dvm_volume_export(pool, "tmpl", "private", path);
        cr_assert_eq(r, 0, "export: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_assert(vt_has_pattern(path, 0, 4 * MiB, seed), "the committed layer does not hold pattern %u", seed);
        r = dvm_volume_export_end(pool, "tmpl", "private", path);
        cr_assert_eq(r, 0, "export_end: %d (%s)", r, dvm_ctx_last_error(ctx));
}

Test(volume_api, revisions_kept_pruned_and_reverted)
{
        struct dvm_volume_revision *revs = NULL;
        committed_with("tmpl", "private", 1, 2);
        int64_t first = get("tmpl", "private").backend_id;
        for (uint32_t seed = 2; seed <= 4; seed++)
                commit_seed("tmpl", "private", seed);

        int n = dvm_volume_revisions(pool, "tmpl", "private", &revs);
        cr_assert_eq(n, 2, "revisions kept: %d (%s), want 2", n, dvm_ctx_last_error(ctx));
        cr_assert_eq(get("tmpl", "private").n_revisions, 2u, "n_revisions");
        cr_assert(revs[0].time >= revs[1].time && revs[0].id != revs[1].id, "not newest first");
        cr_assert(!has_id(first), "pruned revision %lld still in the pool", (long long)first);
        cr_assert(has_id(revs[0].id) && has_id(revs[1].id), "a kept revision is not in the pool");
        int64_t older = revs[1].id;
        free(revs);

        /* the newest revision holds seed 3, the older seed 2 (read through an export: a
         * start and stop would commit, and prune) */
        int r = dvm_volume_revert(pool, "tmpl", "private", -1);
        cr_assert_eq(r, 0, "revert: %d (%s)", r, dvm_ctx_last_error(ctx));
        committed_holds(3);
        cr_assert_eq(dvm_volume_revisions(pool, "tmpl", "private", &revs), 2, "revert changed the revisions");
        free(revs);
        r = dvm_volume_revert(pool, "tmpl", "private", older);
        cr_assert_eq(r, 0, "revert %lld: %d (%s)", (long long)older, r, dvm_ctx_last_error(ctx));
        committed_holds(2);
        struct dvm_volume_info info = start("tmpl", "private");
        cr_assert(vt_has_pattern(info.path, 0, 4 * MiB, 2), "start after a revert");
        r = dvm_volume_revert(pool, "tmpl", "private", -1);
        cr_assert_eq(r, -EBUSY, "revert of a dirty volume: %d", r);
        cr_assert(strstr(dvm_ctx_last_error(ctx), "tmpl/private"), "message: %s", dvm_ctx_last_error(ctx));
        stop("tmpl", "private");
        r = dvm_volume_revert(pool, "tmpl", "private", 999999);
        cr_assert_eq(r, -ENOENT, "revert to no revision: %d", r);
}

Test(volume_api, import_with_and_without_a_size)
{
        char path[DVM_VOLUME_PATH_MAX];
        committed_with("tmpl", "private", 1, 1);

        int r = dvm_volume_import_begin(pool, "tmpl", "private", 0, path);
        cr_assert_eq(r, 0, "import_begin: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_assert(get("tmpl", "private").importing, "not importing");
        r = dvm_volume_start(pool, "tmpl", "private", NULL);
        cr_assert_eq(r, -EBUSY, "start during an import: %d", r);
        vt_pattern(path, 0, 4 * MiB, 6);
        r = dvm_volume_import_end(pool, "tmpl", "private", true);
        cr_assert_eq(r, 0, "import_end: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_assert(!device_exists(path), "import device left: %s", path);
        struct dvm_volume_info info = start("tmpl", "private");
        cr_assert(vt_has_pattern(info.path, 0, 4 * MiB, 6), "the import was not committed");
        cr_assert_eq(info.size, SIZE, "size %llu", (unsigned long long)info.size);
        cr_assert_eq(info.n_revisions, 1u, "the replaced layer is no revision: %u", info.n_revisions);
        stop("tmpl", "private");

        r = dvm_volume_import_begin(pool, "tmpl", "private", 48 * MiB, path);
        cr_assert_eq(r, 0, "import_begin 48M: %d (%s)", r, dvm_ctx_last_error(ctx));
        vt_pattern(path, 40 * MiB, 4 * MiB, 8);
        r = dvm_volume_import_end(pool, "tmpl", "private", true);
        cr_assert_eq(r, 0, "import_end: %d (%s)", r, dvm_ctx_last_error(ctx));
        info = start("tmpl", "private");
        cr_assert_eq(info.size, 48 * MiB, "size after an import of 48M: %llu", (unsigned long long)info.size);
        cr_assert(vt_has_pattern(info.path, 40 * MiB, 4 * MiB, 8), "the sized import was not committed");
        stop("tmpl", "private");

        /* dropped: nothing changes, its layer goes */
        r = dvm_volume_import_begin(pool, "tmpl", "private", 0, path);
        cr_assert_eq(r, 0, "import_begin: %d (%s)", r, dvm_ctx_last_error(ctx));
        vt_pattern(path, 40 * MiB, 4 * MiB, 11);
        r = dvm_volume_import_end(pool, "tmpl", "private", false);
        cr_assert_eq(r, 0, "import_end(false): %d (%s)", r, dvm_ctx_last_error(ctx));
        info = start("tmpl", "private");
        cr_assert(vt_has_pattern(info.path, 40 * MiB, 4 * MiB, 8), "a dropped import changed the volume");
        stop("tmpl", "private");
        r = dvm_volume_import_end(pool, "tmpl", "private", true);
        cr_assert_eq(r, -ENOENT, "import_end without an import: %d", r);
        cr_assert(strstr(dvm_ctx_last_error(ctx), "tmpl/private"), "message: %s", dvm_ctx_last_error(ctx));
}

Test(volume_api, export_while_running_shows_the_committed_layer)
{
        int st;
        char path[DVM_VOLUME_PATH_MAX];
        committed_with("tmpl", "private", 1, 0);
        vt_pattern(start("tmpl", "private").path, 0, 4 * MiB, 2);

        int r = dvm_volume_export(pool, "tmpl", "private", path);
        cr_assert_eq(r, 0, "export: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_assert(vt_has_pattern(path, 0, 4 * MiB, 1), "export does not show the committed layer");
        char *ro = vt_sh(&st, "blockdev --getro %s", path);
        cr_assert_str_eq(ro, "1\n", "export is writable: %s", ro);
        free(ro);
        /* the stop commits under the export, which keeps showing what it showed */
        stop("tmpl", "private");
        cr_assert(vt_has_pattern(path, 0, 4 * MiB, 1), "export changed under a commit");
        r = dvm_volume_export_end(pool, "tmpl", "private", path);
        cr_assert_eq(r, 0, "export_end: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_assert(!device_exists(path), "export device left: %s", path);
        r = dvm_volume_export_end(pool, "tmpl", "private", "/dev/mapper/nothing");
        cr_assert_eq(r, -EINVAL, "export_end of no export: %d", r);
}

Test(volume_api, resize_grows_and_refuses_to_shrink)
{
        int st;
        committed_with("tmpl", "private", 1, 0);
        int r = dvm_volume_resize(pool, "tmpl", "private", 2 * SIZE);
        cr_assert_eq(r, 0, "grow: %d (%s)", r, dvm_ctx_last_error(ctx));
        struct dvm_volume_info info = start("tmpl", "private");
        char *size = vt_sh(&st, "blockdev --getsize64 %s", info.path);
        cr_assert_eq(strtoull(size, NULL, 10), 2 * SIZE, "device size after growing: %s", size);
        free(size);
        cr_assert(vt_has_pattern(info.path, 0, 4 * MiB, 1), "grow lost data");
        stop("tmpl", "private");

        r = dvm_volume_resize(pool, "tmpl", "private", SIZE);
        const char *msg = dvm_ctx_last_error(ctx);
        cr_assert_eq(r, -EINVAL, "shrink: %d", r);
        cr_assert(strstr(msg, "tmpl/private") && strstr(msg, "67108864") && strstr(msg, "33554432"),
                  "shrink message does not name the volume and both sizes: %s", msg);
        cr_assert_eq(get("tmpl", "private").size, 2 * SIZE, "a refused shrink changed the size");
}

/* lvm_thin grows a started volume (lvextend on its active snapshot); Xen's blkback sees the new
 * size of the open device. Ours: its running layer's table is reloaded, longer, while a
 * holder keeps the device open; what was written stays, the commit at stop keeps the size.
 * A started volatile volume runs under a key only the kernel holds: refused, nothing changed. */
Test(volume_api, resize_grows_a_started_volume)
{
        int st;
        committed_with("tmpl", "private", 1, 0);
        struct dvm_volume_info info = start("tmpl", "private");
        vt_pattern(info.path, 8 * MiB, 4 * MiB, 2);
        int holder = open(info.path, O_RDONLY | O_CLOEXEC);
        cr_assert_geq(holder, 0, "open %s: %m", info.path);
        int r = dvm_volume_resize(pool, "tmpl", "private", 3 * SIZE);
        cr_assert_eq(r, 0, "grow while started: %d (%s)", r, dvm_ctx_last_error(ctx));
        char *size = vt_sh(&st, "blockdev --getsize64 %s", info.path);
        cr_assert_eq(strtoull(size, NULL, 10), 3 * SIZE, "device size after growing while started: %s", size);
        free(size);
        close(holder);
        cr_assert_eq(get("tmpl", "private").size, 3 * SIZE, "catalog size after growing while started");
        cr_assert(vt_has_pattern(info.path, 0, 4 * MiB, 1) && vt_has_pattern(info.path, 8 * MiB, 4 * MiB, 2),
                  "growing a started volume lost data");
        vt_pattern(info.path, 2 * SIZE, 4 * MiB, 3);
        stop("tmpl", "private");
        info = start("tmpl", "private");
        size = vt_sh(&st, "blockdev --getsize64 %s", info.path);
        cr_assert_eq(strtoull(size, NULL, 10), 3 * SIZE, "size after the commit of a grown volume: %s", size);
        free(size);
        cr_assert(vt_has_pattern(info.path, 2 * SIZE, 4 * MiB, 3), "data past the old end lost at the commit");
        stop("tmpl", "private");

        create("tmpl", "volatile", DVM_VOL_RW, NULL, 0);
        start("tmpl", "volatile");
        r = dvm_volume_resize(pool, "tmpl", "volatile", 2 * SIZE);
        cr_assert_eq(r, -EBUSY, "grow of a started volatile volume: %d", r);
        cr_assert(strstr(dvm_ctx_last_error(ctx), "tmpl/volatile"), "message: %s", dvm_ctx_last_error(ctx));
        cr_assert_eq(get("tmpl", "volatile").size, SIZE, "a refused grow changed the size");
        stop("tmpl", "volatile");
}

/* qubesd starts and stops a qube's volumes together: one change of the pool for all (one
 * step of the transaction id where one volume's start takes one), each volume its result;
 * after a failure the rest are not tried and stay as they were. */
Test(volume_api, volumes_start_and_stop_together_in_one_change)
{
        const char *three[] = { "root", "private", "volatile" };
        int res[3];
        committed_with("tpl", "root", 1, 0);
        create("tpl", "private", DVM_VOL_SAVE_ON_STOP | DVM_VOL_RW, NULL, 0);
        create("app", "root", DVM_VOL_SNAP_ON_START, "tpl/root", 0);
        create("app", "private", DVM_VOL_SAVE_ON_STOP | DVM_VOL_RW, NULL, 0);
        create("app", "volatile", DVM_VOL_RW, NULL, 0);
        unsigned long long t0 = vt_pool_txn(&vt);
        start("tpl", "private");
        unsigned long long one = vt_pool_txn(&vt) - t0;
        stop("tpl", "private");

        t0 = vt_pool_txn(&vt);
        int r = dvm_volumes_start(pool, "app", three, 3, res);
        cr_assert_eq(r, 0, "volumes_start: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_assert_eq(vt_pool_txn(&vt) - t0, one,
                     "three starts together moved the transaction id by %llu, one start by %llu",
                     vt_pool_txn(&vt) - t0, one);
        for (int i = 0; i < 3; i++) {
                struct dvm_volume_info info = get("app", three[i]);
                cr_assert(res[i] == 0 && info.active, "app/%s: result %d, active %d", three[i], res[i], info.active);
        }
        cr_assert(vt_has_pattern(get("app", "root").path, 0, 4 * MiB, 1), "app/root is not its source's snapshot");
        r = dvm_volumes_stop(pool, "app", three, 3, res);
        cr_assert_eq(r, 0, "volumes_stop: %d (%s)", r, dvm_ctx_last_error(ctx));
        for (int i = 0; i < 3; i++)
                cr_assert(res[i] == 0 && !get("app", three[i]).active, "app/%s after stop: %d", three[i], res[i]);

        const char *bad[] = { "root", "volatile", "private" };
        int rv = dvm_volume_remove(pool, "app", "volatile");
        cr_assert_eq(rv, 0, "remove app/volatile: %d", rv);
        r = dvm_volumes_start(pool, "app", bad, 3, res);
        cr_assert_eq(r, -ENOENT, "volumes_start with a missing volume: %d", r);
        cr_assert(res[0] == 0 && res[1] == -ENOENT && res[2] == -ECANCELED, "results %d %d %d", res[0], res[1],
                  res[2]);
        cr_assert(strstr(dvm_ctx_last_error(ctx), "app/volatile"), "message: %s", dvm_ctx_last_error(ctx));
        cr_assert(get("app", "root").active && !get("app", "private").active,
                  "root started, private untouched after the failure");
        stop("app", "root");
        r = dvm_volumes_start(pool, "app", bad, 0, res);
        cr_assert_eq(r, -EINVAL, "no volumes: %d", r);
}

Test(volume_api, remove_of_a_started_volume_is_refused)
{
        committed_with("tmpl", "private", 1, 2);
        commit_seed("tmpl", "private", 2);
        create("tmpl", "volatile", DVM_VOL_RW, NULL, 0);
        int64_t committed = get("tmpl", "private").backend_id;
        start("tmpl", "private");
        int r = dvm_volume_remove(pool, "tmpl", "private");
        cr_assert_eq(r, -EBUSY, "remove of a started volume: %d", r);
        cr_assert(strstr(dvm_ctx_last_error(ctx), "tmpl/private"), "message: %s", dvm_ctx_last_error(ctx));
        stop("tmpl", "private");
        r = dvm_volume_remove(pool, "tmpl", "private");
        cr_assert_eq(r, 0, "remove: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_assert(!has_id(committed), "the removed volume's layer %lld is still in the pool", (long long)committed);
        cr_assert_eq(dvm_volume_get(pool, "tmpl", "private", &(struct dvm_volume_info){}), -ENOENT, "still there");
        /* the qube goes with its last volume */
        r = dvm_volume_remove(pool, "tmpl", "volatile");
        cr_assert_eq(r, 0, "remove volatile: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_assert_eq(dvm_vm_get(pool, "tmpl", &(struct dvm_vm_info){}), -ENOENT, "the qube outlived its volumes");
        char *ids = vt_thin_ids(&vt);
        cr_assert_str_eq(ids, " ", "layers left after removing everything: \"%s\"", ids);
        free(ids);
}

/* Every refusal names the volume, and changes nothing. */
Test(volume_api, errors_name_the_volume)
{
        struct dvm_volume_config bad_flags = { .size = SIZE, .flags = DVM_VOL_SNAP_ON_START | DVM_VOL_SAVE_ON_STOP,
                                               .source = "tmpl/root" };
        struct dvm_volume_config no_source = { .size = SIZE, .flags = DVM_VOL_SNAP_ON_START };
        struct dvm_volume_config gone_source = { .size = SIZE, .flags = DVM_VOL_SNAP_ON_START, .source = "none/root" };
        struct dvm_volume_config bad_size = { .size = 1000, .flags = DVM_VOL_RW };
        struct dvm_volume_config eph_save = { .size = SIZE, .flags = DVM_VOL_SAVE_ON_STOP, .ephemeral = true };
        struct dvm_volume_info info;
        char *before;

        committed_with("tmpl", "root", 1, 0);
        before = vt_catalog_dump(&vt);
        const struct {
                int want;
                const char *vol;
                const struct dvm_volume_config *cfg;
        } cases[] = {
                { -EINVAL, "root", NULL },
                { -EINVAL, "root", &bad_flags },
                { -EINVAL, "root", &no_source },
                { -ENOENT, "root", &gone_source },
                { -EINVAL, "root", &bad_size },
                { -EINVAL, "private", &eph_save },
                { -EINVAL, "kernel", &bad_size },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int r = dvm_volume_create(pool, "app", cases[i].vol, cases[i].cfg);
                char want[32];
                snprintf(want, sizeof(want), "app/%s", cases[i].vol);
                cr_assert_eq(r, cases[i].want, "case %zu: %d, want %d (%s)", i, r, cases[i].want,
                             dvm_ctx_last_error(ctx));
                cr_assert(strstr(dvm_ctx_last_error(ctx), want), "case %zu: message does not name %s: %s", i, want,
                          dvm_ctx_last_error(ctx));
        }
        cr_assert_eq(dvm_volume_get(pool, "app", "root", &info), -ENOENT, "get of no volume");
        cr_assert(strstr(dvm_ctx_last_error(ctx), "app/root"), "message: %s", dvm_ctx_last_error(ctx));
        struct dvm_volume_config dup = { .size = SIZE, .flags = DVM_VOL_SAVE_ON_STOP };
        cr_assert_eq(dvm_volume_create(pool, "tmpl", "root", &dup), -EEXIST, "create of an existing volume");
        cr_assert(strstr(dvm_ctx_last_error(ctx), "tmpl/root"), "message: %s", dvm_ctx_last_error(ctx));
        char *after = vt_catalog_dump(&vt);
        cr_assert_str_eq(after, before, "a refused call changed the catalog");
        free(before);
        free(after);
}

Test(volume_api, snap_pool_refuses_with_a_clear_message)
{
        close_pool();
        vt_cleanup(&vt);
        vt_init_backend(&vt, "snap", NULL);
        open_pool();
        struct dvm_volume_config cfg = { .size = SIZE, .flags = DVM_VOL_SAVE_ON_STOP | DVM_VOL_RW };
        int r = dvm_volume_create(pool, "tmpl", "root", &cfg);
        cr_assert_eq(r, -EOPNOTSUPP, "snap pool: %d", r);
        cr_assert(strstr(dvm_ctx_last_error(ctx), "tmpl/root") && strstr(dvm_ctx_last_error(ctx), "snap"),
                  "message: %s", dvm_ctx_last_error(ctx));
}

/* The admin verbs over the same calls: revisions listed, revert, resize with its refusal. */
Test(volume_api, cli_volume_verbs)
{
        struct dvm_volume_revision *revs = NULL;
        char id[32];
        committed_with("tmpl", "private", 1, 2);
        commit_seed("tmpl", "private", 2);
        commit_seed("tmpl", "private", 3);
        int n = dvm_volume_revisions(pool, "tmpl", "private", &revs);
        cr_assert_eq(n, 2, "revisions: %d", n);
        snprintf(id, sizeof(id), "%lld", (long long)revs[1].id);
        free(revs);

        struct vt_run r = vt_cli(&vt, "volume", "revisions", "tmpl/private", NULL);
        cr_assert_eq(r.status, 0, "volume revisions: exit %d: %s", r.status, r.err);
        cr_assert(strstr(r.out, id) && strchr(r.out, '\n') != strrchr(r.out, '\n'), "revisions listed: %s", r.out);
        vt_run_free(&r);
        VT_CLI_OK(&vt, "volume", "revert", "tmpl/private", id);
        committed_holds(1);

        r = vt_cli(&vt, "volume", "resize", "tmpl/private", "16M", NULL);
        cr_assert_eq(r.status, 2, "shrink: exit %d: %s", r.status, r.err);
        cr_assert(strstr(r.err, "tmpl/private") && strstr(r.err, "16M"), "shrink message: %s", r.err);
        vt_run_free(&r);
        VT_CLI_OK(&vt, "volume", "resize", "tmpl/private", "64M");
        cr_assert_eq(get("tmpl", "private").size, 2 * SIZE, "resize through the CLI");
        r = vt_cli(&vt, "volume", "revert", "tmpl/private", "999999", NULL);
        cr_assert_eq(r.status, 3, "revert to no revision: exit %d: %s", r.status, r.err);
        vt_run_free(&r);
}

/* A reboot takes the devices: recovery wipes and drops the running layers of snap_on_start
 * and volatile volumes (nothing can use them any more), and leaves a save_on_stop one dirty. */
Test(volume_api, recovery_after_a_reboot_drops_snapshots_and_volatiles)
{
        struct dvm_recover_report rep;
        committed_with("tmpl", "root", 1, 0);
        create("tmpl", "private", DVM_VOL_SAVE_ON_STOP | DVM_VOL_RW, NULL, 0);
        create("app", "root", DVM_VOL_SNAP_ON_START | DVM_VOL_RW, "tmpl/root", 0);
        create("app", "volatile", DVM_VOL_RW, NULL, 0);
        int64_t root = start("app", "root").backend_id, vola = start("app", "volatile").backend_id;
        vt_pattern(start("tmpl", "private").path, 0, 4 * MiB, 5);
        close_pool();
        vt_reboot(&vt);
        open_pool();
        int r = dvm_pool_recover(pool, &rep);
        cr_assert_eq(r, 0, "recover: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_assert_eq(rep.vms_reaped, 2u, "volumes dropped: %u", rep.vms_reaped);
        cr_assert(!has_id(root) && !has_id(vola), "a running layer outlived the reboot's recovery");
        struct dvm_volume_info a = get("app", "root"), b = get("app", "volatile"), p = get("tmpl", "private");
        cr_assert(!a.active && a.backend_id < 0 && !b.active && b.backend_id < 0, "rows still running: %lld %lld",
                  (long long)a.backend_id, (long long)b.backend_id);
        cr_assert(p.dirty, "the save_on_stop volume lost its uncommitted layer");
        cr_assert(vt_has_pattern(start("tmpl", "private").path, 0, 4 * MiB, 5), "dirty layer not picked up");
        stop("tmpl", "private");
}
