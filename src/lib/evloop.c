/* evloop: epoll over fd sources with callbacks, timerfds and a signalfd. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "sandboxctl/evloop.h"
#include "sandboxctl/util.h"

#define EVLOOP_BATCH 16
#define EVLOOP_FIRST_SLOTS 8

enum src_kind {
        SRC_FREE = 0,
        SRC_FD,     /* the caller's fd */
        SRC_TIMER,  /* a timerfd of the loop */
        SRC_SIGNAL, /* the signalfd of the loop */
};

struct src {
        int fd;
        uint32_t gen; /* bumped when the slot is freed: older events are stale */
        enum src_kind kind;
        sbx_ev_fn fn;
        void *data;
};

struct sbx_evloop {
        int epfd;
        bool quit;
        int result;
        size_t n; /* slots in use or freed, from the start of src */
        size_t cap;
        struct src *src;
};

int sbx_evloop_new(struct sbx_evloop **ret, sbx_error **err)
{
        struct sbx_evloop *l = calloc(1, sizeof(*l));

        if (!l)
                return sbx_error_errno(err, ENOMEM, "event loop");
        l->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (l->epfd < 0) {
                int e = errno;
                free(l);
                return sbx_error_errno(err, e, "epoll_create1");
        }
        *ret = l;
        return 0;
}

static void slot_release(struct src *s)
{
        if (s->kind == SRC_TIMER || s->kind == SRC_SIGNAL)
                close(s->fd);
        s->kind = SRC_FREE;
        s->fd = -1;
        s->gen++;
}

void sbx_evloop_free(struct sbx_evloop *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                if (l->src[i].kind != SRC_FREE)
                        slot_release(&l->src[i]);
        close(l->epfd);
        free(l->src);
        free(l);
}

static struct src *slot_of(const struct sbx_evloop *l, int fd)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->src[i].kind != SRC_FREE && l->src[i].fd == fd)
                        return &l->src[i];
        return NULL;
}

static struct src *slot_new(struct sbx_evloop *l)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->src[i].kind == SRC_FREE)
                        return &l->src[i];
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : EVLOOP_FIRST_SLOTS;
                struct src *a = realloc(l->src, cap * sizeof(*a));
                if (!a)
                        return NULL;
                l->src = a;
                l->cap = cap;
        }
        l->src[l->n] = (struct src){ .fd = -1 };
        return &l->src[l->n++];
}

static int add_source(struct sbx_evloop *l, int fd, uint32_t events, enum src_kind kind,
                      sbx_ev_fn fn, void *data, sbx_error **err)
{
        if (fd < 0 || !fn)
                return sbx_error_set(err, EINVAL, "event loop: no fd or no callback");
        struct src *s = slot_new(l);
        if (!s)
                return sbx_error_errno(err, ENOMEM, "event loop source");
        size_t idx = (size_t)(s - l->src);
        struct epoll_event ev = { .events = events,
                                  .data.u64 = ((uint64_t)s->gen << 32) | (uint32_t)idx };
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                if (errno == EEXIST)
                        return sbx_error_set(err, EEXIST, "event loop: fd %d is already watched",
                                             fd);
                return sbx_error_errno(err, errno, "epoll_ctl add fd %d", fd);
        }
        /* A source of the same fd number that epoll no longer has: its fd
         * was closed without being removed. It is dead. */
        struct src *old = slot_of(l, fd);
        if (old) {
                old->kind = SRC_FD; /* the number is the new fd's now: never close it */
                slot_release(old);
        }
        s->fd = fd;
        s->kind = kind;
        s->fn = fn;
        s->data = data;
        return 0;
}

int sbx_evloop_add(struct sbx_evloop *l, int fd, uint32_t events, sbx_ev_fn fn, void *data,
                   sbx_error **err)
{
        return add_source(l, fd, events, SRC_FD, fn, data, err);
}

void sbx_evloop_remove(struct sbx_evloop *l, int fd)
{
        struct src *s = fd >= 0 && l ? slot_of(l, fd) : NULL;

        if (!s)
                return;
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
        slot_release(s);
}

bool sbx_evloop_has(const struct sbx_evloop *l, int fd)
{
        return fd >= 0 && l && slot_of(l, fd) != NULL;
}

int sbx_evloop_timer(struct sbx_evloop *l, sbx_ev_fn fn, void *data, sbx_error **err)
{
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

        if (fd < 0)
                return sbx_error_errno(err, errno, "timerfd_create");
        int r = add_source(l, fd, EPOLLIN, SRC_TIMER, fn, data, err);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

int sbx_timer_arm(int tfd, uint64_t ms, uint64_t interval_ms)
{
        struct itimerspec its = {
                .it_value = { .tv_sec = (time_t)(ms / 1000),
                              .tv_nsec = (long)(ms % 1000) * 1000000L },
                .it_interval = { .tv_sec = (time_t)(interval_ms / 1000),
                                 .tv_nsec = (long)(interval_ms % 1000) * 1000000L },
        };

        /* A zero it_value disarms: a periodic timer starts one period out. */
        if (ms == 0 && interval_ms > 0)
                its.it_value = its.it_interval;
        return timerfd_settime(tfd, 0, &its, NULL) < 0 ? -errno : 0;
}

int sbx_evloop_signals(struct sbx_evloop *l, const sigset_t *set, sbx_ev_fn fn, void *data,
                       sbx_error **err)
{
        int fd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);

        if (fd < 0)
                return sbx_error_errno(err, errno, "signalfd");
        int r = add_source(l, fd, EPOLLIN, SRC_SIGNAL, fn, data, err);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

void sbx_evloop_quit(struct sbx_evloop *l, int result)
{
        l->quit = true;
        l->result = result;
}

bool sbx_evloop_quitting(const struct sbx_evloop *l)
{
        return l->quit;
}

/* Timers: only when the count says it really expired (a callback earlier in
 * the batch may have re-armed or disarmed it, which clears the count). */
static void call_timer(struct sbx_evloop *l, struct src *s, uint32_t events)
{
        uint64_t ticks = 0;

        if (read(s->fd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks) && ticks > 0)
                s->fn(l, s->fd, events, s->data);
}

/* Signals: one call each, until the queue is empty or the source gone. */
static void call_signals(struct sbx_evloop *l, size_t idx, uint32_t gen)
{
        struct signalfd_siginfo si;

        while (!l->quit && l->src[idx].gen == gen &&
               read(l->src[idx].fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                l->src[idx].fn(l, l->src[idx].fd, si.ssi_signo, l->src[idx].data);
}

static void dispatch(struct sbx_evloop *l, const struct epoll_event *ev)
{
        size_t idx = (uint32_t)ev->data.u64;
        uint32_t gen = (uint32_t)(ev->data.u64 >> 32);

        if (idx >= l->n || l->src[idx].gen != gen || l->src[idx].kind == SRC_FREE)
                return; /* removed earlier in this batch */
        struct src *s = &l->src[idx];
        switch (s->kind) {
        case SRC_TIMER: call_timer(l, s, ev->events); break;
        case SRC_SIGNAL: call_signals(l, idx, gen); break;
        case SRC_FD: s->fn(l, s->fd, ev->events, s->data); break;
        case SRC_FREE:
        default: break;
        }
}

int sbx_evloop_run(struct sbx_evloop *l)
{
        struct epoll_event ev[EVLOOP_BATCH];

        while (!l->quit) {
                int n = epoll_wait(l->epfd, ev, EVLOOP_BATCH, -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                for (int i = 0; i < n && !l->quit; i++)
                        dispatch(l, &ev[i]);
        }
        l->quit = false;
        return l->result;
}
