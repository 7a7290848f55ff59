// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, block-dvm's bookkeeping without Xen (claim.c, dev_identity.c) on real
 * device-mapper: one disposable per domain and DVM Template, a recycled domain id getting a
 * new one, repeats as no-ops, claims served by what is there without a kernel change, a
 * writable volume on one disk only, the release that destroys or stops what was made for a
 * domain, parallel claims, and the identity check against an impostor and a device left
 * from another layer. The witnesses are dmsetup and the catalog.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/dev_identity.h"
#include "vmtest.h"
#include "xen/claim.h"

static struct vt vt;
static dvm_ctx *ctx;
static dvm_pool *pool;

#define UUID_A "aaaaaaaa-0000-0000-0000-000000000001"
#define UUID_B "bbbbbbbb-0000-0000-0000-000000000002"

#define CLI_OK(...) VT_CLI_OK(&vt, __VA_ARGS__)

static void setup(void)
{
        vt_init(&vt, "1G");
        CLI_OK("template", "create", "tmpl", "--root-size", "16M", "--private-size", "8M");
        CLI_OK("template", "create", "work", "--root-size", "16M", "--private-size", "8M");
        CLI_OK("dvm", "create", "dvm", "--template", "tmpl");
        cr_assert_eq(dvm_ctx_new(vt.state, &ctx), 0, "dvm_ctx_new");
        int r = dvm_pool_open(ctx, vt.pool, &pool);
        cr_assert_eq(r, 0, "dvm_pool_open: %d (%s)", r, dvm_ctx_last_error(ctx));
}

static void teardown(void)
{
        pool = dvm_pool_close(pool);
        ctx = dvm_ctx_free(ctx);
        vt_cleanup(&vt);
}

TestSuite(claim, .init = setup, .fini = teardown, .timeout = 600);

static struct xen_target target(enum xen_target_kind kind, const char *vm, const char *vol)
{
        struct xen_target t = { .kind = kind };
        snprintf(t.pool, sizeof(t.pool), "%s", vt.pool);
        snprintf(t.vm, sizeof(t.vm), "%s", vm);
        snprintf(t.volume, sizeof(t.volume), "%s", vol);
        return t;
}

static struct claim_disk disk(uint32_t domid, uint32_t devid, const char *uuid, bool rw)
{
        struct claim_disk d = { .domid = domid, .devid = devid, .rw = rw };
        snprintf(d.vdev, sizeof(d.vdev), "xvd%c", 'a' + (int)((devid - 51712) / 16) % 26);
        snprintf(d.dom_uuid, sizeof(d.dom_uuid), "%s", uuid);
        return d;
}

static struct claim_result claim_ok(enum xen_target_kind kind, const char *vm, const char *vol, uint32_t domid,
                                    uint32_t devid, const char *uuid, bool rw)
{
        struct xen_target t = target(kind, vm, vol);
        struct claim_disk d = disk(domid, devid, uuid, rw);
        struct claim_result c;
        int r = claim_add(pool, &t, &d, &c);

        cr_assert_eq(r, 0, "claim %s/%s for %u/%u: %d (%s)", vm, vol, domid, devid, r, dvm_ctx_last_error(ctx));
        return c;
}

static int vm_state(const char *name)
{
        struct dvm_vm_info info;
        int r = dvm_vm_get(pool, name, &info);
        return r < 0 ? r : info.running;
}

static void identity_ok(const struct claim_result *c)
{
        struct dev_identity id;
        int fd = ident_open(ctx, c->path, &id);

        cr_assert(fd >= 0, "ident_open %s: %d (%s)", c->path, fd, dvm_ctx_last_error(ctx));
        int r = ident_check(ctx, c->path, &id, c->dm_name, c->layer_id);
        close(fd);
        cr_assert_eq(r, 0, "identity of %s: %d (%s)", c->path, r, dvm_ctx_last_error(ctx));
        cr_assert(id.diskseq > 0, "%s: no disk sequence number", c->path);
}

