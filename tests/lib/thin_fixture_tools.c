/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Thin metadata fixtures, the tools half: model -> XML -> thin_restore; thin_dump and
 * thin_delta output -> model (a minimal line parser of the tools' own XML); temporary
 * directories; raw block edits that keep checksums valid.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/thin_meta.h"
#include "thin_fixture.h"
#include "tmpdir.h"

#define DIR_PREFIX "dvm-thin-meta-"

const char *tfx_tools_missing(void)
{
        static const char *const tools[] = { "thin_restore", "thin_dump", "thin_delta" };

        for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
                char cmd[128];
                snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tools[i]);
                if (system(cmd) != 0)
                        return tools[i];
        }
        return NULL;
}

void tfx_dir_remove(const char *dir)
{
        tmpdir_remove(dir);
}

int tfx_dir_new(char *ret_dir, size_t size)
{
        return tmpdir_new(DIR_PREFIX, ret_dir, size);
}

/* Run @cmd; its output (stdout and stderr) in a malloc'ed string. Returns the exit status. */
static int run(const char *cmd, char **ret_out)
{
        char full[1024], *out = NULL;
        size_t size = 0;
        FILE *f, *mem = open_memstream(&out, &size);
        int c, status;

        snprintf(full, sizeof(full), "%s 2>&1", cmd);
        f = popen(full, "r");
        if (!f || !mem)
                abort();
        while ((c = fgetc(f)) != EOF)
                fputc(c, mem);
        status = pclose(f);
        fclose(mem);
        *ret_out = out;
        return status;
}

static void set_err(char *err, size_t size, const char *cmd, const char *out)
{
        snprintf(err, size, "`%s` failed: %.300s", cmd, out ? out : "");
}

