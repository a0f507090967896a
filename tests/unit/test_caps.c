/* Tests of the capability module. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/securebits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "sandboxctl/security.h"
#include "sec_child.h"

/* Binding a port below 1024 needs CAP_NET_BIND_SERVICE (in the network
 * namespace's owner, here the host's). */
static int bind_port_80(void)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        int r = bind(fd, (struct sockaddr *)&a, sizeof(a));
        int saved = errno;
        close(fd);
        if (r < 0 && saved == EADDRINUSE)
                return 0; /* the check for the capability came first and passed */
        errno = saved;
        return r;
}

Test(caps_names, known_names_any_case_and_prefix)
{
        cr_assert_eq(sbx_capability_check_name("net_bind_service", NULL), 0);
        cr_assert_eq(sbx_capability_check_name("CAP_NET_BIND_SERVICE", NULL), 0);
        cr_assert_eq(sbx_capability_check_name("Cap_Sys_Admin", NULL), 0);
        cr_assert_eq(sbx_capability_check_name("chown", NULL), 0);
}

Test(caps_names, unknown_name_rejected)
{
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_capability_check_name("foo", &e), -EINVAL);
        cr_assert_not_null(e);
        cr_assert_eq(e->code, EINVAL);
        cr_assert_str_eq(e->message, "unknown capability 'foo'");
}

Test(caps_names, empty_and_odd_names_rejected)
{
        cr_assert_eq(sbx_capability_check_name("", NULL), -EINVAL);
        cr_assert_eq(sbx_capability_check_name("cap_", NULL), -EINVAL);
        cr_assert_eq(sbx_capability_check_name("net_bind_service,chown", NULL), -EINVAL);
        cr_assert_eq(sbx_capability_check_name("all", NULL), -EINVAL);
}

/* ---- applying (as root, in a child) ---- */

#define STRV(...)                                                     \
        ((struct sbx_strv){ .items = (char *[]){ __VA_ARGS__, NULL }, \
                            .n = sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *) })
#define STRV_EMPTY ((struct sbx_strv){ .items = (char *[]){ NULL }, .n = 0 })

static void need_root(void)
{
        if (geteuid() != 0)
                cr_skip_test("needs root (capabilities can only be dropped from a full set)");
}