Test(claim, spawn_shared_by_a_domain)
{
        struct claim_result root = claim_ok(XEN_TARGET_SPAWN, "dvm", "root", 5, 51712, UUID_A, true);
        struct claim_result priv = claim_ok(XEN_TARGET_SPAWN, "dvm", "private", 5, 51728, UUID_A, true);
        struct claim_result vola = claim_ok(XEN_TARGET_SPAWN, "dvm", "volatile", 5, 51744, UUID_A, true);

        cr_assert(root.made && !priv.made && !vola.made, "made: %d %d %d", root.made, priv.made, vola.made);
        cr_assert(strcmp(root.vm, priv.vm) == 0 && strcmp(root.vm, vola.vm) == 0, "one disposable: %s %s %s", root.vm,
                  priv.vm, vola.vm);
        cr_assert_eq(vm_state(root.vm), 1, "%s running: %d", root.vm, vm_state(root.vm));
        identity_ok(&root);
        identity_ok(&vola);

        /* a repeat is a no-op */
        struct claim_result again = claim_ok(XEN_TARGET_SPAWN, "dvm", "root", 5, 51712, UUID_A, true);
        cr_assert(!again.made && strcmp(again.vm, root.vm) == 0 && strcmp(again.path, root.path) == 0,
                  "repeat: made=%d %s %s", again.made, again.vm, again.path);

        /* the same disk cannot hold another volume */
        struct xen_target t = target(XEN_TARGET_SPAWN, "dvm", "private");
        struct claim_disk d = disk(5, 51712, UUID_A, true);
        struct claim_result c;
        int r = claim_add(pool, &t, &d, &c);
        cr_assert_eq(r, -EEXIST, "disk 51712 asking for private too: %d (%s)", r, dvm_ctx_last_error(ctx));

        /* another domain, and a recycled id of domain 5, get disposables of their own */
        struct claim_result other = claim_ok(XEN_TARGET_SPAWN, "dvm", "root", 6, 51712, UUID_B, true);
        struct claim_result recycled = claim_ok(XEN_TARGET_SPAWN, "dvm", "root", 5, 51760, UUID_B, true);
        cr_assert(other.made && strcmp(other.vm, root.vm) != 0, "domain 6: %s (domain 5: %s)", other.vm, root.vm);
        cr_assert(recycled.made && strcmp(recycled.vm, root.vm) != 0 && strcmp(recycled.vm, other.vm) != 0,
                  "domain 5 with another UUID: %s", recycled.vm);
}

