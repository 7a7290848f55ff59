// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, dvm-inspect with the real fuse module: the tree follows the catalog; `image`
 * and every layer file read what the kernel's own devices hold (witness devices made with
 * dmsetup on the same thin ids); `delta` and `changed` match known writes; SEEK_DATA and
 * SEEK_HOLE walk the owned ranges; libblkid's findings appear in `info`.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "vminspect.h"
#include "vmtest.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
static struct vt vt;
static struct vi vi;

static void setup(void) { vi_fixture(&vi, &vt); }

static void teardown(void)
{
        int st;
        free(vt_sh(&st, "dmsetup remove wit-%s 2>/dev/null", vt.pool));
        vi_fixture_cleanup(&vi, &vt);
}

TestSuite(inspect, .init = setup, .fini = teardown, .timeout = 600);

#define CLI_OK(...) VT_CLI_OK(&vt, __VA_ARGS__)

static void make_templates(void)
{
        vt_make_templates(&vt, "64M", "32M");
}

static char *spawn(void)
{
        return vt_spawn(&vt, "dvm", NULL);
}

/* The names in a directory, sorted, space-separated (malloc'd); NULL with errno. */
static char *list(const char *dir)
{
        struct dirent **ents;
        int n = scandir(dir, &ents, NULL, alphasort);
        char *out = calloc(1, 4096);

        if (n < 0) {
                free(out);
                return NULL;
        }
        for (int i = 0; i < n; i++) {
                if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, ".."))
                        snprintf(out + strlen(out), 4096 - strlen(out), "%s%s", *out ? " " : "", ents[i]->d_name);
                free(ents[i]);
        }
        free(ents);
        return out;
}

/* The catalog's own answer: "<committed> <running> <source>" ids of a volume (-1: none). */
static void catalog_ids(const char *vm, const char *vol, long long ret[3])
{
        int st;
        char *out = vt_sh(&st,
                          "sqlite3 -separator ' ' %s/%s/catalog.db \"SELECT coalesce(thin_id, -1), coalesce(run_id, -1), "
                          "source_id FROM volumes WHERE vm = '%s' AND name = '%s'\"",
                          vt.state, vt.pool, vm, vol);
        cr_assert(st == 0 && sscanf(out, "%lld %lld %lld", &ret[0], &ret[1], &ret[2]) == 3,
                  "catalog row of %s/%s: %s", vm, vol, out);
        free(out);
}

/* Read thin id @id through a read-only device of our own (dmsetup, not the library). */
static uint64_t witness_hash(long long id, uint64_t size)
{
        int st;
        char dev[128];
        free(vt_sh(&st,
                   "set -e; t=$(dmsetup info -c --noheadings -o major,minor DVM-%s | tr -d ' '); "
                   "dmsetup create wit-%s --readonly --table \"0 %llu thin $t %lld\"",
                   vt.pool, vt.pool, (unsigned long long)(size / 512), id));
        cr_assert_eq(st, 0, "witness device on thin id %lld failed", id);
        snprintf(dev, sizeof(dev), "/dev/mapper/wit-%s", vt.pool);
        uint64_t h = vt_hash(dev, 0, size);
        free(vt_sh(&st, "dmsetup remove --retry wit-%s", vt.pool));
        cr_assert_eq(st, 0, "removing the witness device failed");
        return h;
}

static void check_layer(const char *vm, const char *vol, unsigned index, long long id, uint64_t size)
{
        char rel[256];
        snprintf(rel, sizeof(rel), "%s/%s/layers/%u-%lld", vm, vol, index, id);
        uint64_t got = vt_hash(vi_path(&vi, rel), 0, 0), want = witness_hash(id, size);
        cr_assert_eq(got, want, "%s reads %llx, thin id %lld holds %llx", rel, (unsigned long long)got, id,
                     (unsigned long long)want);
}

