/* control: one JSON request, one JSON reply over a Unix SOCK_SEQPACKET socket. */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sandboxctl/control.h"
#include "sandboxctl/util.h"

static int socket_address(const char *path, struct sockaddr_un *sa, sbx_error **err)
{
        memset(sa, 0, sizeof(*sa));
        sa->sun_family = AF_UNIX;
        if (strlen(path) >= sizeof(sa->sun_path))
                return sbx_error_set(err, ENAMETOOLONG, "socket %s: path too long (max %zu)", path,
                                     sizeof(sa->sun_path) - 1);
        strcpy(sa->sun_path, path);
        return 0;
}

int sbx_control_listen(const char *path, int *ret_fd, sbx_error **err)
{
        struct sockaddr_un sa;
        struct stat st;
        int r = socket_address(path, &sa, err);

        if (r < 0)
                return r;
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
                unlink(path);
        sbx_autoclose int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return sbx_error_errno(err, errno, "socket");
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return sbx_error_errno(err, errno, "bind %s", sa.sun_path);
        /* Anyone may connect: SO_PEERCRED decides who is served. */
        if (chmod(path, 0666) < 0 || listen(fd, 16) < 0) {
                r = sbx_error_errno(err, errno, "listen %s", sa.sun_path);
                unlink(path);
                return r;
        }
        *ret_fd = sbx_steal_fd(fd);
        return 0;
}

int sbx_control_send(int fd, const void *msg, sbx_error **err)
{
        sbx_autofree char *text = json_dumps((const json_t *)msg, JSON_COMPACT);

        if (!text)
                return sbx_error_errno(err, ENOMEM, "encode control message");
        size_t len = strlen(text);
        if (len > SBX_CONTROL_MAX_MESSAGE)
                return sbx_error_set(err, EMSGSIZE, "control message of %zu bytes: too long", len);
        ssize_t n = send(fd, text, len, MSG_NOSIGNAL);
        if (n < 0)
                return sbx_error_errno(err, errno, "send control message");
        if ((size_t)n != len)
                return sbx_error_set(err, EIO, "send control message: short write");
        return 0;
}

int sbx_control_send_error(int fd, const sbx_error *e)
{
        __attribute__((cleanup(json_decrefp))) json_t *o =
                json_pack("{s:b, s:i, s:s}", "ok", 0, "code", e ? e->code : EIO, "error",
                          e && e->message ? e->message : "unknown error");
        return o ? sbx_control_send(fd, o, NULL) : -ENOMEM;
}

int sbx_control_recv(int fd, int timeout_ms, void **ret, sbx_error **err)
{
        struct pollfd p = { .fd = fd, .events = POLLIN };
        json_error_t jerr;
        int n;

        do
                n = poll(&p, 1, timeout_ms);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return sbx_error_errno(err, errno, "wait for control message");
        if (n == 0)
                return sbx_error_set(err, ETIMEDOUT, "no control message within %d ms", timeout_ms);
        sbx_autofree char *buf = malloc(SBX_CONTROL_MAX_MESSAGE + 1);
        if (!buf)
                return sbx_error_errno(err, ENOMEM, "receive control message");
        ssize_t len = recv(fd, buf, SBX_CONTROL_MAX_MESSAGE, MSG_TRUNC | MSG_DONTWAIT);
        if (len < 0)
                return sbx_error_errno(err, errno, "receive control message");
        if (len == 0)
                return sbx_error_set(err, ECONNRESET, "receive control message: connection closed");
        if (len > SBX_CONTROL_MAX_MESSAGE)
                return sbx_error_set(err, EMSGSIZE, "control message of %zd bytes: too long", len);
        json_t *o = json_loadb(buf, (size_t)len, 0, &jerr);
        if (!o || !json_is_object(o)) {
                json_decref(o);
                return sbx_error_set(err, EBADMSG, "control message: not a JSON object");
        }
        *ret = o;
        return 0;
}

