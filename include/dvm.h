/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libdvm: copy-on-write block storage for disposable VMs, built directly on device-mapper.
 * The public API. Every function that can fail returns 0 (or a count) on success and a
 * negative errno on failure; dvm_ctx_last_error() then holds a one-line message.
 */
#ifndef DVM_H
#define DVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DVM_PUBLIC __attribute__((visibility("default")))

/** Longest VM name in bytes (Qubes allows 31; we allow 64). */
#define DVM_NAME_MAX 64
/** Longest pool name in bytes. */
#define DVM_POOL_NAME_MAX 32
/** State directory used when neither the caller nor $DVM_STATE_DIR names one. */
#define DVM_DEFAULT_STATE_DIR "/var/lib/dvm-vol"
/** Pool used when the caller names none. */
#define DVM_DEFAULT_POOL "default"

typedef struct dvm_ctx dvm_ctx;
typedef struct dvm_pool dvm_pool;

enum dvm_log_level { DVM_LOG_ERR = 3, DVM_LOG_WARNING = 4, DVM_LOG_INFO = 6, DVM_LOG_DEBUG = 7 };

/** Receives every log line of the library; @msg has no trailing newline. */
typedef void (*dvm_log_fn)(void *userdata, enum dvm_log_level level, const char *msg);

/** Progress of a long operation: @done of @total bytes. */
typedef void (*dvm_progress_fn)(void *userdata, uint64_t done, uint64_t total);

/**
 * dvm_ctx_new() - create a library context.
 * @state_dir: directory holding the pools; NULL means $DVM_STATE_DIR, else
 *             DVM_DEFAULT_STATE_DIR.
 * Returns 0 and the context in @ret_ctx, or -ENOMEM / -EINVAL.
 */
DVM_PUBLIC int dvm_ctx_new(const char *state_dir, dvm_ctx **ret_ctx);

/** dvm_ctx_free() - free a context; NULL is a no-op. Returns NULL. */
DVM_PUBLIC dvm_ctx *dvm_ctx_free(dvm_ctx *ctx);

/** dvm_ctx_set_log() - route log lines at or above @max_level to @fn (NULL: drop them). */
DVM_PUBLIC void dvm_ctx_set_log(dvm_ctx *ctx, enum dvm_log_level max_level, dvm_log_fn fn,
                                void *userdata);

/** dvm_ctx_set_progress() - report progress of imports and wipes to @fn (NULL: none). */
DVM_PUBLIC void dvm_ctx_set_progress(dvm_ctx *ctx, dvm_progress_fn fn, void *userdata);

/**
 * dvm_ctx_set_lock_timeout() - wait at most @timeout_ms for a pool's lock that another process
 * holds; a call that would wait longer fails with -EBUSY, naming the pool, and changes nothing.
 * 0 (the default) waits as long as it takes.
 */
DVM_PUBLIC void dvm_ctx_set_lock_timeout(dvm_ctx *ctx, unsigned timeout_ms);

/**
 * dvm_ctx_last_error() - the message of the last failure in this context.
 * Returns a string owned by @ctx, valid until the next call; "" when nothing failed.
 */
DVM_PUBLIC const char *dvm_ctx_last_error(const dvm_ctx *ctx);

/** dvm_ctx_state_dir() - the state directory in use. Returns a string owned by @ctx. */
DVM_PUBLIC const char *dvm_ctx_state_dir(const dvm_ctx *ctx);

/* ---- pools ---------------------------------------------------------------------------- */

enum dvm_backend { DVM_BACKEND_THIN = 0, DVM_BACKEND_SNAP = 1, DVM_BACKEND_RBD = 2 };

/**
 * Whether a thin pool provisions blocks without zeroing them. AUTO: yes on a new
 * file-backed pool (a sparse file reads zero), no on given devices. YES: the same, but
 * dvm_pool_init() fails with -EINVAL on devices (their contents are unknown). NO: never.
 * A pool that has it drops it (for good) as soon as a free block might not read zero: a
 * layer released without a wipe (a committed layer that a commit replaced, a layer
 * recovery finds unaccounted for), a wipe that did not finish.
 */
enum dvm_skip_zeroing {
        DVM_SKIP_ZEROING_AUTO = 0,
        DVM_SKIP_ZEROING_YES,
        DVM_SKIP_ZEROING_NO,
};

/** What dvm_pool_init() builds. Zeroed fields take their defaults. */
struct dvm_pool_config {
        enum dvm_backend backend;
        const char *data_dev;     /* existing block device for data; NULL: file-backed */
        const char *metadata_dev; /* existing block device for metadata; NULL: file-backed */
        uint64_t data_size;       /* bytes of the sparse data file; 0: 16 GiB */
        uint64_t block_size;      /* bytes per thin block (64 KiB..1 GiB, multiple of 64 KiB) */
        /* snap backend */
        uint64_t chunk_size;      /* bytes per snapshot chunk (4 KiB..1 MiB, power of two; 0: 64 KiB) */
        unsigned cow_percent;     /* a disposable's COW store holds changes up to this share of
                                     its volume (1..100; 0: 100, which never fills up) */
        /* rbd backend: committed layers (templates' origins, save_on_stop volumes' commits) are
         * protected snapshots of images in a Ceph pool; running layers are thin volumes of a
         * local thin-pool (the thin settings above), over the mapped snapshot as external origin */
        const char *rbd_conf;     /* Ceph config file (NULL: librados' default search) */
        const char *rbd_client;   /* Ceph client id, without "client." (NULL: "admin") */
        const char *rbd_pool;     /* Ceph pool of the images (NULL: "rbd") */
        const char *rbd_host;     /* this host's name in image names (NULL: the node name) */
        /* thin backend: provision blocks without zeroing them (skip_block_zeroing), which
         * only a pool whose every free block reads zero may do; a snap pool refuses any
         * value but AUTO (-EINVAL) */
        enum dvm_skip_zeroing skip_zeroing;
};


