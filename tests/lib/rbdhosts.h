/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two "hosts" in one test VM for the rbd hosts suites: two state directories, two local rbd
 * pools with host names of their own ("a<pid>", "b<pid>"), one Ceph pool "rbd" of the
 * cluster tests/vm/suites.sh starts ($DVM_CEPH_CONF); and what the rbd and rados CLIs, as
 * client.admin, and sysfs show of them.
 */
#ifndef DVM_TEST_RBDHOSTS_H
#define DVM_TEST_RBDHOSTS_H

#include "vmtest.h"

#define RH_CPOOL "rbd"

extern struct vt rh_a, rh_b;      /* hosts A and B */
extern const char *rh_conf;       /* the cluster's ceph.conf */
extern char rh_host_a[32], rh_host_b[32];

/** rh_init_hosts() - the two pools (skips without root; asserts the cluster is there). */
void rh_init_hosts(void);

/**
 * rh_follow() - rh_init_hosts(), A's TemplateVM "tmpl" and DVM Template "dvm"
 * (vt_make_templates() with @root_size, @private_size), B's TemplateVM "tmpl" following A's
 * and B's DVM Template "dvmb" on it. Returns what A's pointer of tmpl/root names
 * ("image@snap") and, unless @ret_image is NULL, that image; both malloc'd.
 */
char *rh_follow(const char *root_size, const char *private_size, char **ret_image);

/** rh_teardown() - both pools, and what a failed test left of them in the cluster. */
void rh_teardown(void);

/** rh_objects() - the Ceph pool's objects whose name matches extended regex @re, sorted, one per line. */
char *rh_objects(const char *re);

/** rh_images() - the images of host @host, sorted, one per line. */
char *rh_images(const char *host);

/** rh_rbd_count() - how many times `rbd @verb @image --format json` prints key @key. */
int rh_rbd_count(const char *verb, const char *image, const char *key);

/** rh_snap_count() - how many snapshots @image has. */
int rh_snap_count(const char *image);

/** rh_mappings() - how many rbd mappings the kernel has. */
int rh_mappings(void);

/** rh_pointer() - what the pointer object of @host's @vm/@vol names ("image@snap"; asserted there). */
char *rh_pointer(const char *host, const char *vm, const char *vol);

/** rh_uses_of() - the snapshots of @image that host @host records a use of, sorted, one per line. */
char *rh_uses_of(const char *image, const char *host);

#endif
