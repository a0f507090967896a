/* util: resource helpers used across libsandbox: cleanup attributes that free
 * or close on scope exit, and steal helpers that hand ownership over. */
#ifndef SANDBOXCTL_UTIL_H
#define SANDBOXCTL_UTIL_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static inline void sbx_freep(void *p)
{
        free(*(void **)p);
}

static inline void sbx_closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd); /* never retried on EINTR */
                errno = saved;
        }
}

#define sbx_autofree __attribute__((cleanup(sbx_freep)))
#define sbx_autoclose __attribute__((cleanup(sbx_closep)))

/* SBX_DEFINE_CLEANUP(type, fn) defines fn##p(type *) that calls fn on a
 * non-NULL value, for use as __attribute__((cleanup(fn##p))). */
#define SBX_DEFINE_CLEANUP(type, fn)          \
        static inline void fn##p(type *p)     \
        {                                     \
                if (*p)                       \
                        fn(*p);               \
        }

#define sbx_steal_ptr(p)                     \
        ({                                   \
                __typeof__(p) _sbx_tmp = (p); \
                (p) = NULL;                  \
                _sbx_tmp;                    \
        })

#define sbx_steal_fd(fd)             \
        ({                           \
                int _sbx_tmp = (fd); \
                (fd) = -1;           \
                _sbx_tmp;            \
        })

#define SBX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* read_fd.c: the rest of fd, NUL-terminated, in *ret (malloc'd), its length
 * in *ret_len (may be NULL). -EFBIG past max bytes, else -errno. */
int sbx_read_fd(int fd, size_t max, char **ret, size_t *ret_len);

#endif