/** A pool's identity and usage, as dvm_pool_info() reports it. */
struct dvm_pool_info {
        char name[DVM_POOL_NAME_MAX + 1];
        enum dvm_backend backend;
        bool active;
        uint64_t block_size;         /* bytes */
        uint64_t data_total;         /* bytes */
        uint64_t data_used;          /* bytes */
        uint64_t metadata_total;     /* bytes */
        uint64_t metadata_used;      /* bytes */
        uint64_t transaction_id;
        unsigned volumes;            /* volumes in the catalog */
        char data_path[4096];        /* data device or file */
        char metadata_path[4096];    /* metadata device or file */
        bool skip_zeroing;           /* thin: new blocks are not zeroed (every free block reads zero) */
};

/**
 * dvm_pool_init() - create pool @name (NULL: "default") and activate it.
 * Returns 0, -EEXIST if it exists, -EINVAL for a bad name or configuration, -ENODEV when
 * the kernel lacks device-mapper, or another -errno from the kernel. An rbd pool connects
 * to its cluster first: -ENOENT when the config file or the Ceph pool does not exist, or
 * the cluster's error (a cluster that does not answer fails after 30 s). On failure
 * nothing of the pool is left.
 */
DVM_PUBLIC int dvm_pool_init(dvm_ctx *ctx, const char *name, const struct dvm_pool_config *cfg);

/**
 * dvm_pool_open() - open pool @name (NULL: "default") and activate it if it is not active
 * (loop devices re-attached, thin-pool loaded; origins untouched).
 * Returns 0 and a handle in @ret_pool, -ENOENT if the pool is not initialised.
 */
DVM_PUBLIC int dvm_pool_open(dvm_ctx *ctx, const char *name, dvm_pool **ret_pool);

/** dvm_pool_close() - release the handle (kernel state stays). NULL is a no-op. Returns NULL. */
DVM_PUBLIC dvm_pool *dvm_pool_close(dvm_pool *pool);

/** dvm_pool_info() - fill @ret_info from the catalog and the kernel. Returns 0 or -errno. */
DVM_PUBLIC int dvm_pool_info(dvm_pool *pool, struct dvm_pool_info *ret_info);

/**
 * dvm_pool_list() - names of the initialised pools in the state directory, sorted.
 * Returns the count and a NULL-terminated array in @ret_names (free with dvm_strv_free()).
 */
DVM_PUBLIC int dvm_pool_list(dvm_ctx *ctx, char ***ret_names);

/**
 * dvm_pool_set_space_guard() - spawn, start and import are refused with -ENOSPC, before any
 * change, when they would leave less than @percent of the pool's data or metadata free
 * (0 turns the guard off; a new pool has 10). Returns 0, or -EINVAL above 99.
 */
DVM_PUBLIC int dvm_pool_set_space_guard(dvm_pool *pool, unsigned percent);

/** dvm_pool_get_space_guard() - the pool's space guard in percent. Returns 0 or -errno. */
DVM_PUBLIC int dvm_pool_get_space_guard(dvm_pool *pool, unsigned *ret_percent);

/** dvm_strv_free() - free a NULL-terminated string array; NULL is a no-op. Returns NULL. */
DVM_PUBLIC char **dvm_strv_free(char **strv);

/* ---- VMs and volumes ------------------------------------------------------------------ */

/* A qube (DVM_VM_QUBE) is a VM whose volumes are made, started and stopped one by one
 * through the dvm_volume_* calls below (a Qubes OS pool driver); the dvm_vm_* verbs that
 * build VMs leave it alone. */
enum dvm_vm_kind { DVM_VM_TEMPLATE = 0, DVM_VM_DVM_TEMPLATE = 1, DVM_VM_DISPOSABLE = 2, DVM_VM_QUBE = 3 };

enum dvm_volume_flags {
        DVM_VOL_SNAP_ON_START = 1 << 0, /* start = fresh snapshot of the source */
        DVM_VOL_SAVE_ON_STOP = 1 << 1,  /* stop = keep the changes (an origin) */
        DVM_VOL_RW = 1 << 2,            /* writable by the VM */
        DVM_VOL_IN_RAM = 1 << 3,        /* its running layer lives in RAM (an in-RAM disposable) */
};

/** One volume of a VM, as dvm_vm_get() reports it. */
struct dvm_volume_info {
        char name[16];              /* root, private, volatile */
        uint64_t size;              /* bytes */
        unsigned flags;             /* enum dvm_volume_flags */
        int64_t backend_id;         /* thin id of the current layer; -1: none */
        char source[DVM_NAME_MAX + 18]; /* "<vm>/<volume>" it snapshots, "" if none */
        bool outdated;              /* the source changed since this layer was taken */
        bool active;                /* a device exists */
        uint64_t used;              /* bytes mapped in the pool (thin), allocated (snap) */
        uint64_t cow_used;          /* snap, running snapshot: bytes of its COW store in use */
        uint64_t cow_size;          /* snap, running snapshot: bytes of its COW store; 0: none */
        bool invalid;               /* snap: the kernel invalidated the snapshot (COW full or an
                                       I/O error); its I/O fails, destroy it */
        char path[256];             /* /dev/mapper/... when active, else "" */
        /* added for the per-volume calls (dvm_volume_*); dvm_vm_get() fills them too */
        char vm[DVM_NAME_MAX + 1];  /* the VM it belongs to */
        bool dirty;                 /* save_on_stop with a running layer not committed yet:
                                       started, or a stop that never came (Qubes' is_dirty) */
        bool ephemeral;             /* its running layer is under an ephemeral key (volatile) */
        bool importing;             /* an import (dvm_volume_import_begin) is under way */
        unsigned revisions_to_keep; /* committed layers kept as revisions at each commit */
        unsigned n_revisions;       /* revisions it holds now */
};

