/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The layer chain of a volume, base first, as the catalog records it: the committed layer
 * its running layer snapshots, then that running layer; or its committed layer alone while
 * it is halted.
 */
#ifndef DVM_LAYER_CHAIN_H
#define DVM_LAYER_CHAIN_H

#include "backend/backend.h"
#include "store/catalog_volume.h"

/* A volume's chain holds at most its running layer and the committed layer under it. */
#define LAYER_CHAIN_MAX 2

/**
 * layer_chain() - the chain of volume row @v into @ret, base first.
 * Returns the number of layers (0: a halted volume without a committed layer).
 */
unsigned layer_chain(const struct cat_volume *v, struct dvm_layer_info ret[LAYER_CHAIN_MAX]);

/** layer_of() - the backend's view of chain entry @info (its id, origin and size). */
struct layer layer_of(const struct dvm_layer_info *info);

#endif
