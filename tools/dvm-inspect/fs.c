// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The FUSE side of dvm-inspect (the only file that includes <fuse.h>): the operations
 * table, every write path answered with EROFS, and mount, loop and unmount.
 */
#define FUSE_USE_VERSION 314 /* Debian 12: libfuse 3.14 */
#include <fuse.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "inspect.h"

/* Reads are served from 4 KiB-aligned buffers: dvm_layer_read() reads straight into them. */
#define BUF_ALIGN 4096
/* Readahead of the mount, for files the page cache may keep (committed layers): several
 * 1 MiB requests in flight at once instead of the kernel's 128 KiB, one round trip each. */
#define READAHEAD_KB 4096

static struct inspect *current(void)
{
        return fuse_get_context()->private_data;
}

static struct handle *handle_of(const struct fuse_file_info *fi)
{
        return (struct handle *)(uintptr_t)fi->fh;
}

/* The kernel lowers the readahead again when it gets the INIT reply: raise it on the
 * first request after. */
static void set_readahead(void)
{
        readahead_raise(current()->opt->mountpoint, READAHEAD_KB);
}

static void after_init(void)
{
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, set_readahead);
}

static void *op_init(struct fuse_conn_info *conn _unused_, struct fuse_config *cfg)
{
        /* The tree follows the catalog: nothing the kernel could cache stays true for long. */
        cfg->entry_timeout = 0;
        cfg->negative_timeout = 0;
        cfg->attr_timeout = 0;
        cfg->use_ino = 0;
        /* reads of open files need no path: libfuse need not build one per request */
        cfg->nullpath_ok = 1;
        return current();
}

static void op_destroy(void *data)
{
        struct inspect *in = data;

        handle_close_all(in);
        pthread_mutex_lock(&in->lock);
        tree_close(in);
        pthread_mutex_unlock(&in->lock);
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
        struct inspect *in = current();
        struct node node;
        int r;

        after_init();
        /* fstat of an open file (the kernel sends a handle for regular files only): its
         * real size, generated text included */
        if (fi && fi->fh) {
                tree_fill(in, st, false, handle_size(handle_of(fi)));
                return 0;
        }
        r = path_parse(path, &node);
        return r < 0 ? r : tree_stat(in, &node, st);
}

/* The directory's node, parsed once at opendir: readdir gets no path (nullpath_ok). */
static int op_opendir(const char *path, struct fuse_file_info *fi)
{
        struct node *node = malloc(sizeof(*node));
        struct stat st;
        int r;

        if (!node)
                return -ENOMEM;
        r = path_parse(path, node);
        if (r >= 0 && path_is_file(node->kind))
                r = -ENOTDIR;
        if (r >= 0)
                r = tree_stat(current(), node, &st);
        if (r < 0) {
                free(node);
                return r;
        }
        fi->fh = (uintptr_t)node;
        return 0;
}

static int op_releasedir(const char *path _unused_, struct fuse_file_info *fi)
{
        free((struct node *)(uintptr_t)fi->fh);
        return 0;
}

static int op_readdir(const char *path _unused_, void *buf, fuse_fill_dir_t filler, off_t off _unused_,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags _unused_)
{
        char **names = NULL;
        /* asked afresh: what was there at opendir may be gone */
        int r = tree_list(current(), (const struct node *)(uintptr_t)fi->fh, &names);

        if (r < 0)
                return r;
        filler(buf, ".", NULL, 0, 0);
        filler(buf, "..", NULL, 0, 0);
        for (char **n = names; *n; n++)
                if (filler(buf, *n, NULL, 0, 0))
                        break;
        dvm_strv_free(names);
        return 0;
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
        struct handle *h;
        struct node node;
        int r;

        if ((fi->flags & O_ACCMODE) != O_RDONLY || fi->flags & (O_TRUNC | O_CREAT))
                return -EROFS;
        r = path_parse(path, &node);
        if (r < 0)
                return r;
        if (!path_is_file(node.kind))
                return -EISDIR;
        r = handle_open(current(), &node, &h);
        if (r < 0)
                return r;
        fi->fh = (uintptr_t)h;
        /* What a running VM writes changes under us: no page cache of ours there, every
         * read reaches the device, in requests as large as the reader's (up to max_pages);
         * generated text needs no size known in advance either. A committed layer never
         * changes: the page cache and its readahead (see READAHEAD_KB) may keep it, until
         * the next open drops it (no keep_cache). */
        fi->direct_io = !handle_immutable(h);
        fi->keep_cache = 0;
        return 0;
}