/** A VM as dvm_vm_get() reports it. */
struct dvm_vm_info {
        char name[DVM_NAME_MAX + 1];
        enum dvm_vm_kind kind;
        char template[DVM_NAME_MAX + 1]; /* TemplateVM (DVM Template) or DVM Template (disposable) */
        bool running;
        bool named;                 /* a named disposable keeps its record when stopped */
        bool outdated;              /* any volume outdated */
        bool ready;                 /* preloaded: built, handed to no one yet (dvm_preload_set()) */
        unsigned n_volumes;
        struct dvm_volume_info volumes[3];
        bool wipe_queued;           /* destroyed: cut off from every domain, its wipe queued
                                       for the worker (dvm_pool_work()) */
};

/**
 * dvm_template_create() - a TemplateVM with empty root and private origins.
 * Returns 0, -EINVAL (name, sizes), -EEXIST, -ENOSPC, or -errno from the kernel.
 */
DVM_PUBLIC int dvm_template_create(dvm_pool *pool, const char *name, uint64_t root_size,
                                   uint64_t private_size);

/**
 * dvm_template_import() - a TemplateVM whose root (and private, if @private_image is not
 * NULL; otherwise an empty 2 GiB private) holds a copy of the given images. All-zero blocks
 * are not written, so they stay unprovisioned. Progress goes to the context's progress
 * callback. Returns 0 or -errno; on failure nothing is left behind.
 */
DVM_PUBLIC int dvm_template_import(dvm_pool *pool, const char *name, const char *root_image,
                                   const char *private_image);

/**
 * dvm_template_follow() - on an rbd pool, TemplateVM @name that follows TemplateVM @name of
 * host @host, which shares the pool's Ceph pool: its root and private are that host's
 * committed snapshots, found through the pointer objects its commits rewrite
 * ("dvm.tmpl.<host>.<name>.<volume>"). Each start over it (a spawn) takes the snapshot the
 * pointer names then; what runs keeps its own. It is held writable by @host: starting it
 * here is refused (-EBUSY). Returns 0, -EOPNOTSUPP (not an rbd pool), -ENOENT (@host has
 * no such template), -EEXIST, or -errno.
 */
DVM_PUBLIC int dvm_template_follow(dvm_pool *pool, const char *name, const char *host);

/**
 * dvm_dvm_create() - a DVM Template on TemplateVM @template: its root snapshots the
 * template's root at every start, its private is a new empty origin of @private_size bytes
 * (0: the size of the template's private). Returns 0 or -errno (-ENOENT: no such template).
 */
DVM_PUBLIC int dvm_dvm_create(dvm_pool *pool, const char *name, const char *template,
                              uint64_t private_size);

/**
 * dvm_spawn() - a disposable of DVM Template @dvm, started: root = snapshot of the
 * TemplateVM root, private = snapshot of the DVM Template's private, volatile = empty.
 * @name: a named disposable (kept, halted, when stopped), or NULL for "disp<N>".
 * An unnamed spawn takes a ready disposable of @dvm when there is one (dvm_preload_set()):
 * one that is not outdated, taken in one catalog transaction under the pool lock, so no two
 * spawns get the same one, with no kernel change; it was built as this call builds one
 * (fresh layers and volatile key, its own "disp<N>"), so the result is the same either
 * way. The worker's refill then starts, after this returns. A named spawn always builds.
 * Returns 0 and the running disposable in @ret_info (may be NULL), or -errno.
 */
DVM_PUBLIC int dvm_spawn(dvm_pool *pool, const char *dvm, const char *name,
                         struct dvm_vm_info *ret_info);

/** How dvm_spawn_ex() makes a disposable. Zeroed fields take their defaults. */
struct dvm_spawn_config {
        bool in_ram;        /* keep all it writes (root, private, volatile) in RAM, on zram
                               devices of its own: nothing reaches the pool's storage */
        uint64_t ram_limit; /* in_ram: bytes of RAM its layers may fill; 0: 1 GiB. Writes
                               past it fail with ENOSPC */
};

/**
 * dvm_spawn_ex() - dvm_spawn() as @cfg says (NULL: like dvm_spawn()). A named in-RAM
 * disposable stays in RAM at every start.
 * Returns 0 and the running disposable in @ret_info (may be NULL); -ENOSPC when less RAM
 * is available than its limit; -EOPNOTSUPP without zram; or -errno.
 */
DVM_PUBLIC int dvm_spawn_ex(dvm_pool *pool, const char *dvm, const char *name, const struct dvm_spawn_config *cfg,
                            struct dvm_vm_info *ret_info);

/**
 * dvm_vm_start() - start a TemplateVM, DVM Template or named disposable: layers are built
 * and activated. Returns 0 and the VM in @ret_info (may be NULL); -EALREADY if running.
 */
DVM_PUBLIC int dvm_vm_start(dvm_pool *pool, const char *name, struct dvm_vm_info *ret_info);

/**
 * dvm_vm_stop() - stop a VM: save_on_stop volumes commit, the others are removed. An
 * unnamed disposable is destroyed. Returns 0, -ENOENT, or -errno (-EBUSY: device in use).
 */
DVM_PUBLIC int dvm_vm_stop(dvm_pool *pool, const char *name);