Test(inspect, tree_follows_the_catalog)
{
        char *s;
        struct stat st;
        struct statvfs sv;

        CLI_OK("template", "create", "tmpl", "--root-size", "64M", "--private-size", "32M");
        vi_mount(&vi, &vt);
        cr_assert_str_eq(s = list(vi.dir), vt.pool, "mount root lists: %s", s);
        free(s);
        cr_assert_str_eq(s = list(vi_path(&vi, "")), "tmpl", "pool lists: %s", s);
        free(s);
        CLI_OK("dvm", "create", "dvm", "--template", "tmpl");
        cr_assert_str_eq(s = list(vi_path(&vi, "")), "dvm tmpl", "a new VM is not listed at once: %s", s);
        free(s);
        cr_assert_str_eq(s = list(vi_path(&vi, "tmpl")), "private root volatile", "tmpl lists: %s", s);
        free(s);
        cr_assert_str_eq(s = list(vi_path(&vi, "tmpl/root")), "changed delta image info layers", "root lists: %s", s);
        free(s);
        /* halted volatile and snapshot volumes have no content */
        cr_assert_str_eq(s = list(vi_path(&vi, "tmpl/volatile")), "info layers", "halted volatile lists: %s", s);
        free(s);
        cr_assert_str_eq(s = list(vi_path(&vi, "dvm/root")), "info layers", "halted snapshot lists: %s", s);
        free(s);
        cr_assert(stat(vi_path(&vi, "dvm/root/image"), &st) < 0 && errno == ENOENT, "image of a halted snapshot");

        cr_assert_eq(stat(vi_path(&vi, "tmpl/root/image"), &st), 0, "stat image: %m");
        cr_assert(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0444, "image mode %o", st.st_mode);
        cr_assert_eq(st.st_size, 64 * MiB, "image size %lld", (long long)st.st_size);
        cr_assert_eq(st.st_blksize, MiB, "image st_blksize %ld (readers size their reads by it)", (long)st.st_blksize);
        cr_assert_eq(stat(vi_path(&vi, "tmpl/root"), &st), 0, "stat volume dir: %m");
        cr_assert(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0555, "volume dir mode %o", st.st_mode);

        cr_assert_eq(statvfs(vi.dir, &sv), 0, "statvfs: %m");
        cr_assert(sv.f_flag & ST_RDONLY, "the mount is not read-only (f_flag %#lx)", sv.f_flag);
        int rc;
        char *line = vt_sh(&rc, "awk '$5 == \"%s\"' /proc/self/mountinfo", vi.dir);
        cr_assert(strstr(line, " ro,") && strstr(line, "fuse.dvm-inspect") && !strstr(line, "allow_other"),
                  "mount line: %s", line);
        free(line);

        CLI_OK("destroy", "--wait", "dvm");
        cr_assert_str_eq(s = list(vi_path(&vi, "")), "tmpl", "a destroyed VM is still listed: %s", s);
        free(s);
        vi_unmount(&vi);

        /* other users only when asked */
        vi_mount_with(&vi, &vt, "--allow-other");
        line = vt_sh(&rc, "awk '$5 == \"%s\"' /proc/self/mountinfo", vi.dir);
        cr_assert(strstr(line, "allow_other") && strstr(line, " ro,"), "--allow-other mount line: %s", line);
        free(line);
        vi_unmount(&vi);
}

