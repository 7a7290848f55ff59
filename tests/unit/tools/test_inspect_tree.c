// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of dvm-inspect's pure parts: which node a path names (hostile and malformed
 * paths included), layer file names, SEEK_DATA / SEEK_HOLE over owned extents, the
 * extents a read touches, and the text of `changed`.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dvm.h"
#include "extents.h"
#include "path.h"
#include "util/macro.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)

/* ---- path_parse ----------------------------------------------------------------------- */

struct path_case {
        const char *path;
        int ret;
        enum node_kind kind;
        const char *pool, *vm, *volume;
        unsigned index;
        int64_t id;
};

static const struct path_case path_cases[] = {
        { "/", 0, NODE_ROOT, "", "", "", 0, -1 },
        { "//", 0, NODE_ROOT, "", "", "", 0, -1 },
        { "/default", 0, NODE_POOL, "default", "", "", 0, -1 },
        { "/default/", 0, NODE_POOL, "default", "", "", 0, -1 },
        { "/default/disp1", 0, NODE_VM, "default", "disp1", "", 0, -1 },
        { "/default/my-vm.2_x", 0, NODE_VM, "default", "my-vm.2_x", "", 0, -1 },
        { "/p/disp1/root", 0, NODE_VOLUME, "p", "disp1", "root", 0, -1 },
        { "/p/disp1/private", 0, NODE_VOLUME, "p", "disp1", "private", 0, -1 },
        { "/p/disp1/volatile", 0, NODE_VOLUME, "p", "disp1", "volatile", 0, -1 },
        { "/p/disp1/root/info", 0, NODE_INFO, "p", "disp1", "root", 0, -1 },
        { "/p/disp1/root/image", 0, NODE_IMAGE, "p", "disp1", "root", 0, -1 },
        { "/p/disp1/root/layers", 0, NODE_LAYERS, "p", "disp1", "root", 0, -1 },
        { "/p/disp1/root/layers/", 0, NODE_LAYERS, "p", "disp1", "root", 0, -1 },
        { "/p/disp1/root/delta", 0, NODE_DELTA, "p", "disp1", "root", 0, -1 },
        { "/p/disp1/root/changed", 0, NODE_CHANGED, "p", "disp1", "root", 0, -1 },
        { "/p/disp1/root/layers/0-17", 0, NODE_LAYER, "p", "disp1", "root", 0, 17 },
        { "/p/disp1/root/layers/1-16777215", 0, NODE_LAYER, "p", "disp1", "root", 1, 16777215 },
        { "/p/disp1/root/layers/0-0", 0, NODE_LAYER, "p", "disp1", "root", 0, 0 },
        /* not a path of the tree */
        { "", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "default", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/1pool", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/po-ol", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/..", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/.hidden", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/vm/swap", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/vm/root/image/x", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/vm/root/info/", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/vm/root/Image", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/vm/root/layers/0", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/vm/root/layers/0-", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/vm/root/layers/-3", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/vm/root/layers/00-3", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/vm/root/layers/0-03", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/vm/root/layers/0-+3", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/vm/root/layers/0--3", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/vm/root/layers/0-3x", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/vm/root/layers/0-3-4", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/vm/root/layers/65-3", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/vm/root/layers/0-9223372036854775808", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/vm/root/layers/0-99999999999999999999999", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/vm/root/layers/0-3/x", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/vm/root/layers/ 0-3", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/v\nm", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        /* too long for each level */
        { "/p123456789012345678901234567890123", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
        { "/p/v1234567890123456789012345678901234567890123456789012345678901234", -ENOENT, 0, NULL, NULL, NULL, 0, 0 },
};

static void check_path(const struct path_case *c)
{
        struct node n = { .kind = NODE_CHANGED, .pool = "sentinel" };
        int r = path_parse(c->path, &n);

        cr_assert_eq(r, c->ret, "path_parse(\"%s\") = %d, want %d", c->path, r, c->ret);
        if (c->ret < 0) {
                cr_assert_str_eq(n.pool, "sentinel", "path_parse(\"%s\") failed but wrote pool \"%s\"", c->path,
                                 n.pool);
                return;
        }
        cr_assert_eq(n.kind, c->kind, "path_parse(\"%s\"): kind %d, want %d", c->path, n.kind, c->kind);
        cr_assert_str_eq(n.pool, c->pool, "path_parse(\"%s\"): pool \"%s\"", c->path, n.pool);
        cr_assert_str_eq(n.vm, c->vm, "path_parse(\"%s\"): vm \"%s\"", c->path, n.vm);
        cr_assert_str_eq(n.volume, c->volume, "path_parse(\"%s\"): volume \"%s\"", c->path, n.volume);
        if (c->kind == NODE_LAYER) {
                cr_assert_eq(n.layer_index, c->index, "path_parse(\"%s\"): index %u", c->path, n.layer_index);
                cr_assert_eq(n.layer_id, c->id, "path_parse(\"%s\"): id %lld", c->path, (long long)n.layer_id);
        }
}

Test(path, parse)
{
        for (size_t i = 0; i < ARRAY_SIZE(path_cases); i++)
                check_path(&path_cases[i]);
}

Test(path, null_is_no_path)
{
        struct node n;
        cr_assert_eq(path_parse(NULL, &n), -ENOENT, "path_parse(NULL) accepted");
}

Test(path, layer_names_parse_back)
{
        static const int64_t ids[] = { 0, 1, 9, 10, 4096, 16777215, INT64_MAX };
        for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
                char name[64], path[128];
                struct node n;
                snprintf(path, sizeof(path), "/p/vm/root/layers/%s", path_layer_name((unsigned)i, ids[i], name, sizeof(name)));
                int r = path_parse(path, &n);
                cr_assert_eq(r, 0, "layer name %s does not parse back: %d", name, r);
                cr_assert(n.layer_index == i && n.layer_id == ids[i], "%s parsed as %u-%lld", name, n.layer_index,
                          (long long)n.layer_id);
        }
}

Test(path, files_and_directories)
{
        static const struct {
                enum node_kind kind;
                int file;
        } kinds[] = {
                { NODE_ROOT, 0 },  { NODE_POOL, 0 },  { NODE_VM, 0 },    { NODE_VOLUME, 0 },  { NODE_LAYERS, 0 },
                { NODE_INFO, 1 },  { NODE_IMAGE, 1 }, { NODE_DELTA, 1 }, { NODE_CHANGED, 1 }, { NODE_LAYER, 1 },
        };
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
                cr_assert_eq(!!path_is_file(kinds[i].kind), kinds[i].file, "kind %d: path_is_file = %d", kinds[i].kind,
                             path_is_file(kinds[i].kind));
}

/* ---- extents_seek ---------------------------------------------------------------------- */

/* A 16 MiB file owning [1M, 2M), [4M, 4M+64K) and [15M, 16M) */
static const struct dvm_extent owned[] = { { MiB, MiB }, { 4 * MiB, 64 * KiB }, { 15 * MiB, MiB } };
#define OWNED_SIZE (16 * MiB)

struct seek_case {
        uint64_t off;
        bool data;
        int64_t want;
};

static const struct seek_case seek_cases[] = {
        { 0, true, MiB },
        { 0, false, 0 },
        { MiB - 1, true, MiB },
        { MiB, true, MiB },
        { MiB, false, 2 * MiB },
        { MiB + 5, true, MiB + 5 },
        { 2 * MiB - 1, false, 2 * MiB },
        { 2 * MiB, true, 4 * MiB },
        { 2 * MiB, false, 2 * MiB },
        { 4 * MiB + 64 * KiB, true, 15 * MiB },
        { 4 * MiB + 64 * KiB - 1, false, 4 * MiB + 64 * KiB },
        { 15 * MiB, false, 16 * MiB },
        { 16 * MiB - 1, true, 16 * MiB - 1 },
        { 16 * MiB - 1, false, 16 * MiB },
        { 16 * MiB, true, -ENXIO },
        { 16 * MiB, false, -ENXIO },
        { UINT64_MAX, true, -ENXIO },
};

Test(extents, seek)
{
        for (size_t i = 0; i < ARRAY_SIZE(seek_cases); i++) {
                const struct seek_case *c = &seek_cases[i];
                int64_t got = extents_seek(owned, ARRAY_SIZE(owned), OWNED_SIZE, c->off, c->data);
                cr_assert_eq(got, c->want, "SEEK_%s from %llu: %lld, want %lld", c->data ? "DATA" : "HOLE",
                             (unsigned long long)c->off, (long long)got, (long long)c->want);
        }
}

Test(extents, nothing_owned_is_one_hole)
{
        cr_assert_eq(extents_seek(NULL, 0, MiB, 0, true), -ENXIO, "SEEK_DATA found data in an empty delta");
        int64_t h = extents_seek(NULL, 0, MiB, 4096, false);
        cr_assert_eq(h, 4096, "SEEK_HOLE from 4096 in an empty delta: %lld", (long long)h);
}

Test(extents, adjacent_extents_are_one_data_run)
{
        static const struct dvm_extent adj[] = { { 0, MiB }, { MiB, MiB } };
        int64_t h = extents_seek(adj, 2, 4 * MiB, 0, false);
        cr_assert_eq(h, 2 * MiB, "SEEK_HOLE over adjacent extents: %lld", (long long)h);
}

Test(extents, data_past_the_end_is_clipped)
{
        static const struct dvm_extent past[] = { { 3 * MiB, 2 * MiB } };
        int64_t h = extents_seek(past, 1, 4 * MiB, 3 * MiB, false);
        cr_assert_eq(h, 4 * MiB, "SEEK_HOLE of an extent past the end: %lld", (long long)h);
}

/* ---- extents_first_after ----------------------------------------------------------------- */

Test(extents, first_after)
{
        static const struct {
                uint64_t off;
                size_t want;
        } cases[] = { { 0, 0 }, { MiB, 0 }, { 2 * MiB - 1, 0 }, { 2 * MiB, 1 }, { 4 * MiB + 64 * KiB, 2 },
                      { 16 * MiB - 1, 2 }, { 16 * MiB, 3 } };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                size_t got = extents_first_after(owned, ARRAY_SIZE(owned), cases[i].off);
                cr_assert_eq(got, cases[i].want, "first extent ending after %llu: %zu, want %zu",
                             (unsigned long long)cases[i].off, got, cases[i].want);
        }
}

/* ---- extents_text ---------------------------------------------------------------------- */

Test(extents, text)
{
        char *text = NULL;
        size_t len = 0;
        int r = extents_text(owned, ARRAY_SIZE(owned), &text, &len);

        cr_assert_eq(r, 0, "extents_text: %d", r);
        cr_assert_str_eq(text, "1048576 1048576\n4194304 65536\n15728640 1048576\n", "changed text:\n%s", text);
        cr_assert_eq(len, strlen(text), "length %zu for %zu characters", len, strlen(text));
        free(text);
        r = extents_text(NULL, 0, &text, &len);
        cr_assert(r == 0 && len == 0 && text && !*text, "no extents: r %d, len %zu", r, len);
        free(text);
}