/**
 * dvm_vm_destroy() - remove a VM and all its volumes. A template that still has
 * dependents is refused with -EBUSY. Returns 0 or -errno.
 */
DVM_PUBLIC int dvm_vm_destroy(dvm_pool *pool, const char *name);

/** Flags of dvm_vm_destroy_ex(). */
enum dvm_destroy_flags {
        /* return once the VM is cut off; its wipe and removal happen in a worker */
        DVM_DESTROY_LATER = 1 << 0,
};

/**
 * dvm_vm_destroy_ex() - dvm_vm_destroy(); with DVM_DESTROY_LATER, a running disposable
 * that is not in RAM is only cut off before this returns: the intent to wipe it is in the
 * catalog, the devices a domain could open are gone (a volatile volume's key with them),
 * and no domain or disk row hands it out any more. Its wipe, the removal of its layer
 * devices and the release of its layers are done by a worker this call starts
 * (`dvm-vol worker`, dvm_pool_work()); until then its name and layer ids stay taken, a
 * stop of it is refused with -EALREADY, and a destroy without the flag finishes it at
 * once. A crash leaves the intent, which recovery (`dvm-vol recover`, the boot unit)
 * carries out. Other VMs, and a VM in RAM, are destroyed as by dvm_vm_destroy(). A
 * template's destroy first finishes the wipes queued for its disposables.
 * Returns 0 or -errno as dvm_vm_destroy() (-EINVAL: unknown flags).
 */
DVM_PUBLIC int dvm_vm_destroy_ex(dvm_pool *pool, const char *name, unsigned flags);

/** Flags of dvm_pool_work(). */
enum dvm_work_flags {
        /* return at once when another worker holds the pool's worker lock (it drains) */
        DVM_WORK_TRY = 1 << 0,
};

/**
 * dvm_pool_work() - the worker: finish every wipe queued by dvm_vm_destroy_ex() with
 * DVM_DESTROY_LATER, oldest first, and bring every DVM Template's ready disposables to its
 * preload count (dvm_preload_set()): wipe outdated and surplus ones, build missing ones;
 * each wipe and each build is a change of its own under the pool lock. One
 * worker per pool at a time (a lock in the pool's directory): without DVM_WORK_TRY this
 * waits for the one that runs and then drains what is left. A wipe that fails stays
 * queued with its reason (shown by `dvm-vol recover`). Returns the number of wipes
 * finished plus ready disposables built or queued for their wipe, or -errno.
 */
DVM_PUBLIC int dvm_pool_work(dvm_pool *pool, unsigned flags);

/* ---- preloaded disposables ---------------------------------------------------------------
 *
 * A DVM Template may keep disposables ready: built as dvm_spawn() builds them (devices
 * created, each its own fresh layers and volatile key and its own "disp<N>" name), held by
 * no domain and handed out to no one. An unnamed spawn (dvm_spawn(), `dvm-vol spawn`, the
 * hook's dvm-spawn: disks) takes one; the worker (dvm_pool_work()), started after that
 * spawn returns, builds the next. A ready one built before its TemplateVM's root or its
 * DVM Template's private was committed is outdated: no spawn takes it, and the worker,
 * started by that commit (a stop), wipes it and builds a fresh one. The worker never
 * builds one when the pool would be left under its space guard (it notes why in the
 * setting). Ready ones are listed as VMs with dvm_vm_info.ready set.
 */

/** The most disposables one DVM Template keeps ready. */
#define DVM_PRELOAD_MAX 64

/** A DVM Template's preload, as dvm_preload_get() reports it. */
struct dvm_preload_info {
        char dvm[DVM_NAME_MAX + 1];
        unsigned count;             /* kept ready (the setting; 0: none) */
        unsigned ready;             /* ready now, outdated ones included */
        unsigned outdated;          /* of those, built on a template state committed over since */
        char note[256];             /* why the last refill stopped short (the space guard); "" */
};

/**
 * dvm_preload_set() - keep @count disposables of DVM Template @dvm ready (a setting in the
 * catalog, kept until changed). The worker is started to build them; with @count 0 (or
 * fewer than are ready), the ones not kept are cut off now and wiped by the worker, as
 * dvm_vm_destroy_ex() with DVM_DESTROY_LATER does. A setting the space guard limits now is
 * kept, with a warning in the log. Destroying the DVM Template drops its setting and ready
 * ones first. Returns 0, -ENOENT (no such VM), -EINVAL (not a DVM Template, @count above
 * DVM_PRELOAD_MAX), or -errno.
 */
DVM_PUBLIC int dvm_preload_set(dvm_pool *pool, const char *dvm, unsigned count);

/**
 * dvm_preload_get() - the preload of DVM Template @dvm (count 0 without a setting).
 * Returns 0, -ENOENT, -EINVAL (not a DVM Template), or -errno.
 */
DVM_PUBLIC int dvm_preload_get(dvm_pool *pool, const char *dvm, struct dvm_preload_info *ret_info);

/**
 * dvm_preload_list() - every DVM Template's preload setting of the pool, by name.
 * Returns the count and an array in @ret_list (free with free()), or -errno.
 */
DVM_PUBLIC int dvm_preload_list(dvm_pool *pool, struct dvm_preload_info **ret_list);

/** dvm_vm_get() - describe VM @name. Returns 0, -ENOENT or -errno. */
DVM_PUBLIC int dvm_vm_get(dvm_pool *pool, const char *name, struct dvm_vm_info *ret_info);

/**
 * dvm_vm_list() - all VMs of the pool, templates first, then by name.
 * Returns the count and an array in @ret_vms (free with free()), or -errno.
 */
DVM_PUBLIC int dvm_vm_list(dvm_pool *pool, struct dvm_vm_info **ret_vms);