static int op_read_buf(const char *path _unused_, struct fuse_bufvec **bufp, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
        struct fuse_bufvec *bv;
        void *mem = NULL;
        ssize_t n;

        if (off < 0)
                return -EINVAL;
        if (posix_memalign(&mem, BUF_ALIGN, size ? size : 1) != 0)
                return -ENOMEM;
        n = handle_read(handle_of(fi), mem, size, (uint64_t)off);
        bv = n >= 0 ? malloc(sizeof(*bv)) : NULL;
        if (!bv) {
                free(mem);
                return n < 0 ? (int)n : -ENOMEM;
        }
        /* libfuse sends it and frees both with free() */
        *bv = (struct fuse_bufvec)FUSE_BUFVEC_INIT((size_t)n);
        bv->buf[0].mem = mem;
        *bufp = bv;
        return 0;
}

static off_t op_lseek(const char *path _unused_, off_t off, int whence, struct fuse_file_info *fi)
{
        if (off < 0)
                return -ENXIO;
        return (off_t)handle_seek(handle_of(fi), (uint64_t)off, whence);
}

static int op_release(const char *path _unused_, struct fuse_file_info *fi)
{
        handle_close(current(), handle_of(fi));
        return 0;
}

static int op_statfs(const char *path _unused_, struct statvfs *st)
{
        *st = (struct statvfs){ .f_bsize = BUF_ALIGN, .f_frsize = BUF_ALIGN, .f_namemax = 255 };
        return 0;
}

/* Every way to change the tree. The mount is read-only, so the kernel refuses these
 * itself; should it ever be remounted read-write, we still do. */
static int erofs_path(const char *path _unused_)
{
        return -EROFS;
}
static int erofs_mode(const char *path _unused_, mode_t mode _unused_)
{
        return -EROFS;
}
static int erofs_mknod(const char *path _unused_, mode_t mode _unused_, dev_t dev _unused_)
{
        return -EROFS;
}
static int erofs_two(const char *from _unused_, const char *to _unused_)
{
        return -EROFS;
}
static int erofs_rename(const char *from _unused_, const char *to _unused_, unsigned flags _unused_)
{
        return -EROFS;
}
static int erofs_chmod(const char *path _unused_, mode_t mode _unused_, struct fuse_file_info *fi _unused_)
{
        return -EROFS;
}
static int erofs_chown(const char *path _unused_, uid_t uid _unused_, gid_t gid _unused_,
                       struct fuse_file_info *fi _unused_)
{
        return -EROFS;
}
static int erofs_truncate(const char *path _unused_, off_t size _unused_, struct fuse_file_info *fi _unused_)
{
        return -EROFS;
}
static int erofs_write(const char *path _unused_, const char *buf _unused_, size_t size _unused_,
                       off_t off _unused_, struct fuse_file_info *fi _unused_)
{
        return -EROFS;
}
static int erofs_create(const char *path _unused_, mode_t mode _unused_, struct fuse_file_info *fi _unused_)
{
        return -EROFS;
}
static int erofs_setxattr(const char *path _unused_, const char *name _unused_, const char *value _unused_,
                          size_t size _unused_, int flags _unused_)
{
        return -EROFS;
}
static int erofs_removexattr(const char *path _unused_, const char *name _unused_)
{
        return -EROFS;
}
static int erofs_utimens(const char *path _unused_, const struct timespec tv[2] _unused_,
                         struct fuse_file_info *fi _unused_)
{
        return -EROFS;
}
static int erofs_fallocate(const char *path _unused_, int mode _unused_, off_t off _unused_,
                           off_t len _unused_, struct fuse_file_info *fi _unused_)
{
        return -EROFS;
}

