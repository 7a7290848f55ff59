/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Strict parsing of numbers in kernel status lines and user input. */
#ifndef DVM_TEXT_H
#define DVM_TEXT_H

#include <stdint.h>

/**
 * text_parse_u64() - the decimal digits at the start of @s, nothing else (no sign, no
 * blanks: sscanf's %llu would take those, and saturate on overflow). @ret_end points after
 * the last digit. Returns 0, -EINVAL when @s does not start with a digit, -ERANGE on overflow.
 */
int text_parse_u64(const char *s, const char **ret_end, uint64_t *ret);

#endif