/* ---- volumes one by one: the Qubes OS pool driver ----------------------------------------
 *
 * Qubes' qubesd drives storage one volume at a time (qubes/storage/__init__.py: Volume.create,
 * start, stop, ...). These calls give it that, keyed by (@vm, @volume): the VM is a qube
 * (DVM_VM_QUBE), made with its first volume and gone with its last; @volume is "root",
 * "private" or "volatile". They behave like Qubes' lvm_thin driver: start of a save_on_stop
 * volume runs a snapshot of its committed layer, stop commits it (the replaced layer kept
 * as a revision up to revisions_to_keep); snap_on_start takes the source's committed layer
 * at each start; a volume with neither flag (volatile) is fresh and under an ephemeral key
 * at each start. A running layer that is dropped is wiped first, like a disposable's.
 * Errors name the volume as "<vm>/<volume>" in the last error.
 *
 * Implemented (thin backend): all of them. Not like lvm_thin: a started volatile volume is
 * not resized; the usage of a halted volume reads 0.
 * On a snap-backend pool every dvm_volume_* call returns -EOPNOTSUPP.
 */

/** Longest path a dvm_volume_* call returns, with its NUL. */
#define DVM_VOLUME_PATH_MAX 256

/** What dvm_volume_create() makes. */
struct dvm_volume_config {
        uint64_t size;              /* bytes: non-zero, a multiple of 512 */
        unsigned flags;             /* DVM_VOL_SNAP_ON_START, DVM_VOL_SAVE_ON_STOP, DVM_VOL_RW
                                       (not both of the first two) */
        const char *source;         /* "<vm>/<volume>" of this pool, or NULL. Required with
                                       snap_on_start (its committed layer is snapshotted at each
                                       start); with save_on_stop, the new volume's committed
                                       layer starts as a copy of the source's (Qubes' clone) */
        unsigned revisions_to_keep; /* save_on_stop: replaced committed layers kept (0: none) */
        bool ephemeral;             /* Qubes' ephemeral: a volatile volume always is; refused
                                       with save_on_stop and (not supported) snap_on_start */
};

/** One revision of a save_on_stop volume: a committed layer a later commit replaced. */
struct dvm_volume_revision {
        int64_t id;                 /* its layer id: what dvm_volume_revert() takes */
        int64_t time;               /* when it was replaced, seconds since the epoch */
        uint64_t size;              /* bytes */
};

/**
 * dvm_volume_create() - volume @volume of qube @vm as @cfg says (the qube is made if it is
 * not in the catalog). A save_on_stop volume gets its committed layer now: empty, or a copy
 * of its source's; the others have none until they start.
 * Returns 0, -EEXIST (the volume exists, or @vm is a VM of another kind), -EINVAL (a bad
 * name, size, flag combination or source), -ENOENT (the source does not exist), -ENOSPC,
 * or -errno; nothing changes on failure.
 */
DVM_PUBLIC int dvm_volume_create(dvm_pool *pool, const char *vm, const char *volume,
                                 const struct dvm_volume_config *cfg);

/**
 * dvm_volume_remove() - remove the volume with its committed layer, revisions, an import
 * under way and a running layer left by a crash (wiped first); the qube goes with its last
 * volume. A volume whose running layer another snapshots keeps that layer until it stops.
 * Returns 0, -ENOENT, -EBUSY while it is started (its device exists: stop it first) or
 * importing, or -errno.
 */
DVM_PUBLIC int dvm_volume_remove(dvm_pool *pool, const char *vm, const char *volume);

/**
 * dvm_volume_start() - give the volume a running layer and its device: save_on_stop, a
 * snapshot of its committed layer (a dirty volume keeps the running layer it has: the
 * changes of a run whose stop never came are picked up, as lvm_thin does); snap_on_start,
 * a fresh snapshot of its source's committed layer (one left by a crash is wiped and
 * dropped first); volatile, a fresh empty layer under a new ephemeral key. Read-only unless
 * DVM_VOL_RW. A save_on_stop volume that is started already stays as it is (0). Returns 0
 * and the volume in @ret_info (may be NULL; its path is the device to hand to the VM),
 * -EBUSY during an import or while the device of a snap_on_start or volatile volume left
 * running is open, -ENOSPC (the pool's space guard), or -errno; nothing changes on failure.
 */
DVM_PUBLIC int dvm_volume_start(dvm_pool *pool, const char *vm, const char *volume,
                                struct dvm_volume_info *ret_info);

/**
 * dvm_volume_stop() - take the device down: save_on_stop commits the running layer (the
 * committed layer it replaces becomes a revision, the oldest beyond revisions_to_keep go);
 * any other running layer is wiped and dropped. A volume that is not started: nothing to
 * do, 0. Returns 0, -EBUSY when the device is open (nothing changes), or -errno.
 */
DVM_PUBLIC int dvm_volume_stop(dvm_pool *pool, const char *vm, const char *volume);

/** The most volumes dvm_volumes_start() and dvm_volumes_stop() take at once. */
#define DVM_VOLUMES_MAX 16

/**
 * dvm_volumes_start() - dvm_volume_start() of @n (1 to DVM_VOLUMES_MAX) volumes of qube
 * @vm, as qubesd starts a qube's volumes together, in one change of the pool: one lock,
 * one recovery check and one udev wait for all, each volume in a catalog transaction of
 * its own, in order, until one fails. @ret_results[i] gets volume i's 0 or -errno (its
 * failure is the last error), -ECANCELED for those after a failure: each of those is as it
 * was. Returns 0 when all started, else the first -errno.
 */
DVM_PUBLIC int dvm_volumes_start(dvm_pool *pool, const char *vm, const char *const *volumes, unsigned n,
                                 int *ret_results);

