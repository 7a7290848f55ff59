/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The thin target (one thin volume of a pool): table parameters, status parsing, and the
 * pool messages that create, snapshot and delete thin ids.
 */
#ifndef DVM_THIN_H
#define DVM_THIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Thin ids are 24-bit. */
#define THIN_ID_MAX 0xffffffu

struct thin_status {
        uint64_t mapped_sectors;
        int64_t highest_mapped; /* sector, -1 when nothing is mapped */
        bool failed;
};

/** thin_table_params() - "<pool maj:min> <id>" into @buf. Returns the length or -errno. */
int thin_table_params(uint32_t pool_major, uint32_t pool_minor, uint32_t id, char *buf, size_t len);

/**
 * thin_table_params_origin() - "<pool maj:min> <id> <origin maj:min>": thin @id over the
 * read-only external origin @origin_major:@origin_minor (unprovisioned blocks read from it).
 * Returns the length or -errno.
 */
int thin_table_params_origin(uint32_t pool_major, uint32_t pool_minor, uint32_t id, uint32_t origin_major,
                             uint32_t origin_minor, char *buf, size_t len);

/** thin_status_parse() - parse a thin status line. Returns 0 or -EINVAL. */
int thin_status_parse(const char *params, struct thin_status *ret_status);

/** thin_msg_create() - the pool message creating thin @id. Returns the length or -errno. */
int thin_msg_create(uint32_t id, char *buf, size_t len);
/** thin_msg_snap() - the pool message creating @id as a snapshot of @origin. */
int thin_msg_snap(uint32_t id, uint32_t origin, char *buf, size_t len);
/** thin_msg_delete() - the pool message deleting @id. */
int thin_msg_delete(uint32_t id, char *buf, size_t len);

#endif
