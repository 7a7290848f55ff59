// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * device-mapper through libdevmapper, in-process: create, remove, suspend, resume, message,
 * info, status, list. The only file that includes <libdevmapper.h>.
 */
#include <fcntl.h>
#include <libdevmapper.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "kernel/dm.h"
#include "kernel/holders.h"
#include "util/fault.h"

/* Kernel changes made by this process, for pool_change_end(): a failed verb that changed
 * nothing leaves the pool clean. */
static unsigned long changes;

/* A change of kernel state is done: count it, and let a crash test stop here. */
#define CHANGED(step)                     \
        do {                              \
                changes++;                \
                FAULT_POINT(step);        \
        } while (0)

/* libdevmapper logs through a global hook without user data: route it to the calling ctx. */
static __thread dvm_ctx *log_ctx;

static void libdm_log(int level, const char *file, int line, int dm_errno, const char *fmt, ...) _printf_(5, 6);
static void libdm_log(int level, const char *file _unused_, int line _unused_, int dm_errno _unused_,
                      const char *fmt, ...)
{
        char buf[512];
        va_list ap;

        if (!log_ctx)
                return;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        /* libdm reports every failed ioctl at error level; we report the failure ourselves. */
        ctx_debug(log_ctx, "libdevmapper[%d]: %s", level, buf);
}

static void dm_setup(dvm_ctx *ctx)
{
        static bool done;

        log_ctx = ctx;
        if (done)
                return;
        done = true;
        /* Without a running udevd nobody would create /dev/mapper nodes: libdevmapper makes
         * them itself only when told so through this variable. */
        if (access("/run/udev/control", F_OK) != 0)
                setenv("DM_DISABLE_UDEV", "1", 0);
        dm_log_with_errno_init(libdm_log);
}

DEFINE_CLEANUP(struct dm_task *, dm_task_destroy)
#define _cleanup_dm_task_ _cleanup_(dm_task_destroyp)

static int task_errno(struct dm_task *dmt)
{
        int e = dm_task_get_errno(dmt);
        return e > 0 ? -e : -EIO;
}

static struct dm_task *task_new(dvm_ctx *ctx, int type, const char *name)
{
        struct dm_task *dmt;

        dm_setup(ctx);
        dmt = dm_task_create(type);
        if (!dmt)
                return NULL;
        if (name && !dm_task_set_name(dmt, name)) {
                dm_task_destroy(dmt);
                return NULL;
        }
        return dmt;
}

/*
 * The udev cookie of this thread's open batch (dm_batch_begin()): every task of the batch
 * counts on it, and one wait at its end covers them all. Under a running udevd each wait
 * costs a pass of udevd's rules; a spawn's four devices then pay for one pass, not four
 * passes in a row. Without udevd the cookie stays 0 and the wait makes the nodes.
 */
static __thread unsigned batch_depth;
static __thread uint32_t batch_cookie;
static __thread unsigned batch_tasks;