/**
 * dvm_volumes_stop() - dvm_volume_stop() of @n volumes of qube @vm in one change of the
 * pool, as dvm_volumes_start() starts them. Returns 0 when all stopped, else the first
 * -errno (@ret_results as for dvm_volumes_start()).
 */
DVM_PUBLIC int dvm_volumes_stop(dvm_pool *pool, const char *vm, const char *const *volumes, unsigned n,
                                int *ret_results);

/**
 * dvm_volume_get() - describe the volume: size, flags, source, outdated (Qubes'
 * is_outdated: it runs on a layer its source has replaced since), dirty, active and the
 * path of its device, bytes used. Returns 0, -ENOENT, or -errno.
 */
DVM_PUBLIC int dvm_volume_get(dvm_pool *pool, const char *vm, const char *volume,
                              struct dvm_volume_info *ret_info);

/**
 * dvm_volume_list() - every volume of the pool's qubes, by VM then root, private, volatile.
 * Returns the count and an array in @ret_volumes (free with free()), or -errno.
 */
DVM_PUBLIC int dvm_volume_list(dvm_pool *pool, struct dvm_volume_info **ret_volumes);

/**
 * dvm_volume_revisions() - the revisions of a save_on_stop volume, newest first.
 * Returns the count and an array in @ret_revisions (free with free()), -ENOENT, or -errno.
 */
DVM_PUBLIC int dvm_volume_revisions(dvm_pool *pool, const char *vm, const char *volume,
                                    struct dvm_volume_revision **ret_revisions);

/**
 * dvm_volume_revert() - make revision @revision (-1: the newest) the committed layer again,
 * as lvm_thin does: the revision stays, the committed layer it replaces goes. Returns 0,
 * -ENOENT (no such revision), -EBUSY when the volume is dirty or importing, or -errno.
 */
DVM_PUBLIC int dvm_volume_revert(dvm_pool *pool, const char *vm, const char *volume, int64_t revision);

/**
 * dvm_volume_export() - a read-only device of the volume's committed layer (also while it
 * runs: the state of its last commit), its path in @ret_path, until dvm_volume_export_end().
 * A device left by a process that died goes at the next recovery. Returns 0, -ENOENT (no
 * committed layer: a volatile or snap_on_start volume exports its source's), or -errno.
 */
DVM_PUBLIC int dvm_volume_export(dvm_pool *pool, const char *vm, const char *volume,
                                 char ret_path[DVM_VOLUME_PATH_MAX]);

/**
 * dvm_volume_export_end() - remove the device dvm_volume_export() gave at @path.
 * Returns 0, -EINVAL when @path is no export of this volume, -EBUSY while it is open, or -errno.
 */
DVM_PUBLIC int dvm_volume_export_end(dvm_pool *pool, const char *vm, const char *volume, const char *path);

/**
 * dvm_volume_import_begin() - a writable device of a new empty layer of @size bytes (0: the
 * volume's size), its path in @ret_path, for the caller to write an image into; the volume
 * is unchanged until dvm_volume_import_end(). Returns 0, -EBUSY when the volume is dirty
 * (started) or an import is under way, -EINVAL for a volume that is not save_on_stop or a
 * bad size, -ENOSPC, or -errno.
 */
DVM_PUBLIC int dvm_volume_import_begin(dvm_pool *pool, const char *vm, const char *volume, uint64_t size,
                                       char ret_path[DVM_VOLUME_PATH_MAX]);

/**
 * dvm_volume_import_end() - with @commit, the imported layer becomes the committed layer
 * (the volume takes its size; the replaced layer becomes a revision); without, it is
 * dropped. Returns 0, -ENOENT when no import is under way, -EBUSY while its device is open,
 * or -errno.
 */
DVM_PUBLIC int dvm_volume_import_end(dvm_pool *pool, const char *vm, const char *volume, bool commit);

/**
 * dvm_volume_resize() - grow the volume to @size bytes (the same size: nothing to do). A
 * started volume's device grows at once, open or not, its data in place; the commit at stop
 * keeps the size. Returns 0, -EINVAL when @size is smaller (the message names the volume
 * and both sizes) or the volume is read-only, -EBUSY for a started volatile volume (under
 * an ephemeral key), or -errno.
 */
DVM_PUBLIC int dvm_volume_resize(dvm_pool *pool, const char *vm, const char *volume, uint64_t size);

/* ---- layers: read-only views for inspection ------------------------------------------ */

typedef struct dvm_layer dvm_layer;

/** One layer of a volume's chain, as dvm_volume_layers() reports it. */
struct dvm_layer_info {
        int64_t id;                     /* backend id (the thin id on the thin backend) */
        int64_t origin;                 /* the layer this one snapshots; -1: none */
        uint64_t size;                  /* bytes */
        char owner[DVM_NAME_MAX + 18];  /* "<vm>/<volume>" whose layer it is */
        bool running;                   /* the running layer, shown by the volume's device */
};

/** A byte range of a layer. */
struct dvm_extent {
        uint64_t offset;
        uint64_t length;
};

/** What libblkid finds on a layer; empty strings when nothing was found. */
struct dvm_probe {
        char usage[16];      /* "filesystem", "crypto", "raid", "other" */
        char type[32];       /* "ext4", "swap", "crypto_LUKS", ... */
        char version[32];
        char label[256];
        char uuid[64];
        char pttype[16];     /* partition table: "dos", "gpt" */
        char ptuuid[64];
        unsigned partitions; /* entries of the partition table */
        bool ambivalent;     /* several signatures: libblkid names none */
};

