/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the kernel's Ceph client needs to reach a cluster that librados reaches from a config
 * file: the monitors' msgr1 addresses (from the "mon host" setting) and the client's secret
 * key (from its keyring). Pure text: no library, no I/O.
 */
#ifndef DVM_RBD_AUTH_H
#define DVM_RBD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/**
 * rbdauth_mon_v1() - the msgr1 ("v1") monitor addresses of "mon host" value @mon_host, as the
 * kernel takes them: "ip:port[,ip:port...]". Entries are separated by ',', ';' or blanks; an
 * address vector "[v2:a:p,v1:a:p]" gives its v1 entry, "v1:a:p" gives "a:p", "v2:..." alone
 * is skipped (the kernel speaks msgr1 here), a bare "a" gets the msgr1 port 6789.
 * Returns 0 and fills @ret, -ENOENT when no entry has a v1 address, -EINVAL when @mon_host
 * is malformed, -ENAMETOOLONG when @len is too small.
 */
int rbdauth_mon_v1(const char *mon_host, char *ret, size_t len);

/**
 * rbdauth_keyring_key() - the "key = ..." line of section "[@entity]" (e.g. "client.dvm") in
 * keyring file text @text. Returns 0 and fills @ret, -ENOENT when the section or its key is
 * missing, -EINVAL when the key is not base64 (it goes into the kernel's option string, where
 * a ',' or blank would inject another option), -ENAMETOOLONG when @len is too small.
 */
int rbdauth_keyring_key(const char *text, const char *entity, char *ret, size_t len);

/** rbdauth_key_valid() - whether @key is a non-empty base64 string. */
bool rbdauth_key_valid(const char *key);

#endif
