/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small helpers every file of the library uses: cleanup attributes, TAKE_PTR, array sizes.
 * Internal: not installed.
 */
#ifndef DVM_MACRO_H
#define DVM_MACRO_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                          \
        ({                                   \
                __typeof__(p) _p_ = (p);     \
                (p) = NULL;                  \
                _p_;                         \
        })
#define TAKE_FD(fd)                          \
        ({                                   \
                int _fd_ = (fd);             \
                (fd) = -1;                   \
                _fd_;                        \
        })

/* Define a cleanup function for a type with a free function that takes the pointer. */
#define DEFINE_CLEANUP(type, func)                           \
        static inline void func##p(type *p)                  \
        {                                                    \
                if (*p)                                      \
                        func(*p);                            \
        }

#define SECTOR_SHIFT 9
#define SECTOR_SIZE 512u

#endif
