/* evloop: the single-threaded event loop of a sandbox's supervisor.
 *
 * One epoll instance; each source is an fd with a callback (a pidfd, a
 * signalfd, a timerfd, a pipe, a socket). Sources live in one array indexed
 * from the epoll data, with a generation count: a source removed by a
 * callback is never called for an event that epoll already returned in the
 * same batch, and its slot is reused without allocating. Timers are
 * timerfds the loop owns (sbx_evloop_timer()); signals a signalfd
 * (sbx_evloop_signals()). Used by `sandboxctl run` (in the foreground) and
 * by the long-lived supervisor alike. */
#ifndef SANDBOXCTL_EVLOOP_H
#define SANDBOXCTL_EVLOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "sandboxctl/error.h"

struct sbx_evloop;

/* Called with the source's fd, the epoll events and its data. */
typedef void (*sbx_ev_fn)(struct sbx_evloop *loop, int fd, uint32_t events, void *data);

int sbx_evloop_new(struct sbx_evloop **ret, sbx_error **err);
/* Closes the fds the loop owns (timers, signalfd), not the others. */
void sbx_evloop_free(struct sbx_evloop *loop);

/* Watch fd for events (EPOLLIN, ...). One source per fd. The loop does not
 * own fd: remove it before closing it. */
int sbx_evloop_add(struct sbx_evloop *loop, int fd, uint32_t events, sbx_ev_fn fn, void *data,
                   sbx_error **err);
/* Stop watching fd (no-op when it is not watched); an event of it already
 * fetched is dropped. Closes fd when the loop owns it. */
void sbx_evloop_remove(struct sbx_evloop *loop, int fd);
bool sbx_evloop_has(const struct sbx_evloop *loop, int fd);

/* A disarmed CLOCK_MONOTONIC timerfd owned by the loop, calling fn when it
 * expires (its count already read: a timer re-armed or disarmed by a callback
 * in the same batch is not called). Returns the fd. */
int sbx_evloop_timer(struct sbx_evloop *loop, sbx_ev_fn fn, void *data, sbx_error **err);
/* Fire after ms, then every interval_ms (0: once); ms = interval_ms = 0
 * disarms. */
int sbx_timer_arm(int tfd, uint64_t ms, uint64_t interval_ms);

/* Block `set` and read it from a signalfd owned by the loop; fn is called
 * once per signal with its number in place of the events. */
int sbx_evloop_signals(struct sbx_evloop *loop, const sigset_t *set, sbx_ev_fn fn, void *data,
                       sbx_error **err);

/* Dispatch events until sbx_evloop_quit(); returns what it was given, or
 * -errno when epoll_wait fails. */
int sbx_evloop_run(struct sbx_evloop *loop);
/* The loop ends after the current callback (events left in the batch are
 * not dispatched). */
void sbx_evloop_quit(struct sbx_evloop *loop, int result);
bool sbx_evloop_quitting(const struct sbx_evloop *loop);

#endif