/* Wait for the udev events of @n tasks on @cookie (without udevd: make their nodes). */
static void udev_wait(uint32_t cookie, unsigned n)
{
        struct timespec t0, t1;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        /* the semaphore exists even when a task failed; the wait releases it */
        dm_udev_wait(cookie);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (log_ctx)
                ctx_debug(log_ctx, "udev: waited once for the events of %u device change(s), %ld ms", n,
                          (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
}

void dm_batch_begin(void)
{
        batch_depth++;
}

void dm_settle(void)
{
        if (!batch_tasks)
                return;
        udev_wait(batch_cookie, batch_tasks);
        batch_cookie = 0;
        batch_tasks = 0;
}

void dm_batch_end(void)
{
        if (batch_depth > 0 && --batch_depth == 0)
                dm_settle();
}

/*
 * The flags our tasks put in their cookie for the udev rules. libdevmapper makes and removes
 * the /dev/mapper node itself (DISABLE_DM_RULES: 55-dm.rules makes no link, and
 * libdevmapper does not count on it), with udevd running or not; no subsystem, disk or other
 * rule looks at our devices. So udev has nothing to do for the caller but take the event:
 * 54-dvm-vol-cookie.rules completes the cookie in its one program run, instead of a second
 * run after the links (dvm-udev-id --cookie).
 */
#define OUR_UDEV_FLAGS                                                                               \
        (DM_UDEV_DISABLE_DM_RULES_FLAG | DM_UDEV_DISABLE_SUBSYSTEM_RULES_FLAG |                      \
         DM_UDEV_DISABLE_DISK_RULES_FLAG | DM_UDEV_DISABLE_OTHER_RULES_FLAG)

/* Run a task that changes /dev nodes: with a cookie, then wait for udev (or make the nodes),
 * at once or, inside a batch, at its end. No log line of libdevmapper about a @secret task
 * (a key in its table) reaches our log. */
static int run_with_cookie(struct dm_task *dmt, bool secret)
{
        uint32_t cookie = batch_depth ? batch_cookie : 0;
        dvm_ctx *ctx = log_ctx;
        int r = 0;

        if (!dm_task_set_cookie(dmt, &cookie, OUR_UDEV_FLAGS))
                return -ENOMEM;
        if (secret)
                log_ctx = NULL;
        if (!dm_task_run(dmt))
                r = task_errno(dmt);
        log_ctx = ctx;
        if (batch_depth) {
                batch_cookie = cookie;
                batch_tasks++;
        } else
                udev_wait(cookie, 1);
        return r;
}

int dm_node_make(dvm_ctx *ctx, const char *name)
{
        dm_setup(ctx);
        dm_settle();
        if (!dm_mknodes(name))
                return ctx_error(ctx, -EIO, "cannot make the node /dev/mapper/%s", name);
        /* libdevmapper stacks node changes until a udev wait: this one is wanted now */
        dm_task_update_nodes();
        return 0;
}

int dm_open(dvm_ctx *ctx, const char *name, int flags)
{
        char path[160];
        int fd;

        dm_setup(ctx);
        /* a device created in the open batch may not have its node yet */
        dm_settle();
        snprintf(path, sizeof(path), "/dev/mapper/%s", name);
        fd = open(path, flags | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int dm_available(dvm_ctx *ctx)
{
        _cleanup_close_ int fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return ctx_error(ctx, -ENODEV, "device-mapper is not available: /dev/mapper/control: %s",
                                 strerror(errno));
        return 0;
}

static int create(dvm_ctx *ctx, const char *name, const char *uuid, const struct dm_table_line *table,
                  unsigned n_lines, bool read_only, bool secret)
{
        _cleanup_dm_task_ struct dm_task *dmt = task_new(ctx, DM_DEVICE_CREATE, name);
        int r;

        if (!dmt)
                return -ENOMEM;
        if (uuid && !dm_task_set_uuid(dmt, uuid))
                return -ENOMEM;
        if (read_only && !dm_task_set_ro(dmt))
                return -ENOMEM;
        /* The kernel wipes its copies of a secure task's ioctl buffer; libdevmapper wipes
         * its own copies of the parameters when the task is destroyed. */
        if (secret && !dm_task_secure_data(dmt))
                return -ENOMEM;
        for (unsigned i = 0; i < n_lines; i++)
                if (!dm_task_add_target(dmt, table[i].start, table[i].length, table[i].type,
                                        table[i].params))
                        return -ENOMEM;
        r = run_with_cookie(dmt, secret);
        if (r < 0)
                return ctx_error(ctx, r, "cannot create device-mapper device %s (%s %s): %m", name,
                                 n_lines ? table[0].type : "-",
                                 secret ? "<key withheld>" : n_lines ? table[0].params : "");
        CHANGED("dm.create");
        return 0;
}

int dm_create(dvm_ctx *ctx, const char *name, const char *uuid, const struct dm_table_line *table,
              unsigned n_lines, bool read_only, struct dm_dev_info *ret_info)
{
        int r = create(ctx, name, uuid, table, n_lines, read_only, false);

        if (r >= 0 && ret_info)
                return dm_info(ctx, name, ret_info);
        return r;
}

int dm_create_secret(dvm_ctx *ctx, const char *name, const char *uuid, const struct dm_table_line *table,
                     unsigned n_lines)
{
        return create(ctx, name, uuid, table, n_lines, false, true);
}

static int remove_once(dvm_ctx *ctx, const char *name)
{
        _cleanup_dm_task_ struct dm_task *dmt = task_new(ctx, DM_DEVICE_REMOVE, name);
        if (!dmt)
                return -ENOMEM;
        return run_with_cookie(dmt, false);
}

int dm_remove(dvm_ctx *ctx, const char *name)
{
        struct dm_dev_info info = {};
        int r;

        /* A device can stay busy for a moment after its last user closed it (udev's blkid
         * probe, a flush in flight): retry with backoff before calling it busy. */
        for (unsigned attempt = 0;; attempt++) {
                r = remove_once(ctx, name);
                if (r != -EBUSY || attempt >= 6)
                        break;
                nanosleep(&(struct timespec){ .tv_nsec = 10000000L << attempt }, NULL);
        }
        if (r == -ENXIO || r == -ENODEV)
                return -ENXIO;
        if (r == -EBUSY && dm_info(ctx, name, &info) == 0) {
                char who[512];
                int n = holders_describe(makedev(info.major, info.minor), S_IFBLK, who, sizeof(who));
                return ctx_error(ctx, r, "cannot remove %s: device is in use (open count %d%s%s)", name,
                                 info.open_count, n ? ", held by " : "", n ? who : "");
        }
        if (r < 0)
                return ctx_error(ctx, r, "cannot remove device-mapper device %s: %m", name);
        CHANGED("dm.remove");
        return 0;
}

/* @msg to sector 0 of @name, not logged (dm_message() logs; dm_keep() reads -EBUSY as an answer). */
static int send_message(dvm_ctx *ctx, const char *name, const char *msg)
{
        _cleanup_dm_task_ struct dm_task *dmt = task_new(ctx, DM_DEVICE_TARGET_MSG, name);

        if (!dmt)
                return -ENOMEM;
        if (!dm_task_set_sector(dmt, 0) || !dm_task_set_message(dmt, msg))
                return -ENOMEM;
        return dm_task_run(dmt) ? 0 : task_errno(dmt);
}

int dm_remove_deferred(dvm_ctx *ctx, const char *name)
{
        _cleanup_close_ int fd = dm_open(ctx, name, O_RDONLY | O_NONBLOCK);
        _cleanup_dm_task_ struct dm_task *dmt = NULL;
        char path[160];
        int r;

        /* no node to hold it by (a crash between a create and its node): the plain way */
        if (fd < 0)
                return dm_remove(ctx, name);
        dmt = task_new(ctx, DM_DEVICE_REMOVE, name);
        if (!dmt || !dm_task_deferred_remove(dmt))
                return -ENOMEM;
        r = run_with_cookie(dmt, false);
        if (r == -ENXIO || r == -ENODEV)
                return -ENXIO;
        if (r < 0)
                return ctx_error(ctx, r, "cannot remove device-mapper device %s: %m", name);
        /* its name reaches it no more, even before the kernel is done with it */
        snprintf(path, sizeof(path), "/dev/mapper/%s", name);
        if (unlink(path) < 0 && errno != ENOENT)
                return ctx_error(ctx, -errno, "cannot remove the node %s: %m", path);
        CHANGED("dm.remove");
        return 0;
}

int dm_keep(dvm_ctx *ctx, const char *name)
{
        int r = send_message(ctx, name, "@cancel_deferred_remove");

        if (r == -ENODEV)
                r = -ENXIO;
        /* the kernel is removing it: wait until it is gone, then it can be made anew */
        for (unsigned i = 0; r == -EBUSY && i < 1000; i++) {
                nanosleep(&(struct timespec){ .tv_nsec = 10000000L }, NULL);
                r = dm_info(ctx, name, NULL) == -ENXIO ? -ENXIO : -EBUSY;
        }
        if (r == -EBUSY)
                return ctx_error(ctx, r, "device-mapper device %s: still being removed after 10 s", name);
        if (r < 0)
                return r == -ENXIO ? r : ctx_error(ctx, r, "cannot keep device-mapper device %s: %m", name);
        return dm_node_make(ctx, name);
}

static int simple_task(dvm_ctx *ctx, int type, const char *name, const char *what)
{
        _cleanup_dm_task_ struct dm_task *dmt = task_new(ctx, type, name);
        int r;

        if (!dmt)
                return -ENOMEM;
        r = type == DM_DEVICE_RESUME ? run_with_cookie(dmt, false)
                                     : (dm_task_run(dmt) ? 0 : task_errno(dmt));
        if (r < 0)
                return ctx_error(ctx, r, "cannot %s device-mapper device %s: %m", what, name);
        CHANGED(type == DM_DEVICE_RESUME ? "dm.resume" : "dm.suspend");
        return 0;
}

int dm_suspend(dvm_ctx *ctx, const char *name)
{
        return simple_task(ctx, DM_DEVICE_SUSPEND, name, "suspend");
}

int dm_resume(dvm_ctx *ctx, const char *name)
{
        return simple_task(ctx, DM_DEVICE_RESUME, name, "resume");
}

/* Drop the inactive table a reload left when the resume that was to swap it in failed. */
static void clear_inactive(dvm_ctx *ctx, const char *name)
{
        _cleanup_dm_task_ struct dm_task *dmt = task_new(ctx, DM_DEVICE_CLEAR, name);

        if (dmt)
                (void)dm_task_run(dmt);
}

int dm_reload(dvm_ctx *ctx, const char *name, const struct dm_table_line *table, unsigned n_lines)
{
        _cleanup_dm_task_ struct dm_task *dmt = task_new(ctx, DM_DEVICE_RELOAD, name);
        int r;

        if (!dmt)
                return -ENOMEM;
        for (unsigned i = 0; i < n_lines; i++)
                if (!dm_task_add_target(dmt, table[i].start, table[i].length, table[i].type,
                                        table[i].params))
                        return -ENOMEM;
        if (!dm_task_run(dmt)) {
                r = task_errno(dmt);
                return ctx_error(ctx, r, "cannot load a new table into %s (%s %s): %m", name,
                                 n_lines ? table[0].type : "-", n_lines ? table[0].params : "");
        }
        /* the resume suspends the device (its I/O in flight completes), swaps the tables and
         * lets I/O go on: its users keep it open across */
        r = dm_resume(ctx, name);
        if (r < 0) {
                clear_inactive(ctx, name);
                return r;
        }
        CHANGED("dm.reload");
        return 0;
}

int dm_message(dvm_ctx *ctx, const char *name, const char *msg)
{
        int r = send_message(ctx, name, msg);

        if (r < 0)
                return ctx_error(ctx, r, "%s: message \"%s\" failed: %m", name, msg);
        CHANGED("dm.message");
        return 0;
}

int dm_info(dvm_ctx *ctx, const char *name, struct dm_dev_info *ret_info)
{
        _cleanup_dm_task_ struct dm_task *dmt = task_new(ctx, DM_DEVICE_INFO, name);
        struct dm_info info;

        if (!dmt)
                return -ENOMEM;
        if (!dm_task_run(dmt))
                return task_errno(dmt);
        if (!dm_task_get_info(dmt, &info))
                return -EIO;
        if (!info.exists)
                return -ENXIO;
        if (ret_info)
                *ret_info = (struct dm_dev_info){
                        .major = info.major,
                        .minor = info.minor,
                        .open_count = info.open_count,
                        .suspended = info.suspended,
                        .read_only = info.read_only,
                        .live_table = info.live_table,
                };
        return 0;
}

/* The first target line of @name: its status (DM_DEVICE_STATUS) or its table (DM_DEVICE_TABLE);
 * with @no_flush, a status the target gives without first committing what it holds */
static int first_target(dvm_ctx *ctx, int task, const char *name, bool no_flush, char **ret_type, char **ret_params)
{
        _cleanup_dm_task_ struct dm_task *dmt = task_new(ctx, task, name);
        _cleanup_free_ char *type_copy = NULL, *params_copy = NULL;
        struct dm_info info;
        uint64_t start, length;
        char *type = NULL, *params = NULL;

        if (!dmt)
                return -ENOMEM;
        if (no_flush && !dm_task_no_flush(dmt))
                return -ENOMEM;
        if (!dm_task_run(dmt))
                return task_errno(dmt);
        if (!dm_task_get_info(dmt, &info) || !info.exists)
                return -ENXIO;
        dm_get_next_target(dmt, NULL, &start, &length, &type, &params);
        if (!type)
                return -ENODATA;
        type_copy = strdup(type);
        params_copy = strdup(params ? params : "");
        if (!type_copy || !params_copy)
                return -ENOMEM;
        *ret_type = TAKE_PTR(type_copy);
        *ret_params = TAKE_PTR(params_copy);
        return 0;
}

int dm_status(dvm_ctx *ctx, const char *name, char **ret_type, char **ret_params)
{
        return first_target(ctx, DM_DEVICE_STATUS, name, false, ret_type, ret_params);
}

int dm_status_noflush(dvm_ctx *ctx, const char *name, char **ret_type, char **ret_params)
{
        return first_target(ctx, DM_DEVICE_STATUS, name, true, ret_type, ret_params);
}

int dm_table(dvm_ctx *ctx, const char *name, char **ret_type, char **ret_params)
{
        return first_target(ctx, DM_DEVICE_TABLE, name, false, ret_type, ret_params);
}

static int uuid_of(dvm_ctx *ctx, const char *name, char *buf, size_t len)
{
        _cleanup_dm_task_ struct dm_task *dmt = task_new(ctx, DM_DEVICE_INFO, name);
        const char *uuid;

        if (!dmt)
                return -ENOMEM;
        if (!dm_task_run(dmt))
                return task_errno(dmt);
        uuid = dm_task_get_uuid(dmt);
        snprintf(buf, len, "%s", uuid ? uuid : "");
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int dm_list(dvm_ctx *ctx, const char *uuid_prefix, char ***ret_names)
{
        _cleanup_dm_task_ struct dm_task *dmt = task_new(ctx, DM_DEVICE_LIST, NULL);
        struct dm_names *names;
        char **v = NULL;
        size_t n = 0, next;
        char uuid[130];

        if (!dmt)
                return -ENOMEM;
        if (!dm_task_run(dmt))
                return ctx_error(ctx, task_errno(dmt), "cannot list device-mapper devices: %m");
        names = dm_task_get_names(dmt);
        v = calloc(1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        if (names && names->dev) {
                do {
                        next = names->next;
                        if (uuid_of(ctx, names->name, uuid, sizeof(uuid)) == 0 &&
                            strncmp(uuid, uuid_prefix, strlen(uuid_prefix)) == 0) {
                                char **nv = realloc(v, (n + 2) * sizeof(char *));
                                if (!nv || !(nv[n] = strdup(names->name))) {
                                        v = nv ? nv : v;
                                        dvm_strv_free(v);
                                        return -ENOMEM;
                                }
                                v = nv;
                                v[++n] = NULL;
                        }
                        names = (struct dm_names *)((char *)names + next);
                } while (next);
        }
        qsort(v, n, sizeof(char *), cmp_str);
        *ret_names = v;
        return (int)n;
}

int dm_target_version(dvm_ctx *ctx, const char *target, uint32_t ret_version[3])
{
        _cleanup_dm_task_ struct dm_task *dmt = task_new(ctx, DM_DEVICE_GET_TARGET_VERSION, NULL);
        struct dm_versions *v;

        if (!dmt)
                return -ENOMEM;
        if (!dm_task_set_name(dmt, target))
                return -ENOMEM;
        if (!dm_task_run(dmt)) {
                int r = task_errno(dmt);
                return r == -EINVAL || r == -ENXIO ? -ENOENT : r;
        }
        v = dm_task_get_versions(dmt);
        if (!v)
                return -ENOENT;
        memcpy(ret_version, v->version, sizeof(v->version));
        return 0;
}

unsigned long dm_changes(void)
{
        return changes;
}