/**
 * dvm_volume_layers() - the layer chain of volume @volume of VM @vm, base first: the
 * committed layer its running layer snapshots, then the running layer; the committed
 * layer alone while the VM is halted; nothing for a halted volatile or snapshot volume.
 * Returns the count and an array in @ret_layers (free with free()), -ENOENT, or -errno.
 */
DVM_PUBLIC int dvm_volume_layers(dvm_pool *pool, const char *vm, const char *volume,
                                 struct dvm_layer_info **ret_layers);

/**
 * dvm_layer_open() - a read-only view of layer @id (-1: the top, the volume's content) of
 * @vm/@volume, without writing to anything. The running layer is read through the
 * volume's own device (while the view is open, stopping its VM fails with -EBUSY); a
 * committed layer through a read-only device made for the view, removed when it closes.
 * Returns 0 and the view in @ret_layer, -ENOENT when @id is not (any more) in the chain,
 * -ENXIO when a running volume lacks its device, or -errno.
 */
DVM_PUBLIC int dvm_layer_open(dvm_pool *pool, const char *vm, const char *volume, int64_t id,
                              dvm_layer **ret_layer);

/**
 * dvm_layer_close() - close a view (its device goes if the view made one); NULL is a no-op.
 * Finishes the deletion of a committed layer whose last user went while it was viewed.
 * Returns NULL.
 */
DVM_PUBLIC dvm_layer *dvm_layer_close(dvm_layer *layer);

/** dvm_layer_get_info() - the layer a view shows. Returns a pointer owned by @layer. */
DVM_PUBLIC const struct dvm_layer_info *dvm_layer_get_info(const dvm_layer *layer);

/** dvm_layer_path() - the device a view reads. Returns a string owned by @layer. */
DVM_PUBLIC const char *dvm_layer_path(const dvm_layer *layer);

/**
 * dvm_layer_read() - read up to @len bytes at @off straight from the device (O_DIRECT:
 * what a running VM wrote, never a stale cached copy); any alignment works, a @buf, @off
 * and @len aligned to 4 KiB avoid a bounce copy. Safe to call from several threads at
 * once; sets no error message. Returns the bytes read (0 at the end), or -errno.
 */
DVM_PUBLIC ssize_t dvm_layer_read(dvm_layer *layer, void *buf, size_t len, uint64_t off);

/**
 * dvm_layer_changed() - the byte ranges the layer owns exclusively: written since it was
 * taken from its origin, or all it holds when it has none (the backend's own map: thin
 * metadata through a briefly held metadata snapshot, or the COW store), sorted.
 * Returns the count and an array in @ret_extents (free with free()), or -errno
 * (-EOPNOTSUPP: the backend cannot tell).
 */
DVM_PUBLIC int dvm_layer_changed(dvm_layer *layer, struct dvm_extent **ret_extents);

/** dvm_layer_probe() - what libblkid finds on the layer. Returns 0 or -errno. */
DVM_PUBLIC int dvm_layer_probe(dvm_layer *layer, struct dvm_probe *ret_probe);

/* ---- Xen hand-off ----------------------------------------------------------------------- */

enum dvm_hotplug_action { DVM_HOTPLUG_ADD = 0, DVM_HOTPLUG_REMOVE = 1 };

/**
 * dvm_xen_hotplug() - one call of block-dvm, libxl's block hotplug script, for the vbd
 * backend @xenbus_path ("backend/vbd/<domid>/<devid>", libxl's XENBUS_PATH). Add: the
 * backend's params name a volume ("dvm:<pool>/<vm>/<volume>"; a halted VM is started for
 * the domain) or a volume of the domain's disposable ("dvm-spawn:<pool>/<dvm-template>/
 * <volume>": the domain's disks share one, spawned at the first); the device's identity is
 * checked (our UUID, its disk sequence number) and it is published to blkback in one
 * xenstore transaction. A refusal or failure lands in hotplug-error. Remove: the disk is
 * released, and a VM made for the domain stops with its last disk (an unnamed disposable
 * is destroyed, wipe included). A repeated call changes nothing.
 * Returns 0 or -errno (-ENODEV: no xenstore here).
 */
DVM_PUBLIC int dvm_xen_hotplug(dvm_ctx *ctx, enum dvm_hotplug_action action, const char *xenbus_path);

/** A volume handed to a domain, as dvm_xen_attach() reports it. */
struct dvm_xen_disk {
        char volume[16];
        char vdev[16];
        bool rw;
};

/**
 * dvm_xen_attach() - hand the volumes of VM @name to the running domain @domain (an id or a
 * name) through libxenlight, with block-dvm as their script: root, private and volatile
 * become @vdev_base (NULL: "xvda") and the devices after it, read-only where the volume
 * is. A halted VM is started for the domain and stops when its last disk goes. On failure
 * the disks added so far are removed again. Returns the number of disks and them in
 * @ret_disks (may be NULL), or -errno (-ENODEV: no Xen toolstack here).
 */
DVM_PUBLIC int dvm_xen_attach(dvm_pool *pool, const char *name, const char *domain, const char *vdev_base,
                              struct dvm_xen_disk ret_disks[3]);

/**
 * dvm_xen_detach() - unplug the disks made of VM @name's volumes from @domain (NULL: from
 * every domain). Returns the number of disks, -ENOENT when none is attached there, or -errno.
 */
DVM_PUBLIC int dvm_xen_detach(dvm_pool *pool, const char *name, const char *domain);

/**
 * dvm_xl_disks() - the xl disk lines that give a domain a disposable of DVM Template @dvm
 * when it starts (block-dvm spawns it at the first disk): root, private and volatile as
 * @vdev_base (NULL: "xvda") and the devices after it. Returns their number and a
 * NULL-terminated array in @ret_lines (dvm_strv_free()), or -errno.
 */