Test(inspect, image_and_layers_read_what_the_kernel_holds)
{
        static const char *const vols[] = { "root", "private", "volatile" };
        long long ids[3];
        char rel[256], want[128], *s;

        make_templates();
        char *d = spawn();
        vt_pattern(vt_dev(&vt, d, "root"), 2 * MiB, MiB, 11);
        vt_pattern(vt_dev(&vt, d, "volatile"), 0, MiB, 12);
        vi_mount(&vi, &vt);

        for (size_t i = 0; i < 3; i++) {
                snprintf(rel, sizeof(rel), "%s/%s/image", d, vols[i]);
                uint64_t got = vt_hash(vi_path(&vi, rel), 0, 0), dev = vt_hash(vt_dev(&vt, d, vols[i]), 0, 0);
                cr_assert_eq(got, dev, "%s: %llx, its device: %llx", rel, (unsigned long long)got,
                             (unsigned long long)dev);
                catalog_ids(d, vols[i], ids);
                /* snapshots show the committed layer they were taken from, then their own */
                if (i < 2)
                        snprintf(want, sizeof(want), "0-%lld 1-%lld", ids[2], ids[1]);
                else
                        snprintf(want, sizeof(want), "0-%lld", ids[1]);
                snprintf(rel, sizeof(rel), "%s/%s/layers", d, vols[i]);
                cr_assert_str_eq(s = list(vi_path(&vi, rel)), want, "%s lists \"%s\"", rel, s);
                free(s);
                uint64_t size = i == 2 ? 96 * MiB : i == 0 ? 64 * MiB : 32 * MiB;
                /* the committed layer against a device of our own on its thin id; the running
                 * layer against the volume's device (what the VM sees: a volatile volume's
                 * thin id holds ciphertext under an ephemeral key) */
                if (i < 2)
                        check_layer(d, vols[i], 0, ids[2], size);
                snprintf(rel, sizeof(rel), "%s/%s/layers/%d-%lld", d, vols[i], i < 2 ? 1 : 0, ids[1]);
                got = vt_hash(vi_path(&vi, rel), 0, 0);
                cr_assert_eq(got, dev, "%s: %llx, the volume's device: %llx", rel, (unsigned long long)got,
                             (unsigned long long)dev);
        }
        /* a halted TemplateVM: its committed layer, through a view device */
        catalog_ids("tmpl", "root", ids);
        check_layer("tmpl", "root", 0, ids[0], 64 * MiB);
        cr_assert(vt_has_pattern(vi_path(&vi, "tmpl/root/image"), 0, 8 * MiB, 1), "tmpl root image lacks pattern 1");
        /* a stale layer name is gone, and nothing views a layer once its file is closed */
        snprintf(rel, sizeof(rel), "%s/root/layers/0-%lld", d, ids[0] + 1000);
        cr_assert(open(vi_path(&vi, rel), O_RDONLY) < 0 && errno == ENOENT, "a wrong layer id opens");
        cr_assert_eq(vi_views(&vi), 0, "view devices left after the files closed: %d", vi_views(&vi));
        vi_unmount(&vi);
        free(d);
}

/* A disposable with known writes: root 1 MiB at 2 MiB and 128 KiB at 40 MiB, private
 * 1 MiB at 1 MiB, volatile 1 MiB at 0. */
static char *known_writes(void)
{
        make_templates();
        char *d = spawn();
        vt_pattern(vt_dev(&vt, d, "root"), 2 * MiB, MiB, 21);
        vt_pattern(vt_dev(&vt, d, "root"), 40 * MiB, 128 * KiB, 22);
        vt_pattern(vt_dev(&vt, d, "private"), MiB, MiB, 23);
        vt_pattern(vt_dev(&vt, d, "volatile"), 0, MiB, 24);
        vi_mount(&vi, &vt);
        return d;
}

static bool all_zero(const char *path, uint64_t off, uint64_t len)
{
        char *buf = malloc(MiB);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        bool ok = fd >= 0 && buf;

        for (uint64_t done = 0; ok && done < len;) {
                size_t n = len - done < MiB ? (size_t)(len - done) : MiB;
                ok = pread(fd, buf, n, (off_t)(off + done)) == (ssize_t)n && buf[0] == 0 &&
                     memcmp(buf, buf + 1, n - 1) == 0;
                done += n;
        }
        if (fd >= 0)
                close(fd);
        free(buf);
        return ok;
}

Test(inspect, delta_and_changed_show_known_writes)
{
        static const struct {
                const char *vol, *changed;
        } cases[] = {
                { "root", "2097152 1048576\n41943040 131072\n" },
                { "private", "1048576 1048576\n" },
                { "volatile", "0 1048576\n" },
        };
        char rel[256], *text;
        char *d = known_writes();

        for (size_t i = 0; i < 3; i++) {
                snprintf(rel, sizeof(rel), "%s/%s/changed", d, cases[i].vol);
                text = vi_read(vi_path(&vi, rel), NULL);
                cr_assert(text, "read %s: %m", rel);
                cr_assert_str_eq(text, cases[i].changed, "%s:\n%s", rel, text);
                free(text);
        }
        snprintf(rel, sizeof(rel), "%s/root/delta", d);
        const char *delta = vi_path(&vi, rel);
        cr_assert(vt_has_pattern(delta, 2 * MiB, MiB, 21), "delta lacks the write at 2 MiB");
        cr_assert(vt_has_pattern(delta, 40 * MiB, 128 * KiB, 22), "delta lacks the write at 40 MiB");
        /* the template's data under the disposable is not the disposable's */
        cr_assert(all_zero(delta, 0, 2 * MiB), "delta shows data in [0, 2 MiB) (the template's)");
        cr_assert(all_zero(delta, 3 * MiB, 37 * MiB), "delta shows data in [3, 40) MiB");
        cr_assert(all_zero(delta, 40 * MiB + 128 * KiB, 24 * MiB - 128 * KiB), "delta shows data after 40 MiB");
        snprintf(rel, sizeof(rel), "%s/root/image", d);
        cr_assert(vt_has_pattern(vi_path(&vi, rel), 0, 2 * MiB, 1), "image lacks the template's data");
        /* a committed layer without origin owns all it maps */
        text = vi_read(vi_path(&vi, "tmpl/root/changed"), NULL);
        cr_assert(text, "read tmpl/root/changed: %m");
        cr_assert_str_eq(text, "0 8388608\n", "tmpl/root/changed:\n%s", text);
        free(text);
        vi_unmount(&vi);
        free(d);
}

