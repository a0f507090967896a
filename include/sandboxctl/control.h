/* control: the supervisor's control socket <state-dir>/<id>/control.sock.
 *
 * A Unix SOCK_SEQPACKET socket: each request is one JSON object in one
 * message ({"op": "start" | "stop" | "restart" | "kill" | "destroy" |
 * "status", ...arguments}), and each reply one JSON object in one message
 * ({"ok": true, ...} or {"ok": false, "code": errno, "error": message}).
 * The server checks the peer's credentials (SO_PEERCRED): only root and the
 * uid that created the sandbox are served; anyone else gets an EACCES reply
 * and the connection is closed. */
#ifndef SANDBOXCTL_CONTROL_H
#define SANDBOXCTL_CONTROL_H

#include <stdbool.h>
#include <sys/types.h>

#include "sandboxctl/error.h"

#define SBX_CONTROL_SOCKET "control.sock"
#define SBX_CONTROL_MAX_MESSAGE 65536

/* Server: bind and listen on path (removed first if it is a stale socket).
 * The fd is non-blocking and close-on-exec. */
int sbx_control_listen(const char *path, int *ret_fd, sbx_error **err);
/* Accept one connection and check its peer: EACCES (after sending the refusal)
 * unless the peer is root or `owner`. *ret_uid is the peer's uid. */
int sbx_control_accept(int listen_fd, uid_t owner, int *ret_fd, uid_t *ret_uid, sbx_error **err);

/* One message each way. `msg` / *ret are jansson json_t *. */
int sbx_control_send(int fd, const void *msg, sbx_error **err);
int sbx_control_recv(int fd, int timeout_ms, void **ret, sbx_error **err);
/* A reply: {"ok": false, "code": code, "error": message}. */
int sbx_control_send_error(int fd, const sbx_error *e);

/* Client: connect to path, send req, wait up to timeout_ms for the reply.
 * A reply with ok=false becomes an error with its code and message; a
 * successful one is returned in *ret (may be NULL). */
/* The same over a connected fd. A server that refused us (replied and
 * closed) is read even when our send met the closed connection. */
int sbx_control_request(int fd, const void *req, int timeout_ms, void **ret, sbx_error **err);
int sbx_control_call(const char *path, const void *req, int timeout_ms, void **ret,
                     sbx_error **err);

#endif
