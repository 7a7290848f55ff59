// SPDX-License-Identifier: GPL-2.0-or-later
/* Two "hosts" over one Ceph cluster, for the rbd hosts suites (rbdhosts.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rbdhosts.h"

struct vt rh_a, rh_b;
const char *rh_conf;
char rh_host_a[32], rh_host_b[32];

static void need_cluster(void)
{
        rh_conf = getenv("DVM_CEPH_CONF");
        if (geteuid() != 0)
                cr_skip_test("SKIP: the rbd hosts suites need root");
        cr_assert(rh_conf && *rh_conf, "DVM_CEPH_CONF is not set: run this suite through tests/vm/suites.sh, which "
                  "starts the Ceph cluster (tests/lib/ceph-cluster.sh) around it");
        snprintf(rh_host_a, sizeof(rh_host_a), "a%d", getpid());
        snprintf(rh_host_b, sizeof(rh_host_b), "b%d", getpid());
}

void rh_init_hosts(void)
{
        need_cluster();
        vt_init_backend(&rh_a, "rbd", "--data-size", "512M", "--rbd-conf", rh_conf, "--rbd-client", "dvm", "--rbd-pool",
                        RH_CPOOL, "--host", rh_host_a, NULL);
        vt_init_backend(&rh_b, "rbd", "--data-size", "512M", "--rbd-conf", rh_conf, "--rbd-client", "dvm", "--rbd-pool",
                        RH_CPOOL, "--host", rh_host_b, NULL);
}

char *rh_follow(const char *root_size, const char *private_size, char **ret_image)
{
        char *p0;

        rh_init_hosts();
        vt_make_templates(&rh_a, root_size, private_size);
        p0 = rh_pointer(rh_host_a, "tmpl", "root");
        if (ret_image)
                *ret_image = strndup(p0, strcspn(p0, "@"));
        VT_CLI_OK(&rh_b, "template", "import", "tmpl", "--from-host", rh_host_a);
        VT_CLI_OK(&rh_b, "dvm", "create", "dvmb", "--template", "tmpl");
        return p0;
}

/* the objects of the Ceph pool whose name matches extended regex @re, one per line */
char *rh_objects(const char *re)
{
        int st;
        char *out = vt_sh(&st, "rados -c %s --id admin -p " RH_CPOOL " ls | grep -E '%s' | sort || true", rh_conf, re);
        cr_assert_eq(st, 0, "rados ls: %s", out);
        return out;
}

/* the images of host @host, one per line */
char *rh_images(const char *host)
{
        int st;
        char *out = vt_sh(&st, "rbd -c %s --id admin -p " RH_CPOOL " ls | grep '^dvm\\.%s\\.' | sort || true", rh_conf,
                          host);
        cr_assert_eq(st, 0, "rbd ls: %s", out);
        return out;
}

int rh_rbd_count(const char *verb, const char *image, const char *key)
{
        int st;
        char *out = vt_sh(&st, "rbd -c %s --id admin -p " RH_CPOOL " %s %s --format json | grep -o '\"%s\"' | wc -l",
                          rh_conf, verb, image, key);
        int n = atoi(out);
        free(out);
        return n;
}

int rh_snap_count(const char *image)
{
        return rh_rbd_count("snap ls", image, "name");
}

int rh_mappings(void)
{
        int st;
        char *out = vt_sh(&st, "ls /sys/bus/rbd/devices | wc -l");
        int n = atoi(out);
        free(out);
        return n;
}

char *rh_pointer(const char *host, const char *vm, const char *vol)
{
        int st;
        char *out = vt_sh(&st, "rados -c %s --id admin -p " RH_CPOOL " get 'dvm.tmpl.%s.%s.%s' - 2>&1", rh_conf, host,
                          vm, vol);
        cr_assert_eq(st, 0, "no pointer object of %s/%s/%s: %s", host, vm, vol, out);
        return out;
}

void rh_teardown(void)
{
        int st;

        vt_cleanup(&rh_b);
        vt_cleanup(&rh_a);
        if (!rh_conf || !rh_host_a[0])
                return;
        /* what a failed test left: mappings, images, the pointer and users objects */
        for (int i = 0; i < 2; i++) {
                const char *h = i ? rh_host_b : rh_host_a;
                free(vt_sh(&st, "for d in /sys/bus/rbd/devices/*; do [ -e \"$d/name\" ] && "
                           "grep -q '^dvm\\.%s\\.' \"$d/name\" && echo ${d##*/} > /sys/bus/rbd/remove_single_major; "
                           "done 2>/dev/null; R='rbd -c %s --id admin -p " RH_CPOOL "'; "
                           "for i in $($R ls | grep '^dvm\\.%s\\.'); do for s in $($R snap ls $i | awk 'NR>1{print $2}'); "
                           "do $R snap unprotect $i@$s 2>/dev/null; done; $R snap purge $i >/dev/null 2>&1; "
                           "$R rm $i >/dev/null 2>&1; done; "
                           "for o in $(rados -c %s --id admin -p " RH_CPOOL " ls | grep -E '^dvm\\.(tmpl\\.%s\\.|users\\.dvm\\.%s\\.)'); "
                           "do rados -c %s --id admin -p " RH_CPOOL " rm \"$o\"; done",
                           h, rh_conf, h, rh_conf, h, h, rh_conf));
        }
}

/* the snapshots of @image that host @host records a use of, sorted, one per line */
char *rh_uses_of(const char *image, const char *host)
{
        int st;
        char *out = vt_sh(&st, "rados -c %s --id admin -p " RH_CPOOL " listxattr dvm.users.%s 2>/dev/null | "
                          "sed -n 's/\\.%s$//p' | sort", rh_conf, image, host);
        return out;
}