int tfx_restore(const struct tfx_pool *p, const char *dir, const char *name, uint64_t size,
                char *ret_path, size_t path_size, char *err, size_t err_size)
{
        char xml[512], cmd[1200];
        _cleanup_free_ char *out = NULL;
        FILE *f;
        int fd;

        snprintf(xml, sizeof(xml), "%s/%s.xml", dir, name);
        snprintf(ret_path, path_size, "%s/%s", dir, name);
        f = fopen(xml, "we");
        if (!f)
                return set_err(err, err_size, "fopen", strerror(errno)), -1;
        fprintf(f, "<superblock uuid=\"\" time=\"%" PRIu32 "\" transaction=\"%" PRIu64 "\" "
                "flags=\"0\" version=\"2\" data_block_size=\"%" PRIu32 "\" nr_data_blocks=\"%"
                PRIu64 "\">\n", p->time, p->transaction, p->data_block_size, p->nr_data_blocks);
        for (size_t i = 0; i < p->n; i++) {
                const struct tfx_device *d = &p->devs[i];
                fprintf(f, "  <device dev_id=\"%" PRIu64 "\" mapped_blocks=\"%" PRIu64 "\" "
                        "transaction=\"%" PRIu64 "\" creation_time=\"%" PRIu32 "\" snap_time=\"%"
                        PRIu32 "\">\n", d->id,
                        d->mapped_attr ? d->mapped_attr : d->mapped_blocks, d->transaction,
                        d->creation_time, d->snap_time);
                for (size_t j = 0; j < d->n; j++) {
                        const struct tfx_range *r = &d->ranges[j];
                        fprintf(f, "    <range_mapping origin_begin=\"%" PRIu64 "\" data_begin=\""
                                "%" PRIu64 "\" length=\"%" PRIu64 "\" time=\"%" PRIu32 "\"/>\n",
                                r->vblock, r->data_block, r->length, r->time);
                }
                fprintf(f, "  </device>\n");
        }
        fprintf(f, "</superblock>\n");
        if (fclose(f) != 0)
                return set_err(err, err_size, "fclose", strerror(errno)), -1;
        fd = open(ret_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
                return set_err(err, err_size, "create", strerror(errno)), -1;
        close(fd);
        snprintf(cmd, sizeof(cmd), "thin_restore -i %s -o %s", xml, ret_path);
        if (run(cmd, &out) != 0)
                return set_err(err, err_size, cmd, out), -1;
        return 0;
}

static void shared_path(char *ret_dir, size_t size, pid_t runner)
{
        snprintf(ret_dir, size, "/tmp/" DIR_PREFIX "%d-shared", (int)runner);
}

int tfx_dir_shared(char *ret_dir, size_t size)
{
        struct stat st;

        tmpdir_sweep(DIR_PREFIX);
        shared_path(ret_dir, size, getppid());
        if (mkdir(ret_dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        if (lstat(ret_dir, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) || st.st_uid != getuid())
                return -EPERM;
        return 0;
}

void tfx_dir_shared_remove(void)
{
        char dir[128];

        shared_path(dir, sizeof(dir), getpid());
        tfx_dir_remove(dir);
}

int tfx_restore_once(const struct tfx_pool *p, const char *dir, const char *name,
                     uint64_t size, char *ret_path, size_t path_size, char *err,
                     size_t err_size)
{
        char lock[512], done[512];
        int fd, r = 0;

        snprintf(lock, sizeof(lock), "%s/%s.lock", dir, name);
        snprintf(done, sizeof(done), "%s/%s.done", dir, name);
        fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 || flock(fd, LOCK_EX) < 0)
                return set_err(err, err_size, "lock", strerror(errno)), -1;
        snprintf(ret_path, path_size, "%s/%s", dir, name);
        if (access(done, F_OK) != 0) {
                r = tfx_restore(p, dir, name, size, ret_path, path_size, err, err_size);
                if (r == 0 && mknod(done, S_IFREG | 0600, 0) < 0)
                        r = -1, set_err(err, err_size, "mknod", strerror(errno));
        }
        close(fd);
        return r;
}

/* The value of attribute @name in @line (matched after a space: "data_begin" never
 * matches "left_data_begin"). */
static bool attr(const char *line, const char *name, uint64_t *ret)
{
        char pat[64];
        const char *p;

        snprintf(pat, sizeof(pat), " %s=\"", name);
        p = strstr(line, pat);
        if (!p)
                return false;
        *ret = strtoull(p + strlen(pat), NULL, 10);
        return true;
}

static int parse_dump(char *out, struct tfx_pool *p)
{
        struct tfx_device *d = NULL;
        uint64_t a, b, c, t, e;

        for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
                if (strstr(line, "<superblock ")) {
                        if (!attr(line, "transaction", &p->transaction) ||
                            !attr(line, "time", &t) ||
                            !attr(line, "data_block_size", &a))
                                return -1;
                        p->time = (uint32_t)t;
                        p->data_block_size = (uint32_t)a;
                        if (!attr(line, "nr_data_blocks", &p->nr_data_blocks))
                                p->nr_data_blocks = 0;
                } else if (strstr(line, "<device ")) {
                        if (!attr(line, "dev_id", &a) || !attr(line, "transaction", &b) ||
                            !attr(line, "creation_time", &c) || !attr(line, "snap_time", &t) ||
                            !attr(line, "mapped_blocks", &e))
                                return -1;
                        d = tfx_pool_add(p, a, b, (uint32_t)c, (uint32_t)t);
                        if (!d)
                                return -1;
                        d->mapped_attr = e;
                } else if (d && strstr(line, "<range_mapping ")) {
                        if (!attr(line, "origin_begin", &a) || !attr(line, "data_begin", &b) ||
                            !attr(line, "length", &c) || !attr(line, "time", &t) ||
                            tfx_map(d, a, b, c, (uint32_t)t) < 0)
                                return -1;
                } else if (d && strstr(line, "<single_mapping ")) {
                        if (!attr(line, "origin_block", &a) || !attr(line, "data_block", &b) ||
                            !attr(line, "time", &t) || tfx_map(d, a, b, 1, (uint32_t)t) < 0)
                                return -1;
                }
        }
        return 0;
}

int tfx_dump(const char *meta, const char *args, struct tfx_pool *ret, char *err,
             size_t err_size)
{
        char cmd[600];
        _cleanup_free_ char *out = NULL;

        snprintf(cmd, sizeof(cmd), "thin_dump %s %s", args, meta);
        if (run(cmd, &out) != 0)
                return set_err(err, err_size, cmd, out), -1;
        if (parse_dump(out, ret) < 0)
                return set_err(err, err_size, cmd, "unparsable output"), -1;
        return 0;
}

int tfx_delta(const char *meta, const char *args, uint64_t left, uint64_t right,
              struct tfx_device *ret, char *err, size_t err_size)
{
        char cmd[600];
        _cleanup_free_ char *out = NULL;
        const char *section = "";
        uint64_t v, d, len;

        snprintf(cmd, sizeof(cmd), "thin_delta --verbose %s --snap1 %" PRIu64 " --snap2 %"
                 PRIu64 " %s", args, left, right, meta);
        if (run(cmd, &out) != 0)
                return set_err(err, err_size, cmd, out), -1;
        *ret = (struct tfx_device){ .id = right };
        for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
                static const char *const sections[] = { "<left_only>", "<right_only>",
                                                        "<different>", "<same>" };
                for (size_t i = 0; i < 4; i++)
                        if (strstr(line, sections[i]))
                                section = sections[i];
                if (!strstr(line, "<range "))
                        continue;
                if (!attr(line, "begin", &v) || !attr(line, "length", &len))
                        return set_err(err, err_size, cmd, line), -1;
                if (!strcmp(section, "<right_only>") && attr(line, "data_begin", &d)) {
                        if (tfx_map(ret, v, d, len, 0) < 0)
                                return set_err(err, err_size, cmd, "ranges out of order"), -1;
                } else if (!strcmp(section, "<different>") && attr(line, "right_data_begin", &d)) {
                        if (tfx_map(ret, v, d, len, 0) < 0)
                                return set_err(err, err_size, cmd, "ranges out of order"), -1;
                }
        }
        return 0;
}

static int block_io(const char *path, uint64_t blocknr, void *buf, bool write)
{
        int fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = write ? pwrite(fd, buf, TFX_BLOCK, (off_t)(blocknr * TFX_BLOCK))
                  : pread(fd, buf, TFX_BLOCK, (off_t)(blocknr * TFX_BLOCK));
        close(fd);
        return n == TFX_BLOCK ? 0 : -EIO;
}

int tfx_block_read(const char *path, uint64_t blocknr, void *buf)
{
        return block_io(path, blocknr, buf, false);
}

int tfx_block_write(const char *path, uint64_t blocknr, const void *buf)
{
        return block_io(path, blocknr, (void *)buf, true);
}

void tfx_reseal(void *block, bool superblock)
{
        tfx_put32(block, 0, btree_checksum(block, superblock ? THIN_META_SB_CSUM_XOR
                                                             : BTREE_CSUM_XOR));
}

uint64_t tfx_get64(const void *block, size_t off)
{
        return get_le64((const uint8_t *)block + off);
}

void tfx_put64(void *block, size_t off, uint64_t v)
{
        v = htole64(v);
        memcpy((uint8_t *)block + off, &v, sizeof(v));
}

void tfx_put32(void *block, size_t off, uint32_t v)
{
        v = htole32(v);
        memcpy((uint8_t *)block + off, &v, sizeof(v));
}
