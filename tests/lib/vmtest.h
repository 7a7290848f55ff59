/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers for the vm tier (real device-mapper): a fresh pool per test in its own state
 * directory, running dvm-vol, hashing and patterning devices, and an independent view of
 * kernel state (dmsetup, thin_dump) to compare before and after.
 */
#ifndef DVM_TEST_VMTEST_H
#define DVM_TEST_VMTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vt {
        char state[128];   /* state directory */
        char pool[32];     /* pool name */
        char dvm_vol[512]; /* the dvm-vol binary of this build */
        char backend[8];   /* "thin" or "snap" once the pool is initialised */
};

struct vt_run {
        int status;        /* exit code, or 128+signal */
        char *out;         /* stdout */
        char *err;         /* stderr */
};

/* A pool backend, as a Criterion parameter: copied by value into the worker, no pointers. */
struct vt_backend {
        char name[8];
};

/** vt_backends - "thin" and "snap", the parameters of a test run once per backend. */
extern const struct vt_backend vt_backends[2];

/** VT_BACKEND_PARAMETERS() - run Criterion test @suite/@test once per entry of vt_backends. */
#define VT_BACKEND_PARAMETERS(suite, test)                                                            \
        ParameterizedTestParameters(suite, test)                                                      \
        {                                                                                             \
                return cr_make_param_array(struct vt_backend, (void *)vt_backends, 2);                 \
        }

/**
 * VT_CLI_OK() - run dvm-vol on @vt with the words after it and assert exit 0; the message
 * names the backend (once set), the words, the exit code and stderr.
 */
#define VT_CLI_OK(vt, ...)                                                                            \
        do {                                                                                          \
                struct vt_run _r = vt_cli((vt), __VA_ARGS__, NULL);                                   \
                cr_assert_eq(_r.status, 0, "%s%sdvm-vol " #__VA_ARGS__ ": exit %d: %s", (vt)->backend, \
                             (vt)->backend[0] ? ": " : "", _r.status, _r.err);                         \
                vt_run_free(&_r);                                                                     \
        } while (0)

/** vt_require_dm() - skip loudly (cr_skip_test) unless root and device-mapper are here. */
void vt_require_dm(void);

/** vt_init() - a unique state dir and pool name; with @data_size non-NULL, `pool init` it. */
void vt_init(struct vt *vt, const char *data_size);

/**
 * vt_init_backend() - vt_init() and `pool init` with @backend ("thin": a 2 GiB data file;
 * "snap": default chunk) plus the NULL-terminated extra words.
 */
void vt_init_backend(struct vt *vt, const char *backend, ...) __attribute__((sentinel));

/** vt_cleanup() - remove the pool's devices, the loops on its files, its state directory. */
void vt_cleanup(struct vt *vt);

/** vt_cli() - run dvm-vol with --state-dir and --pool and the NULL-terminated words. */
struct vt_run vt_cli(struct vt *vt, ...) __attribute__((sentinel));

/** vt_cliv() - vt_cli() with the words in a NULL-terminated array. */
struct vt_run vt_cliv(struct vt *vt, const char *const words[]);

/**
 * vt_make_templates() - TemplateVM "tmpl" (@root_size, @private_size) whose root holds
 * pattern 1 in its first 8 MiB, and DVM Template "dvm" whose private holds pattern 2 in its
 * first 4 MiB (each written through a start and a stop).
 */
void vt_make_templates(struct vt *vt, const char *root_size, const char *private_size);

/**
 * vt_spawn() - `spawn @dvm` with the NULL-terminated extra words; asserts exit 0 and the
 * output (the name, then the root, private and volatile device paths, a line each).
 * Returns the disposable's name, malloc'd.
 */
char *vt_spawn(struct vt *vt, const char *dvm, ...) __attribute__((sentinel));

/** vt_run_free() - free a run's output. */
void vt_run_free(struct vt_run *r);