/* An in-RAM disposable's running layers live in a thin-pool of their own: what they own
 * comes from that pool's metadata, not from the pool of their sources. */
Test(inspect, delta_and_changed_of_an_in_ram_disposable)
{
        char rel[256], *text;

        make_templates();
        char *d = vt_spawn(&vt, "dvm", "--in-ram", "--ram-limit", "128M", NULL);
        vt_pattern(vt_dev(&vt, d, "root"), 2 * MiB, MiB, 31);
        vt_pattern(vt_dev(&vt, d, "volatile"), 0, MiB, 32);
        vi_mount(&vi, &vt);
        snprintf(rel, sizeof(rel), "%s/root/changed", d);
        text = vi_read(vi_path(&vi, rel), NULL);
        cr_assert(text, "read %s: %m", rel);
        cr_assert_str_eq(text, "2097152 1048576\n", "%s:\n%s", rel, text);
        free(text);
        snprintf(rel, sizeof(rel), "%s/volatile/changed", d);
        text = vi_read(vi_path(&vi, rel), NULL);
        cr_assert(text, "read %s: %m", rel);
        cr_assert_str_eq(text, "0 1048576\n", "%s:\n%s", rel, text);
        free(text);
        snprintf(rel, sizeof(rel), "%s/root/delta", d);
        cr_assert(vt_has_pattern(vi_path(&vi, rel), 2 * MiB, MiB, 31), "in-RAM delta lacks the write at 2 MiB");
        cr_assert(all_zero(vi_path(&vi, rel), 0, 2 * MiB), "in-RAM delta shows the template's data");
        vi_unmount(&vi);
        CLI_OK("destroy", "--wait", d);
        free(d);
}

Test(inspect, seek_data_and_hole_walk_the_owned_ranges)
{
        char rel[256];
        off_t got[8][2];
        int n = 0;
        char *d = known_writes();

        snprintf(rel, sizeof(rel), "%s/root/delta", d);
        int fd = open(vi_path(&vi, rel), O_RDONLY | O_CLOEXEC);
        cr_assert(fd >= 0, "open %s: %m", rel);
        for (off_t off = 0; n < 8;) {
                off_t data = lseek(fd, off, SEEK_DATA);
                if (data < 0) {
                        cr_assert_eq(errno, ENXIO, "SEEK_DATA from %lld: %m", (long long)off);
                        break;
                }
                off_t hole = lseek(fd, data, SEEK_HOLE);
                cr_assert(hole > data, "SEEK_HOLE from %lld: %lld (%m)", (long long)data, (long long)hole);
                got[n][0] = data;
                got[n++][1] = hole - data;
                off = hole;
        }
        cr_assert(n == 2 && got[0][0] == (off_t)(2 * MiB) && got[0][1] == (off_t)MiB &&
                          got[1][0] == (off_t)(40 * MiB) && got[1][1] == (off_t)(128 * KiB),
                  "walk found %d runs: [%lld +%lld] [%lld +%lld]", n, (long long)got[0][0], (long long)got[0][1],
                  (long long)got[1][0], (long long)got[1][1]);
        off_t r = lseek(fd, 64 * MiB, SEEK_HOLE);
        cr_assert(r < 0 && errno == ENXIO, "SEEK_HOLE at the end: %lld", (long long)r);
        r = lseek(fd, 0, SEEK_END);
        cr_assert_eq(r, (off_t)(64 * MiB), "SEEK_END: %lld", (long long)r);
        close(fd);
        /* the image is data from end to end */
        snprintf(rel, sizeof(rel), "%s/root/image", d);
        fd = open(vi_path(&vi, rel), O_RDONLY | O_CLOEXEC);
        cr_assert(fd >= 0, "open %s: %m", rel);
        r = lseek(fd, 0, SEEK_HOLE);
        cr_assert_eq(r, (off_t)(64 * MiB), "SEEK_HOLE in image: %lld", (long long)r);
        close(fd);
        vi_unmount(&vi);
        free(d);
}

