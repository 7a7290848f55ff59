// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of layer_chain.c: the chain every kind of volume row gives (running snapshot
 * of a source, running origin, running volatile, halted ones), base first, with owners.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "lifecycle/layer_chain.h"
#include "store/catalog_volume.h"

#define SNAP DVM_VOL_SNAP_ON_START
#define SAVE DVM_VOL_SAVE_ON_STOP

struct chain_case {
        const char *what;
        unsigned flags;
        int64_t thin_id, run_id, source_id;
        unsigned n;
        struct {
                int64_t id, origin;
                const char *owner;
                bool running;
        } want[LAYER_CHAIN_MAX];
};

static const struct chain_case cases[] = {
        { "running disposable root", SNAP | DVM_VOL_RW, -1, 42, 7, 2,
          { { 7, -1, "tmpl/root", false }, { 42, 7, "disp1/root", true } } },
        { "running TemplateVM root", SAVE | DVM_VOL_RW, 7, 43, -1, 2,
          { { 7, -1, "disp1/root", false }, { 43, 7, "disp1/root", true } } },
        { "running volatile", DVM_VOL_RW, -1, 44, -1, 1, { { 44, -1, "disp1/root", true } } },
        { "halted TemplateVM root", SAVE | DVM_VOL_RW, 7, -1, -1, 1, { { 7, -1, "disp1/root", false } } },
        { "halted snapshot volume", SNAP | DVM_VOL_RW, -1, -1, 7, 0, {} },
        { "halted volatile", DVM_VOL_RW, -1, -1, -1, 0, {} },
        { "layer id 0 is a layer", SAVE, 0, -1, -1, 1, { { 0, -1, "disp1/root", false } } },
};

Test(layer_chain, every_kind_of_volume)
{
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const struct chain_case *c = &cases[i];
                struct cat_volume v = { .vm = "disp1", .name = "root", .size = 1 << 20, .flags = c->flags,
                                        .thin_id = c->thin_id, .run_id = c->run_id, .source_vm = "tmpl",
                                        .source_vol = "root", .source_id = c->source_id };
                struct dvm_layer_info got[LAYER_CHAIN_MAX];
                unsigned n = layer_chain(&v, got);

                cr_assert_eq(n, c->n, "%s: %u layers, want %u", c->what, n, c->n);
                for (unsigned k = 0; k < n; k++) {
                        cr_assert(got[k].id == c->want[k].id && got[k].origin == c->want[k].origin &&
                                          got[k].running == c->want[k].running && got[k].size == v.size,
                                  "%s, layer %u: id %lld origin %lld running %d size %llu", c->what, k,
                                  (long long)got[k].id, (long long)got[k].origin, got[k].running,
                                  (unsigned long long)got[k].size);
                        cr_assert_str_eq(got[k].owner, c->want[k].owner, "%s, layer %u: owner %s", c->what, k,
                                         got[k].owner);
                        struct layer l = layer_of(&got[k]);
                        cr_assert(l.id == got[k].id && l.origin == got[k].origin && l.size == got[k].size,
                                  "%s, layer %u: layer_of gives %lld/%lld", c->what, k, (long long)l.id,
                                  (long long)l.origin);
                }
        }
}
