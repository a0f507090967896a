/* error: construction and chaining of sbx_error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandboxctl/error.h"

static sbx_error *error_new(int code, char *message)
{
        sbx_error *e = malloc(sizeof(*e));
        if (!e) {
                free(message);
                return NULL;
        }
        e->code = code > 0 ? code : EIO;
        e->message = message;
        return e;
}

int sbx_error_setv(sbx_error **err, int code, const char *fmt, va_list ap)
{
        if (code <= 0)
                code = EIO; /* a made-up error still carries a real errno */
        if (err && !*err) {
                char *msg = NULL;
                if (vasprintf(&msg, fmt, ap) < 0)
                        msg = NULL;
                *err = error_new(code, msg);
        }
        return -code;
}

int sbx_error_set(sbx_error **err, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = sbx_error_setv(err, code, fmt, ap);
        va_end(ap);
        return r;
}

int sbx_error_errno(sbx_error **err, int code, const char *fmt, ...)
{
        if (code <= 0)
                code = EIO;
        if (err && !*err) {
                char *head = NULL;
                va_list ap;
                va_start(ap, fmt);
                if (vasprintf(&head, fmt, ap) < 0)
                        head = NULL;
                va_end(ap);
                sbx_error_set(err, code, "%s: %s", head ? head : "error", strerror(code));
                free(head);
        }
        return -code;
}

int sbx_error_prefix(sbx_error **err, int r, const char *fmt, ...)
{
        if (!err || !*err)
                return r;
        char *head = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&head, fmt, ap) < 0)
                head = NULL;
        va_end(ap);
        if (!head)
                return r;
        char *joined = NULL;
        if (asprintf(&joined, "%s: %s", head, (*err)->message ? (*err)->message : "") >= 0) {
                free((*err)->message);
                (*err)->message = joined;
        }
        free(head);
        return r;
}

void sbx_error_free(sbx_error *e)
{
        if (!e)
                return;
        free(e->message);
        free(e);
}
