/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * librados and librbd, loaded when a process first connects to a cluster rather than when it
 * starts: their C++ constructors cost ~80 ms an exec on our 2-core host, which every dvm-vol
 * and block-dvm run would otherwise pay, rbd pool or not. Include this after <rados/librados.h>
 * and <rbd/librbd.h> (only the files of ceph/ do): each function below is then called through
 * the table ceph_lib_load() fills. A librbd or librados function called but missing here is
 * an undefined reference at link time (the library is not linked): add it to CEPH_LIB_FUNCS
 * and give it its #define.
 */
#ifndef DVM_CEPH_LIB_H
#define DVM_CEPH_LIB_H

#include <rados/librados.h>
#include <rbd/librbd.h>

#include "util/ctx.h"

/* X(library, function) for every function the ceph/ files call */
#define CEPH_LIB_FUNCS(X)                                                                       \
        X(rados, rados_conf_get) X(rados, rados_conf_read_file) X(rados, rados_conf_set)        \
        X(rados, rados_connect) X(rados, rados_create) X(rados, rados_ioctx_create)             \
        X(rados, rados_ioctx_destroy) X(rados, rados_ioctx_get_id) X(rados, rados_shutdown)     \
        X(rados, rados_write_full) X(rados, rados_read) X(rados, rados_remove)                  \
        X(rados, rados_setxattr) X(rados, rados_rmxattr) X(rados, rados_getxattrs)              \
        X(rados, rados_getxattr)                                                                \
        X(rados, rados_getxattrs_next) X(rados, rados_getxattrs_end) X(rbd, rbd_get_size)       \
        X(rbd, rbd_list2) X(rbd, rbd_image_spec_list_cleanup)                                   \
        X(rbd, rbd_clone3) X(rbd, rbd_close) X(rbd, rbd_create4) X(rbd, rbd_flush)              \
        X(rbd, rbd_get_id) X(rbd, rbd_image_options_create) X(rbd, rbd_image_options_destroy)   \
        X(rbd, rbd_lock_acquire) X(rbd, rbd_lock_break) X(rbd, rbd_lock_get_owners)             \
        X(rbd, rbd_lock_get_owners_cleanup) X(rbd, rbd_lock_release) X(rbd, rbd_open)           \
        X(rbd, rbd_open_read_only) X(rbd, rbd_remove) X(rbd, rbd_snap_create)                   \
        X(rbd, rbd_snap_exists) X(rbd, rbd_snap_get_id) X(rbd, rbd_snap_is_protected)           \
        X(rbd, rbd_snap_list) X(rbd, rbd_snap_list_end) X(rbd, rbd_snap_protect)                \
        X(rbd, rbd_snap_remove) X(rbd, rbd_snap_unprotect) X(rbd, rbd_write)

#define CEPH_LIB_MEMBER(lib, fn) __typeof__(&fn) fn;
struct ceph_lib {
        CEPH_LIB_FUNCS(CEPH_LIB_MEMBER)
};
#undef CEPH_LIB_MEMBER

/** The functions of librados and librbd, once ceph_lib_load() returned 0. */
extern struct ceph_lib ceph_lib;

/**
 * ceph_lib_load() - load librados.so.2 and librbd.so.1 and look up every function of
 * CEPH_LIB_FUNCS, once a process (later calls return at once). Returns 0, or -ENOPKG when a
 * library or a function is missing (the message names it and the Debian package).
 */
int ceph_lib_load(dvm_ctx *ctx);

/* every call of the ceph/ files goes through the table (but in ceph_lib.c, which fills it) */
#ifndef CEPH_LIB_NO_REDIRECT
#define rados_conf_get ceph_lib.rados_conf_get
#define rados_conf_read_file ceph_lib.rados_conf_read_file
#define rados_conf_set ceph_lib.rados_conf_set
#define rados_connect ceph_lib.rados_connect
#define rados_create ceph_lib.rados_create
#define rados_ioctx_create ceph_lib.rados_ioctx_create
#define rados_ioctx_destroy ceph_lib.rados_ioctx_destroy
#define rados_ioctx_get_id ceph_lib.rados_ioctx_get_id
#define rados_shutdown ceph_lib.rados_shutdown
#define rados_write_full ceph_lib.rados_write_full
#define rados_read ceph_lib.rados_read
#define rados_remove ceph_lib.rados_remove
#define rados_setxattr ceph_lib.rados_setxattr
#define rados_rmxattr ceph_lib.rados_rmxattr
#define rados_getxattrs ceph_lib.rados_getxattrs
#define rados_getxattr ceph_lib.rados_getxattr
#define rados_getxattrs_next ceph_lib.rados_getxattrs_next
#define rados_getxattrs_end ceph_lib.rados_getxattrs_end
#define rbd_get_size ceph_lib.rbd_get_size
#define rbd_list2 ceph_lib.rbd_list2
#define rbd_image_spec_list_cleanup ceph_lib.rbd_image_spec_list_cleanup
#define rbd_clone3 ceph_lib.rbd_clone3
#define rbd_close ceph_lib.rbd_close
#define rbd_create4 ceph_lib.rbd_create4
#define rbd_flush ceph_lib.rbd_flush
#define rbd_get_id ceph_lib.rbd_get_id
#define rbd_image_options_create ceph_lib.rbd_image_options_create
#define rbd_image_options_destroy ceph_lib.rbd_image_options_destroy
#define rbd_lock_acquire ceph_lib.rbd_lock_acquire
#define rbd_lock_break ceph_lib.rbd_lock_break
#define rbd_lock_get_owners ceph_lib.rbd_lock_get_owners
#define rbd_lock_get_owners_cleanup ceph_lib.rbd_lock_get_owners_cleanup
#define rbd_lock_release ceph_lib.rbd_lock_release
#define rbd_open ceph_lib.rbd_open
#define rbd_open_read_only ceph_lib.rbd_open_read_only
#define rbd_remove ceph_lib.rbd_remove
#define rbd_snap_create ceph_lib.rbd_snap_create
#define rbd_snap_exists ceph_lib.rbd_snap_exists
#define rbd_snap_get_id ceph_lib.rbd_snap_get_id
#define rbd_snap_is_protected ceph_lib.rbd_snap_is_protected
#define rbd_snap_list ceph_lib.rbd_snap_list
#define rbd_snap_list_end ceph_lib.rbd_snap_list_end
#define rbd_snap_protect ceph_lib.rbd_snap_protect
#define rbd_snap_remove ceph_lib.rbd_snap_remove
#define rbd_snap_unprotect ceph_lib.rbd_snap_unprotect
#define rbd_write ceph_lib.rbd_write
#endif

#endif