/** vt_sh() - run a shell command line; returns its stdout (malloc'd), status in @ret_status. */
char *vt_sh(int *ret_status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * vt_exec() - run the NULL-terminated words, looked up in $PATH, without a shell; returns
 * its stdout (malloc'd), the exit status in @ret_status.
 */
char *vt_exec(int *ret_status, const char *prog, ...) __attribute__((sentinel));

/** vt_hash() - a 64-bit hash of @len bytes of @path from @off (0 len: to the end). */
uint64_t vt_hash(const char *path, uint64_t off, uint64_t len);

/** vt_fill_fn - fills @n bytes of @buf with what belongs at byte @off of a device. */
typedef void vt_fill_fn(void *buf, size_t n, uint64_t off, const void *arg);

/** vt_write_fill() - write @len bytes at @off of @path as @fill makes them (O_DIRECT, fsync). */
void vt_write_fill(const char *path, uint64_t off, uint64_t len, vt_fill_fn *fill, const void *arg);

/** vt_reads_fill() - whether @len bytes at @off of @path are what @fill makes. */
bool vt_reads_fill(const char *path, uint64_t off, uint64_t len, vt_fill_fn *fill, const void *arg);

/** vt_pattern() - write @len bytes derived from @seed at @off of @path (O_DIRECT, fsync). */
void vt_pattern(const char *path, uint64_t off, uint64_t len, uint32_t seed);

/** vt_has_pattern() - whether @path holds the pattern of @seed at @off for @len bytes. */
bool vt_has_pattern(const char *path, uint64_t off, uint64_t len, uint32_t seed);

/** vt_dev() - /dev/mapper path of @vm/@vol in this pool, in a static buffer per call slot. */
const char *vt_dev(struct vt *vt, const char *vm, const char *vol);

/**
 * vt_pool_txn() - the transaction id of @vt's thin pool (dmsetup status): it moves with every
 * change of the pool's kernel state that commits its metadata.
 */
unsigned long long vt_pool_txn(struct vt *vt);

/**
 * vt_kernel_state() - our pool's dm devices (name, table) and the thin ids in the pool
 * metadata (thin_dump of a metadata snapshot), as text. malloc'd.
 */
char *vt_kernel_state(struct vt *vt);

/** vt_thin_ids() - the thin ids in the pool metadata, as " id id ... " text. malloc'd. */
char *vt_thin_ids(struct vt *vt);

/** vt_count_lines() - the number of lines (newlines) in @s. */
int vt_count_lines(const char *s);

/**
 * vt_layers() - the layers the pool holds, as the kernel or the file system sees them:
 * thin, the thin ids in the pool metadata; snap, the ids of the image and COW files in
 * the pool directory. " id id ... " text, sorted. malloc'd.
 */
char *vt_layers(struct vt *vt);

/** vt_data_used() - bytes of pool data in use: thin-pool status; snap, what the images allocate. */
uint64_t vt_data_used(struct vt *vt);

/**
 * vt_reboot() - what a reboot leaves: every dm device of the pool removed (the pool's own
 * too), and asserts that no loop device is left on the pool's files.
 */
void vt_reboot(struct vt *vt);

/** vt_loops() - the loop devices over files in this test's state directory, one per line. malloc'd. */
char *vt_loops(struct vt *vt);

/** vt_catalog_dump() - the catalog's SQL dump (sqlite3 .dump). malloc'd. */
char *vt_catalog_dump(struct vt *vt);

/**
 * vt_sql() - the answer of sqlite3 to @fmt (a query, printf-style) over the catalog, which
 * must succeed; without its last newline. malloc'd.
 */
char *vt_sql(struct vt *vt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * vt_state() - what a refused or read-only step must leave as it was: vt_kernel_state() and
 * vt_catalog_dump(), as one text. malloc'd.
 */
char *vt_state(struct vt *vt);

/** vt_now() - monotonic seconds. */
double vt_now(void);

#endif
