/* read_fd: the whole rest of a file descriptor in one NUL-terminated buffer,
 * read in large chunks (stdio and jansson's json_loadfd() read small pieces
 * or byte by byte). */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "sandboxctl/util.h"

int sbx_read_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
        size_t cap = 4096, len = 0;
        sbx_autofree char *buf = malloc(cap);

        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len + 1 == cap) {
                        if (cap > max)
                                return -EFBIG;
                        char *bigger = realloc(buf, cap * 2);
                        if (!bigger)
                                return -ENOMEM;
                        buf = bigger;
                        cap *= 2;
                }
                ssize_t n = read(fd, buf + len, cap - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (len > max)
                return -EFBIG;
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        *ret = sbx_steal_ptr(buf);
        return 0;
}
