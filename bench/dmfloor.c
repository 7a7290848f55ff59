// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dmfloor: the bare-ioctl floor of a disposable's storage. The fewest dm ioctls that give a
 * 3-volume disposable (two thin snapshots of inactive origins, one fresh thin volume) and
 * take it down again, issued through libdevmapper from one process with nothing else: no
 * catalog, no checks, no wipe. Per volume: message create_snap (or create_thin), then
 * create+load+resume of a thin device; teardown: remove, message delete.
 * Benchmark code, not the library: it includes <libdevmapper.h> itself.
 *
 * Driven like dvmbench, a command per stdin line:
 *   spawn   -> "ok NAME MS MSG_MS DEV_MS"  (devices NAME-root, NAME-private, NAME-volatile; times:
 *              all, the three messages, the three device creates)
 *   destroy -> "ok MS"
 *   quit
 * Usage: dmfloor POOL_DM_NAME ROOT_ORIGIN_ID PRIVATE_ORIGIN_ID ROOT_SECTORS PRIVATE_SECTORS FIRST_ID
 * (the volatile volume is ROOT_SECTORS + PRIVATE_SECTORS long, as in Qubes)
 */
#include <libdevmapper.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct vol {
        const char *name;
        long origin;          /* -1: a fresh thin volume */
        unsigned long long sectors;
};

static char pool_name[128], pool_dev[32];
static struct vol vols[3];
static unsigned long next_id, serial;

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool message(const char *msg)
{
        struct dm_task *t = dm_task_create(DM_DEVICE_TARGET_MSG);
        bool ok = t && dm_task_set_name(t, pool_name) && dm_task_set_sector(t, 0) && dm_task_set_message(t, msg) &&
                  dm_task_run(t);

        if (t)
                dm_task_destroy(t);
        if (!ok)
                fprintf(stderr, "dmfloor: message \"%s\" to %s failed\n", msg, pool_name);
        return ok;
}

/* DM_DEVICE_CREATE with a table is create + load + resume; the cookie makes libdevmapper
 * create the /dev/mapper node (no udev in the test VM), as any usable device needs. */
static bool run_with_cookie(struct dm_task *t)
{
        uint32_t cookie = 0;
        bool ok = dm_task_set_cookie(t, &cookie, 0) && dm_task_run(t);

        dm_udev_wait(cookie);
        return ok;
}

static bool dev_create(const char *name, unsigned long long sectors, unsigned long id)
{
        char params[64];
        struct dm_task *t = dm_task_create(DM_DEVICE_CREATE);
        bool ok;

        snprintf(params, sizeof(params), "%s %lu", pool_dev, id);
        ok = t && dm_task_set_name(t, name) && dm_task_add_target(t, 0, sectors, "thin", params) && run_with_cookie(t);
        if (t)
                dm_task_destroy(t);
        if (!ok)
                fprintf(stderr, "dmfloor: create %s (thin %s) failed\n", name, params);
        return ok;
}

static bool dev_remove(const char *name)
{
        struct dm_task *t = dm_task_create(DM_DEVICE_REMOVE);
        bool ok = t && dm_task_set_name(t, name) && run_with_cookie(t);

        if (t)
                dm_task_destroy(t);
        if (!ok)
                fprintf(stderr, "dmfloor: remove %s failed\n", name);
        return ok;
}

static bool pool_devnum(void)
{
        struct dm_task *t = dm_task_create(DM_DEVICE_INFO);
        struct dm_info info;
        bool ok = t && dm_task_set_name(t, pool_name) && dm_task_run(t) && dm_task_get_info(t, &info) && info.exists;

        if (ok)
                snprintf(pool_dev, sizeof(pool_dev), "%u:%u", info.major, info.minor);
        if (t)
                dm_task_destroy(t);
        return ok;
}

static void dev_name(char *buf, size_t len, const struct vol *v)
{
        snprintf(buf, len, "floor%lu-%s", serial, v->name);
}

static bool spawn(void)
{
        char msg[64], name[64];
        double t0 = now_ms(), t_msg = 0, t_dev = 0;

        serial++;
        for (int i = 0; i < 3; i++) {
                unsigned long id = next_id + (unsigned long)i;
                double a = now_ms(), b;
                if (vols[i].origin >= 0)
                        snprintf(msg, sizeof(msg), "create_snap %lu %ld", id, vols[i].origin);
                else
                        snprintf(msg, sizeof(msg), "create_thin %lu", id);
                if (!message(msg))
                        return false;
                b = now_ms();
                dev_name(name, sizeof(name), &vols[i]);
                if (!dev_create(name, vols[i].sectors, id))
                        return false;
                t_msg += b - a;
                t_dev += now_ms() - b;
        }
        printf("ok floor%lu %.3f %.3f %.3f\n", serial, now_ms() - t0, t_msg, t_dev);
        return true;
}

static bool destroy(void)
{
        char msg[64], name[64];
        double t0 = now_ms();

        for (int i = 0; i < 3; i++) {
                dev_name(name, sizeof(name), &vols[i]);
                snprintf(msg, sizeof(msg), "delete %lu", next_id + (unsigned long)i);
                if (!dev_remove(name) || !message(msg))
                        return false;
        }
        printf("ok %.3f\n", now_ms() - t0);
        return true;
}

int main(int argc, char **argv)
{
        char line[128];

        if (argc != 7) {
                fprintf(stderr, "usage: dmfloor POOL ROOT_ORIGIN_ID PRIVATE_ORIGIN_ID ROOT_SECTORS PRIVATE_SECTORS "
                                "FIRST_ID\n");
                return 2;
        }
        snprintf(pool_name, sizeof(pool_name), "%s", argv[1]);
        vols[0] = (struct vol){ "root", atol(argv[2]), strtoull(argv[4], NULL, 10) };
        vols[1] = (struct vol){ "private", atol(argv[3]), strtoull(argv[5], NULL, 10) };
        vols[2] = (struct vol){ "volatile", -1, vols[0].sectors + vols[1].sectors };
        next_id = strtoul(argv[6], NULL, 10);
        if (access("/run/udev/control", F_OK) != 0)
                setenv("DM_DISABLE_UDEV", "1", 0);
        if (!pool_devnum()) {
                fprintf(stderr, "dmfloor: no thin-pool device %s\n", pool_name);
                return 1;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        while (fgets(line, sizeof(line), stdin)) {
                bool ok;
                if (strncmp(line, "spawn", 5) == 0)
                        ok = spawn();
                else if (strncmp(line, "destroy", 7) == 0)
                        ok = destroy();
                else
                        break;
                if (!ok)
                        printf("err 5 see stderr\n");
        }
        dm_lib_release();
        return 0;
}