DVM_PUBLIC int dvm_xl_disks(dvm_pool *pool, const char *dvm, const char *vdev_base, char ***ret_lines);

/* ---- recovery ---------------------------------------------------------------------------- */

/** What dvm_pool_recover() found and did. */
struct dvm_recover_report {
        unsigned devices_removed;   /* our dm devices no running layer accounts for */
        unsigned devices_resumed;   /* our dm devices a crash left suspended */
        unsigned devices_activated; /* devices of running layers brought back */
        unsigned layers_deleted;    /* layers (thin ids) no catalog row accounts for */
        unsigned rows_repaired;     /* catalog rows that named layers the pool no longer has */
        unsigned loops_detached;    /* loop devices over the pool's files that nothing used */
        unsigned vms_reaped;        /* running VMs whose devices or domain were gone, and
                                       qube volumes (not save_on_stop) whose running layer
                                       was dropped for that */
        unsigned intents_finished;  /* interrupted or deferred stops and destroys carried out */
        unsigned pending;           /* what has to wait: devices still held open */
};

/**
 * dvm_pool_recover() - finish or roll back whatever a crash left in flight in @pool:
 * the catalog is the record; kernel devices and layers it does not account for go, rows
 * naming lost layers are repaired, VMs that cannot be running any more are stopped (an
 * unnamed disposable destroyed, with the wipe), recorded stops and destroys are carried
 * out. Every change of a pool runs this first when the pool needs it. Returns 0 and the
 * counts in @ret_report (may be NULL), or -errno.
 */
DVM_PUBLIC int dvm_pool_recover(dvm_pool *pool, struct dvm_recover_report *ret_report);

/** What dvm_pool_reap_host() did. */
struct dvm_host_reap {
        unsigned locks_broken;      /* exclusive locks of the host's images, broken (owner blocklisted) */
        unsigned images_removed;    /* its images without a snapshot: never committed */
        unsigned uses_dropped;      /* its uses of snapshots of other hosts' images */
        unsigned snapshots_removed; /* released snapshots that no host uses any more */
};

/**
 * dvm_pool_reap_host() - on an rbd pool, take back from the Ceph pool what host @host held,
 * once it is dead and fenced (it must never write again: its locks are broken and its
 * clients blocklisted): the exclusive locks of its images "dvm.<host>.*", those of its
 * images that hold no committed snapshot, and its uses of other hosts' snapshots (each
 * released snapshot that no host uses any more goes). Its committed snapshots stay, with
 * the pointers that other hosts' templates follow. Returns 0 and the counts in @ret (may be
 * NULL), -EOPNOTSUPP on another backend, -EINVAL for this pool's own host or a bad name, or
 * -errno.
 */
DVM_PUBLIC int dvm_pool_reap_host(dvm_pool *pool, const char *host, struct dvm_host_reap *ret);

/**
 * dvm_reap_disk() - the Xen backend @xenbus_path ("backend/vbd/<domid>/<devid>") went away:
 * release that disk in every pool of the state directory as block-dvm's remove would (the
 * VM made for the domain is stopped or destroyed with its last disk). For udev, when the
 * toolstack did not run the hook. Returns the number of disks released, or -errno.
 */
DVM_PUBLIC int dvm_reap_disk(dvm_ctx *ctx, const char *xenbus_path);

/**
 * dvm_reap_domain() - release every disk of domain @domid in every pool (the domain is
 * gone). Returns the number of disks released, or -errno.
 */
DVM_PUBLIC int dvm_reap_domain(dvm_ctx *ctx, uint32_t domid);

/* ---- values ----------------------------------------------------------------------------- */

/**
 * dvm_parse_size() - parse "<n>[K|M|G|T]" (powers of 1024) into bytes. The result must be
 * non-zero and a multiple of 512. Returns 0 or -EINVAL / -ERANGE (overflow).
 */
DVM_PUBLIC int dvm_parse_size(const char *s, uint64_t *ret_bytes);

/** dvm_format_size() - "1.5G"-style text for @bytes in @buf. Returns @buf. */
DVM_PUBLIC char *dvm_format_size(uint64_t bytes, char *buf, size_t len);

/**
 * dvm_name_check() - is @name a valid VM name: 1..64 bytes, a letter first, then letters,
 * digits, '_', '.', '-'. Returns 0 or -EINVAL, with the reason in @ret_why (may be NULL).
 */
DVM_PUBLIC int dvm_name_check(const char *name, const char **ret_why);

/** dvm_pool_name_check() - pool names: 1..32 of [A-Za-z0-9_], a letter first. Returns 0 or -EINVAL. */
DVM_PUBLIC int dvm_pool_name_check(const char *name, const char **ret_why);

/**
 * dvm_volume_dm_name_parse() - split "DVM-<pool>-<vm>-<volume>", the device-mapper name of a
 * volume's device, into its parts (pool names hold no '-', VM names may; the volume is root,
 * private or volatile). Returns 0, or -EINVAL when @dm_name names no volume.
 */
DVM_PUBLIC int dvm_volume_dm_name_parse(const char *dm_name, char ret_pool[DVM_POOL_NAME_MAX + 1],
                                        char ret_vm[DVM_NAME_MAX + 1], char ret_volume[16]);

/** dvm_vm_kind_name() - "template", "dvm-template", "disposable" or "qube". */
DVM_PUBLIC const char *dvm_vm_kind_name(enum dvm_vm_kind kind);

/** dvm_backend_name() - "thin", "snap" or "rbd". */
DVM_PUBLIC const char *dvm_backend_name(enum dvm_backend backend);

#ifdef __cplusplus
}
#endif
#endif