/* Discard the messages already queued on fd, without waiting. */
static void drain(int fd)
{
        char c;

        /* 0 is the end (the peer closed), -1 EAGAIN nothing more queued. */
        for (int i = 0; i < 64 && recv(fd, &c, 1, MSG_DONTWAIT | MSG_TRUNC) > 0; i++)
                ;
}

int sbx_control_accept(int listen_fd, uid_t owner, int *ret_fd, uid_t *ret_uid, sbx_error **err)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);

        sbx_autoclose int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return sbx_error_errno(err, errno, "accept");
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return sbx_error_errno(err, errno, "SO_PEERCRED");
        if (cred.uid != 0 && cred.uid != owner) {
                sbx_error e = { .code = EACCES };
                char msg[160];
                snprintf(msg, sizeof(msg),
                         "permission denied: uid %u is neither root nor the sandbox's owner (uid %u)",
                         (unsigned)cred.uid, (unsigned)owner);
                e.message = msg;
                /* Refuse at once, without waiting for the request (the loop
                 * must not block on a client); drop what already arrived. The
                 * client reads the refusal even if its send or its read
                 * meets the closed connection (see sbx_control_call). */
                sbx_control_send_error(fd, &e);
                drain(fd);
                return sbx_error_set(err, EACCES, "%s (pid %d)", msg, (int)cred.pid);
        }
        *ret_uid = cred.uid;
        *ret_fd = sbx_steal_fd(fd);
        return 0;
}

static int reply_result(json_t *reply, void **ret, sbx_error **err)
{
        if (json_is_true(json_object_get(reply, "ok"))) {
                if (ret)
                        *ret = json_incref(reply);
                return 0;
        }
        json_int_t code = json_integer_value(json_object_get(reply, "code"));
        const char *msg = json_string_value(json_object_get(reply, "error"));
        return sbx_error_set(err, code > 0 && code < 4096 ? (int)code : EIO, "%s",
                             msg ? msg : "request failed");
}

static void error_clear(sbx_error **err)
{
        if (err && *err) {
                sbx_error_free(*err);
                *err = NULL;
        }
}

/* Hand the error *from over to err; returns r. */
static int error_pass(sbx_error **err, sbx_error **from, int r)
{
        if (err && !*err) {
                *err = *from;
                *from = NULL;
        }
        return r;
}

int sbx_control_request(int fd, const void *req, int timeout_ms, void **ret, sbx_error **err)
{
        __attribute__((cleanup(json_decrefp))) json_t *reply = NULL;
        sbx_autoerror send_err = NULL;
        int sent = sbx_control_send(fd, req, &send_err), r;

        if (sent < 0 && sent != -EPIPE && sent != -ECONNRESET)
                return error_pass(err, &send_err, sent);
        /* A server that refuses us replies and closes without reading: our
         * send may then fail (EPIPE) and the first read report the reset
         * (ECONNRESET) while the refusal still waits in the queue. */
        r = sbx_control_recv(fd, sent < 0 ? 0 : timeout_ms, (void **)&reply, err);
        if (r == -ECONNRESET || (r < 0 && sent < 0)) {
                error_clear(err);
                r = sbx_control_recv(fd, 0, (void **)&reply, NULL);
                if (r < 0 && sent < 0)
                        return error_pass(err, &send_err, sent);
                if (r < 0)
                        return sbx_error_set(err, ECONNRESET, "connection closed by the server");
        }
        if (r < 0)
                return r;
        return reply_result(reply, ret, err);
}

int sbx_control_call(const char *path, const void *req, int timeout_ms, void **ret,
                     sbx_error **err)
{
        struct sockaddr_un sa;
        int r = socket_address(path, &sa, err);

        if (r < 0)
                return r;
        sbx_autoclose int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return sbx_error_errno(err, errno, "socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return sbx_error_errno(err, errno, "connect %s", path);
        return sbx_control_request(fd, req, timeout_ms, ret, err);
}
