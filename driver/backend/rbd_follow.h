/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Many hosts, one cluster. Every image is held writable by the host in its name
 * ("dvm.<host>.<pool>.<layer>"): only that host starts a save_on_stop volume over it or
 * commits into it; another host is refused. A host's commits of a VM's save_on_stop volume
 * rewrite the pointer object "dvm.tmpl.<host>.<vm>.<volume>" (rbd_share.h); another host's
 * TemplateVM of the same name follows it ("template import NAME --from-host HOST"): the
 * catalog records the layer's pointer ("rbd.follow.<layer>"), each start over it takes the
 * snapshot the pointer names then, and the host records its use of that snapshot in the
 * cluster, so that the owner keeps it until the last user is done.
 */
#ifndef DVM_RBD_FOLLOW_H
#define DVM_RBD_FOLLOW_H

#include "backend/rbd_backend.h"

/** rbd_backend_host() - @pool's host name (setting rbd.host) in @buf. Returns 0 or -errno. */
int rbd_backend_host(dvm_pool *pool, char *buf, size_t len);

/**
 * rbd_follow_unused() - remove snapshot @ref, released by its owner and used by no host (its
 * image too when that was its last). Returns 1, or -errno (a message; the caller may go on).
 */
int rbd_follow_unused(dvm_pool *pool, struct rbd_conn *c, const struct rbd_ref *ref);

/**
 * rbd_image_foreign() - 1 when @image is held writable by another host than @pool's (its
 * name in @ret_host), 0 when by this one. Returns that, or -errno.
 */
int rbd_image_foreign(dvm_pool *pool, const char *image, char *ret_host, size_t len);

/**
 * rbd_refuse_foreign() - -EBUSY with a message naming the image and its host when @image is
 * held by another host (@doing says what was refused), else 0.
 */
int rbd_refuse_foreign(dvm_pool *pool, const char *image, const char *doing);

/** rbd_follow_publish() - after a commit of layer @id as @ref: the pointer of its volume names it. 0 or -errno. */
int rbd_follow_publish(dvm_pool *pool, struct rbd_conn *c, int64_t id, const struct rbd_ref *ref);

/**
 * rbd_follow_republish() - for recovery: the pointer of each of this host's committed
 * save_on_stop volumes names its committed layer again (a commit killed after it wrote the
 * pointer, before the catalog took the commit, left it naming a snapshot recovery removes).
 * Returns how many were put back, or -errno.
 */
int rbd_follow_republish(dvm_pool *pool, struct rbd_conn *c);

/** rbd_follow() - the backend's follow op (backend.h). */
int rbd_follow(dvm_pool *pool, const char *host, struct cat_volume *v);

/** rbd_source_refresh() - the backend's source_refresh op (backend.h). */
int rbd_source_refresh(dvm_pool *pool, struct cat_volume *src);

/** rbd_source_moved() - the backend's source_moved op (backend.h). */
int rbd_source_moved(dvm_pool *pool, const struct cat_volume *src);

/**
 * rbd_follow_image_gone() - after this host removed @ref's image: its users object goes,
 * and the pointer of the volume it held when that still names it. 0 or -errno.
 */
int rbd_follow_image_gone(dvm_pool *pool, struct rbd_conn *c, const struct rbd_ref *ref);

/**
 * rbd_follow_delete() - before layer @id (@ref, in the cluster) goes: another host's
 * snapshot is only no longer used by this one (and removed when its owner released it and
 * no host uses it); one of ours that other hosts use is released to them. Returns 1 when
 * the snapshot stays (the caller only forgets the layer), 0 when the caller removes it, or
 * -errno.
 */
int rbd_follow_delete(dvm_pool *pool, struct rbd_conn *c, int64_t id, const struct rbd_ref *ref);

#endif
