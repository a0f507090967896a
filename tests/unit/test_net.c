/* Tests of the loopback set-up: in a child with a private network namespace
 * (and a user namespace when not root). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "sandboxctl/net.h"
#include "sec_child.h"

static int lo_flags(void)
{
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr = { 0 };
        strcpy(ifr.ifr_name, "lo");
        int r = ioctl(fd, SIOCGIFFLAGS, &ifr);
        close(fd);
        return r < 0 ? -1 : ifr.ifr_flags;
}

/* Listen on 127.0.0.1 (any port), connect to it, accept. */
static const char *tcp_roundtrip(void)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
            getsockname(l, (struct sockaddr *)&a, &len) < 0)
                return strerrorname_np(errno);
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
                return strerrorname_np(errno);
        int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (s < 0 || write(c, "x", 1) != 1)
                return strerrorname_np(errno);
        char ch = 0;
        if (read(s, &ch, 1) != 1 || ch != 'x')
                return "read";
        close(s);
        close(c);
        close(l);
        return "ok";
}

static int child_loopback(void *arg)
{
        (void)arg;
        int flags = geteuid() == 0 ? CLONE_NEWNET : CLONE_NEWUSER | CLONE_NEWNET;
        if (unshare(flags) < 0) {
                sec_report("unshare: %s", strerror(errno));
                return 77;
        }
        int before = lo_flags();
        sec_report("before %s", before < 0 ? "error" : (before & IFF_UP) ? "up" : "down");
        sec_report("connect-before %s", tcp_roundtrip());
        sbx_error *e = NULL;
        if (sbx_net_loopback_up(&e) < 0) {
                sec_report("loopback_up: %s", e ? e->message : "?");
                return 1;
        }
        int after = lo_flags();
        sec_report("after %s", after < 0 ? "error" : (after & IFF_UP) ? "up" : "down");
        sec_report("connect-after %s", tcp_roundtrip());
        /* idempotent */
        sec_report("again %d", sbx_net_loopback_up(NULL));
        return 0;
}

Test(net, loopback_up_in_private_namespace)
{
        struct sec_child_result res;
        sec_run_child(child_loopback, NULL, &res);
        cr_assert_neq(res.status, -1, "child timed out");
        if (WIFEXITED(res.status) && WEXITSTATUS(res.status) == 77)
                cr_skip_test("cannot make a network namespace here (%s)", res.out);
        cr_assert(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0,
                  "child status 0x%x: %s", res.status, res.out);
        cr_assert_str_eq(res.out, "before down\n"
                                  "connect-before ENETUNREACH\n"
                                  "after up\n"
                                  "connect-after ok\n"
                                  "again 0\n");
}

static int child_no_cap(void *arg)
{
        (void)arg;
        if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0)
                return 77;
        cap_t c = cap_get_proc();
        cap_value_t na[1] = { CAP_NET_ADMIN };
        cap_set_flag(c, CAP_EFFECTIVE, 1, na, CAP_CLEAR);
        cap_set_flag(c, CAP_PERMITTED, 1, na, CAP_CLEAR);
        int r = cap_set_proc(c);
        cap_free(c);
        if (r < 0)
                return 2;
        sbx_error *e = NULL;
        r = sbx_net_loopback_up(&e);
        sec_report("%d %d %s", r, e ? e->code : 0, e ? e->message : "");
        return 0;
}

Test(net, error_without_cap_net_admin)
{
        struct sec_child_result res;
        sec_run_child(child_no_cap, NULL, &res);
        if (WIFEXITED(res.status) && WEXITSTATUS(res.status) == 77)
                cr_skip_test("needs root to make a network namespace and drop CAP_NET_ADMIN");
        cr_assert(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0,
                  "child status 0x%x: %s", res.status, res.out);
        cr_assert_str_eq(res.out, "-1 1 bring up lo: set link lo up: Operation not permitted\n");
}