static json_object *layer0_blkid(const char *rel)
{
        char *text = vi_read(vi_path(&vi, rel), NULL);
        cr_assert(text, "read %s: %m", rel);
        json_object *o = json_tokener_parse(text), *layers, *b;
        cr_assert(o && json_object_object_get_ex(o, "layers", &layers) && json_object_array_length(layers) == 1 &&
                          json_object_object_get_ex(json_object_array_get_idx(layers, 0), "blkid", &b) && b,
                  "%s has no blkid result for one layer:\n%s", rel, text);
        json_object_get(b);
        json_object_put(o);
        free(text);
        return b;
}

static const char *field(json_object *o, const char *key)
{
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : "(null)";
}

/* A DOS partition table with one Linux partition: 8 MiB from sector 2048. */
static void write_mbr(const char *path)
{
        uint8_t mbr[512] = { 0 }, *e = mbr + 446;
        const uint32_t start = 2048, sectors = 16384;
        int fd = open(path, O_WRONLY | O_CLOEXEC);

        cr_assert(fd >= 0, "open %s: %m", path);
        e[4] = 0x83;
        for (int i = 0; i < 4; i++) {
                e[8 + i] = (uint8_t)(start >> (8 * i));
                e[12 + i] = (uint8_t)(sectors >> (8 * i));
        }
        mbr[440] = 0x5a; /* disk identifier: libblkid reports it as PTUUID */
        mbr[510] = 0x55;
        mbr[511] = 0xaa;
        cr_assert_eq(pwrite(fd, mbr, sizeof(mbr), 0), (ssize_t)sizeof(mbr), "write MBR to %s: %m", path);
        close(fd);
}

Test(inspect, info_has_the_ext4_label_of_an_imported_template)
{
        static const char uuid[] = "2f0e7a4c-5b1d-4e0a-9c3e-1a2b3c4d5e6f";
        char root[256], priv[256];
        int st;

        snprintf(root, sizeof(root), "%s.ext4", vt.state);
        snprintf(priv, sizeof(priv), "%s.part", vt.state);
        free(vt_sh(&st, "set -e; rm -f %s %s; truncate -s 64M %s %s; mke2fs -q -F -t ext4 -L dvm-label -U %s %s",
                   root, priv, root, priv, uuid, root));
        cr_assert_eq(st, 0, "making the ext4 image failed");
        write_mbr(priv);
        CLI_OK("template", "import", "ext", "--root", root, "--private", priv);
        vi_mount(&vi, &vt);

        json_object *b = layer0_blkid("ext/root/info");
        cr_assert_str_eq(field(b, "type"), "ext4", "type: %s", json_object_to_json_string(b));
        cr_assert_str_eq(field(b, "label"), "dvm-label", "label: %s", json_object_to_json_string(b));
        cr_assert_str_eq(field(b, "uuid"), uuid, "uuid: %s", json_object_to_json_string(b));
        cr_assert_str_eq(field(b, "usage"), "filesystem", "usage: %s", json_object_to_json_string(b));
        json_object_put(b);
        b = layer0_blkid("ext/private/info");
        cr_assert_str_eq(field(b, "pttype"), "dos", "pttype: %s", json_object_to_json_string(b));
        cr_assert_str_eq(field(b, "partitions"), "1", "partitions: %s", json_object_to_json_string(b));
        json_object_put(b);
        cr_assert_eq(vi_views(&vi), 0, "probing left %d view devices", vi_views(&vi));
        vi_unmount(&vi);
        unlink(root);
        unlink(priv);
}
