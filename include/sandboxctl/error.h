/* error: the error object that every libsandbox function may fill.
 *
 * Functions return >= 0 on success and -errno on failure, and take a last
 * argument `sbx_error **err` (may be NULL). On failure they set *err to an
 * error holding a positive errno code and a message that says what failed, on
 * what, and why. Callers add context as the error rises with sbx_error_prefix().
 */
#ifndef SANDBOXCTL_ERROR_H
#define SANDBOXCTL_ERROR_H

#include <stdarg.h>

typedef struct sbx_error {
        int code;      /* positive errno value, never 0 */
        char *message; /* human-readable, no trailing newline */
} sbx_error;

/* Set *err (if err is non-NULL and *err is NULL) and return -code. */
int sbx_error_set(sbx_error **err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int sbx_error_setv(sbx_error **err, int code, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

/* Like sbx_error_set(), with ": strerror(code)" appended. */
int sbx_error_errno(sbx_error **err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Prepend "prefix: " to *err's message (if there is one) and return r. */
int sbx_error_prefix(sbx_error **err, int r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

void sbx_error_free(sbx_error *e);
static inline void sbx_error_freep(sbx_error **e)
{
        sbx_error_free(*e);
        *e = 0;
}
#define sbx_autoerror __attribute__((cleanup(sbx_error_freep))) sbx_error *

#endif
