/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * device-mapper ioctls, through libdevmapper. This is the only file that includes
 * <libdevmapper.h>; targets build parameter strings and never see a dm_task.
 */
#ifndef DVM_DM_H
#define DVM_DM_H

#include <stdbool.h>
#include <stdint.h>

#include "util/ctx.h"

/** Prefix of the dm UUID of every device we own; listing and cleanup match only this. */
#define DM_UUID_PREFIX "DVM-"

/** Room for a dm device name, NUL included: the kernel's DM_NAME_LEN. */
#define DM_NAME_MAX 128

struct dm_table_line {
        uint64_t start;     /* sectors */
        uint64_t length;    /* sectors */
        const char *type;   /* target name */
        const char *params; /* target parameters */
};

struct dm_dev_info {
        uint32_t major;
        uint32_t minor;
        int32_t open_count;
        bool suspended;
        bool read_only;
        bool live_table;
};

/**
 * dm_create() - create device @name with @uuid, load @table and resume it, waiting for
 * its node (udev cookie, or libdevmapper makes the node itself when udevd is not running);
 * inside a batch the wait comes at the batch's end (dm_batch_begin()).
 * Returns 0 and fills @ret_info (may be NULL), or -errno (-EEXIST: name or uuid taken).
 */
int dm_create(dvm_ctx *ctx, const char *name, const char *uuid, const struct dm_table_line *table,
              unsigned n_lines, bool read_only, struct dm_dev_info *ret_info);

/**
 * dm_create_secret() - like dm_create() (read-write, no info) for a table that holds a key:
 * the ioctl buffers are wiped (DM_SECURE_DATA_FLAG), libdevmapper's log lines about the task
 * are dropped, and an error message names the target but not its parameters.
 * Returns 0 or -errno (-EEXIST: name or uuid taken).
 */
int dm_create_secret(dvm_ctx *ctx, const char *name, const char *uuid, const struct dm_table_line *table,
                     unsigned n_lines);

/**
 * dm_reload() - replace the table of active device @name with @table: load it, then resume
 * (which swaps it in while the device stays open); a failed resume drops the new table.
 * Returns 0 or -errno (-ENXIO: no such device).
 */
int dm_reload(dvm_ctx *ctx, const char *name, const struct dm_table_line *table, unsigned n_lines);

/**
 * dm_batch_begin() - from now until the matching dm_batch_end(), this thread's creates,
 * resumes and removes share one udev cookie and are waited for once, at the end, instead of
 * each after its own ioctl: udevd handles their events side by side. Batches nest; only
 * the outermost end waits. Used around each change of a pool (pool_change_begin()).
 */
void dm_batch_begin(void);

/** dm_batch_end() - end a batch; the outermost end waits for the nodes of its devices. */
void dm_batch_end(void);

/** dm_settle() - the devices changed so far in the open batch have their nodes from now on. */
void dm_settle(void);

/**
 * dm_node_make() - make (or correct) /dev/mapper/@name for our existing device @name, as
 * libdevmapper does at the end of a batch: a process killed between a create and its
 * batch's wait leaves the device without its node, and no udev rule makes it for us.
 * Returns 0 or -errno.
 */
int dm_node_make(dvm_ctx *ctx, const char *name);

/**
 * dm_open() - open the node of our device @name (/dev/mapper/@name) with open(2) @flags
 * (O_CLOEXEC added), after the nodes of the open batch exist.
 * Returns the file descriptor or -errno (not logged: the caller names what it needed).
 */
int dm_open(dvm_ctx *ctx, const char *name, int flags);

/**
 * dm_remove() - remove device @name; a busy device is retried with backoff.
 * Returns 0, -ENXIO if there is no such device, -EBUSY (message names the open count).
 */
int dm_remove(dvm_ctx *ctx, const char *name);

/**
 * dm_remove_deferred() - take device @name from its users now and leave its removal to the
 * kernel: holding it open, mark it for deferred removal (DM_DEFERRED_REMOVE), drop its
 * /dev/mapper node, then close it; the kernel's workqueue removes the device on that last
 * close, or on the close of whoever else still holds it. Costs two ioctls where a removal
 * waits for the kernel's grace periods (tens of milliseconds). dm_keep() takes it back.
 * Returns 0, -ENXIO if there is no such device, or -errno.
 */
int dm_remove_deferred(dvm_ctx *ctx, const char *name);

/**
 * dm_keep() - keep device @name: cancel a deferred removal pending on it and make its node
 * again; a device with none pending is kept as it is. A device the kernel is removing
 * already is waited for (up to 10 s). Returns 0 when @name exists and stays, -ENXIO when
 * there is none (or it went), or -errno.
 */
int dm_keep(dvm_ctx *ctx, const char *name);

/** dm_suspend() - suspend @name (flushing I/O). Returns 0 or -errno. */
int dm_suspend(dvm_ctx *ctx, const char *name);

/** dm_resume() - resume @name. Returns 0 or -errno. */
int dm_resume(dvm_ctx *ctx, const char *name);

/** dm_message() - send @msg to sector 0 of @name (thin-pool messages). Returns 0 or -errno. */
int dm_message(dvm_ctx *ctx, const char *name, const char *msg);

/**
 * dm_info() - whether @name exists, and its numbers. Returns 0 and fills @ret_info,
 * -ENXIO if there is no such device, or -errno.
 */
int dm_info(dvm_ctx *ctx, const char *name, struct dm_dev_info *ret_info);

/**
 * dm_status() - the status line of the first target of @name.
 * Returns 0 with malloc'd @ret_type and @ret_params, -ENXIO if missing, or -errno.
 */
int dm_status(dvm_ctx *ctx, const char *name, char **ret_type, char **ret_params);

/**
 * dm_status_noflush() - dm_status() with DM_NOFLUSH_FLAG: the target answers from what it
 * holds in memory (a thin-pool's status otherwise commits its metadata first, a write and
 * a flush of the metadata device, to make its block counts current). Returns as dm_status().
 */
int dm_status_noflush(dvm_ctx *ctx, const char *name, char **ret_type, char **ret_params);

/**
 * dm_table() - the table line of the first target of @name (a crypt table shows its key:
 * never log it). Returns 0 with malloc'd @ret_type and @ret_params, -ENXIO if missing, or -errno.
 */
int dm_table(dvm_ctx *ctx, const char *name, char **ret_type, char **ret_params);

/**
 * dm_list() - names of the devices whose UUID starts with @uuid_prefix, sorted.
 * Returns the count and a NULL-terminated array (dvm_strv_free()), or -errno.
 */
int dm_list(dvm_ctx *ctx, const char *uuid_prefix, char ***ret_names);

/**
 * dm_target_version() - version of a kernel target (loads its module if it can).
 * Returns 0 and @ret_version, -ENOENT if the kernel lacks it, -ENODEV without dm.
 */
int dm_target_version(dvm_ctx *ctx, const char *target, uint32_t ret_version[3]);

/** dm_available() - Returns 0 if /dev/mapper/control works, else -ENODEV with a message. */
int dm_available(dvm_ctx *ctx);

/** dm_changes() - Returns how many changes of kernel state this process has made through us. */
unsigned long dm_changes(void);

#endif