static const struct fuse_operations ops = {
        .init = op_init,
        .destroy = op_destroy,
        .getattr = op_getattr,
        .opendir = op_opendir,
        .readdir = op_readdir,
        .releasedir = op_releasedir,
        .open = op_open,
        .read_buf = op_read_buf,
        .lseek = op_lseek,
        .release = op_release,
        .statfs = op_statfs,
        .mknod = erofs_mknod,
        .mkdir = erofs_mode,
        .unlink = erofs_path,
        .rmdir = erofs_path,
        .symlink = erofs_two,
        .rename = erofs_rename,
        .link = erofs_two,
        .chmod = erofs_chmod,
        .chown = erofs_chown,
        .truncate = erofs_truncate,
        .write = erofs_write,
        .create = erofs_create,
        .setxattr = erofs_setxattr,
        .removexattr = erofs_removexattr,
        .utimens = erofs_utimens,
        .fallocate = erofs_fallocate,
};

static int add_args(struct fuse_args *args, const struct options *opt)
{
        char mount_opts[256];

        /* noexec: images are data; default_permissions: the kernel checks our modes */
        snprintf(mount_opts, sizeof(mount_opts),
                 "ro,noexec,nosuid,nodev,default_permissions,fsname=dvm-inspect,subtype=dvm-inspect%s",
                 opt->allow_other ? ",allow_other" : "");
        if (fuse_opt_add_arg(args, "dvm-inspect") < 0 || fuse_opt_add_arg(args, "-o") < 0 ||
            fuse_opt_add_arg(args, mount_opts) < 0 || (opt->debug && fuse_opt_add_arg(args, "-d") < 0))
                return -ENOMEM;
        return 0;
}

static int serve(struct fuse *fuse, const struct options *opt)
{
        struct fuse_loop_config *cfg = fuse_loop_cfg_create();
        int r;

        if (!cfg)
                return -ENOMEM;
        /* Each read is answered from a fresh buffer of up to 1 MiB that libfuse frees: keep
         * such buffers in the heap for reuse, rather than mapped and unmapped per request,
         * which costs a page fault per 4 KiB of every reply. */
        mallopt(M_MMAP_THRESHOLD, 8 << 20);
        mallopt(M_TRIM_THRESHOLD, 64 << 20);
        fuse_loop_cfg_set_max_threads(cfg, 8);
        fuse_loop_cfg_set_clone_fd(cfg, 1);
        if (fuse_daemonize(opt->foreground) < 0 || fuse_set_signal_handlers(fuse_get_session(fuse)) < 0) {
                fuse_loop_cfg_destroy(cfg);
                return -EIO;
        }
        r = fuse_loop_mt(fuse, cfg);
        fuse_remove_signal_handlers(fuse_get_session(fuse));
        fuse_loop_cfg_destroy(cfg);
        /* a positive value is the signal that ended the loop: a clean unmount follows */
        return r < 0 ? r : 0;
}

int fs_run(struct inspect *in)
{
        struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
        struct fuse *fuse = NULL;
        int r = add_args(&args, in->opt);

        if (r >= 0) {
                fuse = fuse_new(&args, &ops, sizeof(ops), in);
                r = fuse ? 0 : -EINVAL;
        }
        if (r >= 0 && fuse_mount(fuse, in->opt->mountpoint) != 0) {
                fprintf(stderr, "dvm-inspect: cannot mount on %s (is the fuse module loaded, /dev/fuse there?)\n",
                        in->opt->mountpoint);
                fuse_destroy(fuse);
                fuse_opt_free_args(&args);
                return EXIT_FAIL;
        }
        if (r >= 0) {
                r = serve(fuse, in->opt);
                fuse_unmount(fuse);
        }
        if (fuse)
                fuse_destroy(fuse);
        fuse_opt_free_args(&args);
        if (r < 0)
                syslog(LOG_ERR, "serving %s failed: %s", in->opt->mountpoint, strerror(-r));
        return r < 0 ? EXIT_FAIL : EXIT_OK;
}