/* Apply, report the securebits, then exec grep on our own status. */
static int child_apply_and_exec(void *arg)
{
        const struct sbx_spec *spec = arg;
        sbx_error *e = NULL;
        if (sbx_caps_apply(spec, &e) < 0) {
                sec_report("apply failed: %s", e ? e->message : "?");
                return 100;
        }
        sec_report("securebits 0x%x", (unsigned)prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
        execve("/bin/grep", (char *const[]){ "/bin/grep", "^Cap", "/proc/self/status", NULL },
               (char *const[]){ NULL });
        sec_report("execve: %s", strerror(errno));
        return 127;
}

/* Parse "CapXxx:\t%llx" lines into masks[0..4] = Inh, Prm, Eff, Bnd, Amb. */
static void parse_masks(const char *out, unsigned long long masks[5])
{
        static const char *const keys[5] = { "CapInh:", "CapPrm:", "CapEff:", "CapBnd:",
                                             "CapAmb:" };
        for (int i = 0; i < 5; i++) {
                const char *p = strstr(out, keys[i]);
                cr_assert_not_null(p, "no %s in: %s", keys[i], out);
                cr_assert_eq(sscanf(p + strlen(keys[i]), "%llx", &masks[i]), 1);
        }
}

static void run_apply(struct sbx_spec *spec, unsigned long long masks[5])
{
        struct sec_child_result res;
        sec_run_child(child_apply_and_exec, spec, &res);
        cr_assert_neq(res.status, -1, "child timed out");
        cr_assert(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0,
                  "child status 0x%x: %s", res.status, res.out);
        char expected[64];
        snprintf(expected, sizeof(expected), "securebits 0x%x\n",
                 (unsigned)(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
                            SECBIT_KEEP_CAPS_LOCKED));
        cr_assert(strncmp(res.out, expected, strlen(expected)) == 0, "%s", res.out);
        parse_masks(res.out, masks);
}

Test(caps_apply, empty_list_leaves_nothing_after_exec)
{
        need_root();
        struct sbx_spec spec = { 0 };
        spec.security.capabilities = STRV_EMPTY;
        unsigned long long m[5];
        run_apply(&spec, m);
        cr_assert_eq(m[0], 0, "CapInh %llx", m[0]);
        cr_assert_eq(m[1], 0, "CapPrm %llx", m[1]);
        cr_assert_eq(m[2], 0, "CapEff %llx", m[2]);
        cr_assert_eq(m[3], 0, "CapBnd %llx", m[3]);
        cr_assert_eq(m[4], 0, "CapAmb %llx", m[4]);
}

Test(caps_apply, kept_capability_survives_exec_alone)
{
        need_root();
        struct sbx_spec spec = { 0 };
        spec.security.capabilities = STRV("net_bind_service");
        unsigned long long m[5];
        const unsigned long long bit = 1ULL << CAP_NET_BIND_SERVICE;
        cr_assert_eq(bit, 0x400ULL);
        run_apply(&spec, m);
        cr_assert_eq(m[0], bit, "CapInh %llx", m[0]);
        cr_assert_eq(m[1], bit, "CapPrm %llx", m[1]);
        cr_assert_eq(m[2], bit, "CapEff %llx", m[2]);
        cr_assert_eq(m[3], bit, "CapBnd %llx", m[3]);
        cr_assert_eq(m[4], bit, "CapAmb %llx", m[4]);
}

static int child_try_regain(void *arg)
{
        sbx_error *e = NULL;
        if (sbx_caps_apply(arg, &e) < 0) {
                sec_report("apply failed: %s", e ? e->message : "?");
                return 100;
        }
        cap_t c = cap_get_proc();
        cap_value_t admin[1] = { CAP_SYS_ADMIN };
        cap_set_flag(c, CAP_PERMITTED, 1, admin, CAP_SET);
        cap_set_flag(c, CAP_EFFECTIVE, 1, admin, CAP_SET);
        sec_report_call("raise-sys_admin", cap_set_proc(c));
        cap_free(c);
        sec_report_call("unlock-noroot", prctl(PR_SET_SECUREBITS, 0, 0, 0, 0));
        sec_report_call("ambient-sys_admin",
                        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0));
        sec_report_call("bind-port-80", bind_port_80());
        return 0;
}

Test(caps_apply, dropped_capabilities_cannot_come_back)
{
        need_root();
        struct sbx_spec spec = { 0 };
        spec.security.capabilities = STRV("NET_BIND_SERVICE");
        struct sec_child_result res;
        sec_run_child(child_try_regain, &spec, &res);
        cr_assert(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0, "%s", res.out);
        cr_assert_str_eq(res.out, "raise-sys_admin EPERM\n"
                                  "unlock-noroot EPERM\n"
                                  "ambient-sys_admin EPERM\n"
                                  "bind-port-80 ok\n");
}

static int child_apply_unknown(void *arg)
{
        sbx_error *e = NULL;
        int r = sbx_caps_apply(arg, &e);
        sec_report("%d %s", r, e ? e->message : "");
        /* nothing was changed: the bounding set still holds CAP_SYS_ADMIN */
        sec_report("bounding sys_admin %d", prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0));
        return 0;
}

Test(caps_apply, unknown_name_rejected_before_any_change)
{
        need_root();
        struct sbx_spec spec = { 0 };
        spec.security.capabilities = STRV("chown", "foo");
        struct sec_child_result res;
        sec_run_child(child_apply_unknown, &spec, &res);
        cr_assert(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0, "%s", res.out);
        cr_assert_str_eq(res.out, "-22 capabilities: unknown capability 'foo'\n"
                                  "bounding sys_admin 1\n");
}

static int child_nnp(void *arg)
{
        (void)arg;
        sec_report("before %d", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
        sec_report_call("set", sbx_no_new_privs_set(NULL));
        sec_report("after %d", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
        return 0;
}

Test(no_new_privs, sets_the_flag)
{
        struct sec_child_result res;
        sec_run_child(child_nnp, NULL, &res);
        cr_assert(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0, "%s", res.out);
        cr_assert_str_eq(res.out, "before 0\nset ok\nafter 1\n");
}
