/* evloop: fd sources, removal inside a batch, timers, signals, quit. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sandboxctl/evloop.h"

struct counts {
        int timer, sig;
        int last_sig;
};

struct pair {
        int *calls;
        int other_fd; /* removed by whichever of the two runs first */
};

static void on_pipe(struct sbx_evloop *l, int fd, uint32_t events, void *data)
{
        struct pair *p = data;
        char buf[8];

        (void)events;
        (*p->calls)++;
        cr_assert_eq(read(fd, buf, sizeof(buf)), 1);
        sbx_evloop_remove(l, p->other_fd);
        sbx_evloop_remove(l, fd);
        sbx_evloop_quit(l, 7);
}

Test(evloop, removed_source_is_not_called_in_the_same_batch)
{
        struct sbx_evloop *l = NULL;
        int calls = 0, p[2], q[2];

        cr_assert_eq(sbx_evloop_new(&l, NULL), 0);
        cr_assert_eq(pipe(p), 0);
        cr_assert_eq(pipe(q), 0);
        struct pair a = { &calls, q[0] }, b = { &calls, p[0] };
        cr_assert_eq(sbx_evloop_add(l, p[0], EPOLLIN, on_pipe, &a, NULL), 0);
        cr_assert_eq(sbx_evloop_add(l, q[0], EPOLLIN, on_pipe, &b, NULL), 0);
        cr_assert_eq(sbx_evloop_add(l, q[0], EPOLLIN, on_pipe, &b, NULL), -EEXIST);
        /* Both readable before the loop waits: one batch holds both. */
        cr_assert_eq(write(p[1], "x", 1), 1);
        cr_assert_eq(write(q[1], "y", 1), 1);
        cr_assert_eq(sbx_evloop_run(l), 7);
        cr_assert_eq(calls, 1);
        cr_assert(!sbx_evloop_has(l, p[0]) && !sbx_evloop_has(l, q[0]));
        /* The freed slots are reused. */
        cr_assert_eq(sbx_evloop_add(l, p[0], EPOLLIN, on_pipe, &a, NULL), 0);
        a.other_fd = -1;
        cr_assert_eq(write(p[1], "z", 1), 1);
        cr_assert_eq(sbx_evloop_run(l), 7);
        cr_assert_eq(calls, 2);
        sbx_evloop_free(l);
        close(p[0]);
        close(p[1]);
        close(q[0]);
        close(q[1]);
}

static void on_timer(struct sbx_evloop *l, int fd, uint32_t events, void *data)
{
        struct counts *c = data;

        (void)fd;
        (void)events;
        if (++c->timer == 3)
                sbx_evloop_quit(l, 0);
}

Test(evloop, periodic_timer_fires_until_quit)
{
        struct sbx_evloop *l = NULL;
        struct counts c = { 0 };

        cr_assert_eq(sbx_evloop_new(&l, NULL), 0);
        int t = sbx_evloop_timer(l, on_timer, &c, NULL);
        cr_assert_geq(t, 0);
        cr_assert_eq(sbx_timer_arm(t, 1, 1), 0);
        cr_assert_eq(sbx_evloop_run(l), 0);
        cr_assert_eq(c.timer, 3);
        sbx_evloop_free(l); /* closes t */
}

static int disarm_calls;

static void on_disarm(struct sbx_evloop *l, int fd, uint32_t events, void *data)
{
        int *t = data;

        (void)l;
        (void)fd;
        (void)events;
        disarm_calls++;
        /* Disarming clears the count: the other timer, already due in this
         * batch, must not be called. */
        sbx_timer_arm(*t, 0, 0);
}

static void on_guard(struct sbx_evloop *l, int fd, uint32_t events, void *data)
{
        (void)fd;
        (void)events;
        (void)data;
        sbx_evloop_quit(l, 0);
}

Test(evloop, disarmed_timer_is_not_called)
{
        struct sbx_evloop *l = NULL;
        int t1, t2;

        cr_assert_eq(sbx_evloop_new(&l, NULL), 0);
        t1 = sbx_evloop_timer(l, on_disarm, &t2, NULL);
        t2 = sbx_evloop_timer(l, on_disarm, &t1, NULL);
        cr_assert(t1 >= 0 && t2 >= 0);
        cr_assert_eq(sbx_timer_arm(t1, 1, 0), 0);
        cr_assert_eq(sbx_timer_arm(t2, 1, 0), 0);
        usleep(5000); /* both due before the first epoll_wait */
        /* The guard ends the loop well after both would have fired. */
        int g = sbx_evloop_timer(l, on_guard, NULL, NULL);
        cr_assert_eq(sbx_timer_arm(g, 50, 0), 0);
        cr_assert_eq(sbx_evloop_run(l), 0);
        cr_assert_eq(disarm_calls, 1);
        sbx_evloop_free(l);
}

static void on_signal(struct sbx_evloop *l, int fd, uint32_t signo, void *data)
{
        struct counts *c = data;

        (void)fd;
        c->sig++;
        c->last_sig = (int)signo;
        sbx_evloop_quit(l, 0);
}

Test(evloop, signal_source_gets_the_signal_number)
{
        struct sbx_evloop *l = NULL;
        struct counts c = { 0 };
        sigset_t set, old;

        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, &old);
        cr_assert_eq(sbx_evloop_new(&l, NULL), 0);
        cr_assert_geq(sbx_evloop_signals(l, &set, on_signal, &c, NULL), 0);
        cr_assert_eq(kill(getpid(), SIGUSR1), 0);
        cr_assert_eq(sbx_evloop_run(l), 0);
        cr_assert_eq(c.sig, 1);
        cr_assert_eq(c.last_sig, SIGUSR1);
        sbx_evloop_free(l);
        sigprocmask(SIG_SETMASK, &old, NULL);
}

Test(evloop, fd_closed_without_removal_can_be_added_again)
{
        struct sbx_evloop *l = NULL;
        int calls = 0, p[2], q[2];

        cr_assert_eq(sbx_evloop_new(&l, NULL), 0);
        cr_assert_eq(pipe(p), 0);
        struct pair a = { &calls, -1 };
        cr_assert_eq(sbx_evloop_add(l, p[0], EPOLLIN, on_pipe, &a, NULL), 0);
        close(p[0]); /* epoll forgets it; the loop learns it on the next add */
        cr_assert_eq(pipe(q), 0);
        cr_assert_eq(q[0], p[0], "the lowest free fd number is reused");
        cr_assert_eq(sbx_evloop_add(l, q[0], EPOLLIN, on_pipe, &a, NULL), 0);
        cr_assert_eq(write(q[1], "x", 1), 1);
        cr_assert_eq(sbx_evloop_run(l), 7);
        cr_assert_eq(calls, 1);
        sbx_evloop_free(l);
        close(p[1]);
        close(q[1]);
}