Test(claim, release_destroys_with_the_last_disk)
{
        char vm[DVM_NAME_MAX + 1] = "untouched";
        struct claim_result root = claim_ok(XEN_TARGET_SPAWN, "dvm", "root", 5, 51712, UUID_A, true);
        claim_ok(XEN_TARGET_SPAWN, "dvm", "private", 5, 51728, UUID_A, true);

        int r = claim_remove(pool, 5, 51712, vm);
        cr_assert(r == 0 && strcmp(vm, root.vm) == 0, "first release: %d %s", r, vm);
        cr_assert_eq(vm_state(root.vm), 1, "%s after one of two disks went: %d", root.vm, vm_state(root.vm));
        r = claim_remove(pool, 5, 51728, vm);
        cr_assert_eq(r, 0, "last release: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_assert_eq(vm_state(root.vm), -ENOENT, "%s after its last disk went: %d", root.vm, vm_state(root.vm));
        char *left = vt_sh(NULL, "dmsetup ls | grep -c -- '-%s-' || true", root.vm);
        cr_assert_str_eq(left, "0\n", "devices of %s left: %s", root.vm, left);
        free(left);

        /* a disk that holds nothing: nothing to do */
        snprintf(vm, sizeof(vm), "untouched");
        r = claim_remove(pool, 9, 51712, vm);
        cr_assert(r == 0 && vm[0] == 0, "release of an unknown disk: %d \"%s\"", r, vm);
}

Test(claim, writable_on_one_disk_only)
{
        struct claim_result c = claim_ok(XEN_TARGET_VOLUME, "work", "root", 7, 51712, UUID_A, true);
        struct xen_target t = target(XEN_TARGET_VOLUME, "work", "root");
        struct claim_result other;

        cr_assert(c.made, "work was halted: the claim should start it");
        cr_assert_eq(vm_state("work"), 1, "work running: %d", vm_state("work"));
        for (int rw = 0; rw <= 1; rw++) {
                struct claim_disk d = disk(8, 51712, UUID_B, rw);
                int r = claim_add(pool, &t, &d, &other);
                const char *msg = dvm_ctx_last_error(ctx);
                cr_assert_eq(r, -EBUSY, "work/root to domain 8 (%s) too: %d (%s)", rw ? "rw" : "ro", r, msg);
                cr_assert(strstr(msg, "attached writable to domain 7 as xvda"), "message: %s", msg);
        }
        /* another volume of the same VM is free */
        claim_ok(XEN_TARGET_VOLUME, "work", "private", 8, 51728, UUID_B, true);
        /* released by domain 8 first: work keeps running, it was started for domain 7 */
        cr_assert_eq(claim_remove(pool, 8, 51728, NULL), 0, "release by 8");
        cr_assert_eq(vm_state("work"), 1, "work after domain 8 let go: %d", vm_state("work"));
        cr_assert_eq(claim_remove(pool, 7, 51712, NULL), 0, "release by 7: %s", dvm_ctx_last_error(ctx));
        cr_assert_eq(vm_state("work"), 0, "work after domain 7 let go: %d", vm_state("work"));
}

Test(claim, running_vm_is_not_stopped_by_a_domain)
{
        CLI_OK("start", "work");
        struct claim_result c = claim_ok(XEN_TARGET_VOLUME, "work", "root", 7, 51712, UUID_A, false);
        cr_assert(!c.made, "work was running: the claim made it");
        /* read-only disks share */
        claim_ok(XEN_TARGET_VOLUME, "work", "root", 8, 51712, UUID_B, false);
        cr_assert_eq(claim_remove(pool, 7, 51712, NULL), 0, "release by 7");
        cr_assert_eq(claim_remove(pool, 8, 51712, NULL), 0, "release by 8");
        cr_assert_eq(vm_state("work"), 1, "work, started by hand, after its disks went: %d", vm_state("work"));
        CLI_OK("stop", "work");
}

Test(claim, parallel_disks_share_one_disposable)
{
        static const char *const vols[] = { "root", "private", "volatile" };
        int fds[3][2];

        for (int i = 0; i < 3; i++) {
                cr_assert_eq(pipe(fds[i]), 0, "pipe");
                pid_t pid = fork();
                cr_assert(pid >= 0, "fork");
                if (pid == 0) {
                        dvm_ctx *c2 = NULL;
                        dvm_pool *p2 = NULL;
                        struct xen_target t = target(XEN_TARGET_SPAWN, "dvm", vols[i]);
                        struct claim_disk d = disk(11, 51712 + 16 * (uint32_t)i, UUID_A, true);
                        struct claim_result c = { .vm = "" };
                        if (dvm_ctx_new(vt.state, &c2) < 0 || dvm_pool_open(c2, vt.pool, &p2) < 0 ||
                            claim_add(p2, &t, &d, &c) < 0)
                                snprintf(c.vm, sizeof(c.vm), "ERROR %s", c2 ? dvm_ctx_last_error(c2) : "");
                        dprintf(fds[i][1], "%s", c.vm);
                        _exit(0);
                }
                close(fds[i][1]);
        }
        char names[3][DVM_NAME_MAX + 64] = {};
        for (int i = 0; i < 3; i++) {
                ssize_t n = read(fds[i][0], names[i], sizeof(names[i]) - 1);
                cr_assert(n > 0, "child %d said nothing", i);
                close(fds[i][0]);
                wait(NULL);
        }
        cr_assert(strncmp(names[0], "ERROR", 5) != 0, "child 0: %s", names[0]);
        cr_assert(strcmp(names[0], names[1]) == 0 && strcmp(names[0], names[2]) == 0, "three claims: %s %s %s",
                  names[0], names[1], names[2]);
}

Test(claim, identity_refuses_impostors)
{
        struct claim_result c = claim_ok(XEN_TARGET_SPAWN, "dvm", "root", 5, 51712, UUID_A, true);
        struct dev_identity id;
        char name[160];
        int st, fd, r;

        /* a device under a volume's name with a foreign UUID */
        snprintf(name, sizeof(name), "DVM-%s-fake-root", vt.pool);
        free(vt_sh(&st, "dmsetup create %s --uuid FOREIGN-%s --table '0 2048 zero'", name, vt.pool));
        cr_assert_eq(st, 0, "dmsetup create %s", name);
        char path[200];
        snprintf(path, sizeof(path), "/dev/mapper/%s", name);
        fd = ident_open(ctx, path, &id);
        cr_assert(fd >= 0, "ident_open %s: %s", path, dvm_ctx_last_error(ctx));
        r = ident_check(ctx, path, &id, name, 3);
        close(fd);
        cr_assert(r == -ESTALE && strstr(dvm_ctx_last_error(ctx), "is not ours: its device-mapper UUID is \"FOREIGN-"),
                  "foreign UUID: %d (%s)", r, dvm_ctx_last_error(ctx));
        free(vt_sh(&st, "dmsetup remove %s", name));

        /* our naming, but a device left from another layer */
        free(vt_sh(&st, "dmsetup create %s --uuid %s-%lld --table '0 2048 zero'", name, name,
                   (long long)c.layer_id + 100));
        fd = ident_open(ctx, path, &id);
        cr_assert(fd >= 0, "ident_open %s: %s", path, dvm_ctx_last_error(ctx));
        r = ident_check(ctx, path, &id, name, c.layer_id);
        close(fd);
        cr_assert(r == -ESTALE && strstr(dvm_ctx_last_error(ctx), "left from layer"), "stale layer: %d (%s)", r,
                  dvm_ctx_last_error(ctx));
        /* and the name must be the one asked for */
        fd = ident_open(ctx, c.path, &id);
        r = ident_check(ctx, c.path, &id, name, c.layer_id);
        close(fd);
        cr_assert(r == -ESTALE && strstr(dvm_ctx_last_error(ctx), "device-mapper name is"), "other name: %d (%s)", r,
                  dvm_ctx_last_error(ctx));
        free(vt_sh(&st, "dmsetup remove %s", name));
        claim_remove(pool, 5, 51712, NULL);
}

/*
 * The hook's remove (pool->destroy_later): the disposable is cut off when the last release
 * returns (its devices a domain could open gone, its domain and disk rows with them, so the
 * same domain gets a new one), and the worker wipes and removes it.
 */
Test(claim, hook_release_leaves_the_wipe_to_the_worker)
{
        struct claim_result root = claim_ok(XEN_TARGET_SPAWN, "dvm", "root", 5, 51712, UUID_A, true);
        int st;

        setenv("DVM_VOL_BIN", "/nonexistent/dvm-vol", 1);
        pool->destroy_later = true;
        int r = claim_remove(pool, 5, 51712, NULL);
        pool->destroy_later = false;
        unsetenv("DVM_VOL_BIN");
        cr_assert_eq(r, 0, "release: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_assert_eq(vm_state(root.vm), 1, "%s is gone before its wipe: %d", root.vm, vm_state(root.vm));
        cr_assert_eq(access(root.path, F_OK), -1, "%s is still there after the release", root.path);
        struct claim_result again = claim_ok(XEN_TARGET_SPAWN, "dvm", "root", 5, 51712, UUID_A, true);
        cr_assert(again.made && strcmp(again.vm, root.vm) != 0, "domain 5 got %s again, whose wipe is queued", again.vm);
        struct xen_target t = target(XEN_TARGET_VOLUME, root.vm, "root");
        struct claim_disk d = disk(6, 51712, UUID_B, false);
        struct claim_result c;
        r = claim_add(pool, &t, &d, &c);
        cr_assert_eq(r, -ENOENT, "a disk of %s/root while its wipe is queued: %d (%s)", root.vm, r, dvm_ctx_last_error(ctx));

        r = dvm_pool_work(pool, 0);
        cr_assert_eq(r, 1, "the worker finished %d wipe(s): %s", r, dvm_ctx_last_error(ctx));
        cr_assert_eq(vm_state(root.vm), -ENOENT, "%s after the worker: %d", root.vm, vm_state(root.vm));
        char *left = vt_sh(&st, "dmsetup ls | grep '^DVM-%s-%s-' || true", vt.pool, root.vm);
        cr_assert_str_empty(left, "devices of %s left after the worker: %s", root.vm, left);
        free(left);
}

/*
 * A claim served by what is there changes the catalog alone: the domain's disposable for its
 * other disks, a repeat, a running VM's volume, and a ready disposable taken leave the
 * thin-pool's metadata as it was (no dirty mark, no commit); a spawn that builds moves it.
 */
Test(claim, served_by_what_is_there_leaves_the_kernel_alone)
{
        /* no worker starts from the take: the refill would change the pool */
        setenv("DVM_VOL_BIN", "/nonexistent/dvm-vol", 1);
        unsigned long long t0 = vt_pool_txn(&vt);
        struct claim_result root = claim_ok(XEN_TARGET_SPAWN, "dvm", "root", 5, 51712, UUID_A, true);
        cr_assert(root.made && vt_pool_txn(&vt) != t0, "a built spawn: made %d, transaction id %llu -> %llu", root.made,
                  t0,
                  vt_pool_txn(&vt));

        t0 = vt_pool_txn(&vt);
        claim_ok(XEN_TARGET_SPAWN, "dvm", "private", 5, 51728, UUID_A, true);
        claim_ok(XEN_TARGET_SPAWN, "dvm", "root", 5, 51712, UUID_A, true);
        cr_assert_eq(vt_pool_txn(&vt), t0, "the domain's disposable and a repeat moved the transaction id %llu -> %llu",
                     t0,
                     vt_pool_txn(&vt));
        CLI_OK("start", "work");
        t0 = vt_pool_txn(&vt);
        claim_ok(XEN_TARGET_VOLUME, "work", "root", 5, 51744, UUID_A, true);
        cr_assert_eq(vt_pool_txn(&vt), t0, "a running VM's volume moved the transaction id %llu -> %llu", t0,
                     vt_pool_txn(&vt));

        CLI_OK("preload", "dvm", "--count", "1");
        CLI_OK("worker");
        struct vt_run l = vt_cli(&vt, "list", NULL);
        char ready[64] = "";
        for (char *line = strtok(l.out, "\n"); line; line = strtok(NULL, "\n")) {
                char name[64], kind[32], tmpl[64], state[32];
                if (sscanf(line, "%63s %31s %63s %31s", name, kind, tmpl, state) == 4 && strcmp(state, "ready") == 0)
                        snprintf(ready, sizeof(ready), "%s", name);
        }
        vt_run_free(&l);
        cr_assert(ready[0], "no ready disposable after preload and worker");
        t0 = vt_pool_txn(&vt);
        struct claim_result taken = claim_ok(XEN_TARGET_SPAWN, "dvm", "root", 7, 51712, UUID_B, true);
        cr_assert(taken.made && strcmp(taken.vm, ready) == 0, "domain 7 got %s (made %d), the ready one is %s", taken.vm,
                  taken.made, ready);
        cr_assert_eq(vt_pool_txn(&vt), t0, "taking ready %s moved the transaction id %llu -> %llu", ready, t0,
                     vt_pool_txn(&vt));
        identity_ok(&taken);
        unsetenv("DVM_VOL_BIN");
}
