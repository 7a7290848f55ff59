/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Strict parsing of numbers in kernel status lines and user input; one-line kernel attribute files. */
#ifndef DVM_TEXT_H
#define DVM_TEXT_H

#include <stddef.h>
#include <stdint.h>

/**
 * text_parse_u64() - the decimal digits at the start of @s, nothing else (no sign, no
 * blanks: sscanf's %llu would take those, and saturate on overflow). @ret_end points after
 * the last digit. Returns 0, -EINVAL when @s does not start with a digit, -ERANGE on overflow.
 */
int text_parse_u64(const char *s, const char **ret_end, uint64_t *ret);

/**
 * text_read_line() - the first line of the small file @path (a sysfs or procfs attribute)
 * into @buf, without its newline; at most @len - 1 bytes of the file are read.
 * Returns 0 or -errno.
 */
int text_read_line(const char *path, char *buf, size_t len);

#endif
