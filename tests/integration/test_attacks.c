/* test_attacks: escape attempts from inside a medium-profile sandbox, as
 * root. Every one must be refused, and each test asserts the exact refusal
 * (the errno name printed by progs/attack, or the exit status). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "run_helpers.h"

static void attack_setup(void)
{
        rt_setup();
        rt_install_attack("attack", 0755);
}

TestSuite(attacks, .init = attack_setup, .fini = rt_teardown, .timeout = 60);

/* Run ./attack ARGS in the workspace; return its stdout. */
static char *attack(const char *args)
{
        char script[512];
        struct run_result r;
        snprintf(script, sizeof(script), "exec ./attack %s", args);
        cr_assert_eq(rt_run_sh(&r, script, "--workspace", rt_workspace(), NULL), 0);
        cr_expect_eq(r.exit_code, 0, "attack %s: exit %d, stderr: %s", args, r.exit_code, r.err);
        free(r.err);
        return r.out;
}

static void expect_refused(const char *args, const char *expected)
{
        char *out = attack(args);
        cr_expect_str_eq(out, expected, "attack %s", args);
        free(out);
}

Test(attacks, mount_tmpfs)
{
        expect_refused("mount /tmp", "EPERM\n");
}

Test(attacks, write_under_usr)
{
        expect_refused("write /usr/pwned", "EROFS\n");
        cr_expect_neq(access("/usr/pwned", F_OK), 0);
}

Test(attacks, read_etc_shadow)
{
        expect_refused("read /etc/shadow", "ENOENT\n");
}

Test(attacks, see_a_host_process)
{
        char args[64];
        snprintf(args, sizeof(args), "read /proc/%d/status", (int)getpid());
        expect_refused(args, "ENOENT\n");
}

Test(attacks, kill_a_host_process)
{
        char *argv[] = { "sleep", "30", NULL };
        int out;
        pid_t victim = rt_spawn(argv, -1, &out);
        char args[64];
        snprintf(args, sizeof(args), "kill %d", (int)victim);
        expect_refused(args, "ESRCH\n");
        cr_expect_eq(kill(victim, 0), 0, "the victim is gone");
        kill(victim, SIGKILL);
        rt_wait_pid(victim, 10, NULL);
        close(out);
}

Test(attacks, change_the_hostname)
{
        char before[256], after[256];
        gethostname(before, sizeof(before));
        expect_refused("sethostname pwned", "EPERM\n");
        gethostname(after, sizeof(after));
        cr_expect_str_eq(after, before);
}

/* A non-loopback IPv4 address of the host, or false. */
static bool host_address(char *buf, size_t len)
{
        struct ifaddrs *ifa, *i;
        bool found = false;
        if (getifaddrs(&ifa) < 0)
                return false;
        for (i = ifa; i && !found; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
                        continue;
                struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
                if ((ntohl(a.s_addr) >> 24) == 127)
                        continue;
                found = inet_ntop(AF_INET, &a, buf, (socklen_t)len) != NULL;
        }
        freeifaddrs(ifa);
        return found;
}

Test(attacks, connect_to_the_host_in_none_mode)
{
        char addr[64], args[128];
        SBX_TEST_SKIP_IF(!host_address(addr, sizeof(addr)), "the host has no IPv4 address");
        snprintf(args, sizeof(args), "connect %s 22", addr);
        expect_refused(args, "ENETUNREACH\n");
}

Test(attacks, raw_socket)
{
        expect_refused("raw-socket", "EPERM\n");
}

Test(attacks, load_a_kernel_module)
{
        expect_refused("init_module", "EPERM\n");
}

Test(attacks, write_sysrq_trigger)
{
        /* Masked by a read-only empty file: EROFS. A kernel without
         * CONFIG_MAGIC_SYSRQ has no such file at all, inside or out. */
        bool host_has_it = access("/proc/sysrq-trigger", F_OK) == 0;
        expect_refused("write /proc/sysrq-trigger", host_has_it ? "EROFS\n" : "ENOENT\n");
}

Test(attacks, ptrace_the_sandbox_init)
{
        /* The init is not dumpable: not even its own sandbox can trace it. */
        expect_refused("ptrace 1", "EPERM\n");
}

Test(attacks, new_user_namespace)
{
        /* medium: no nested user namespace, the way to nf_tables and mounts */
        expect_refused("unshare-user", "EPERM\n");
}

Test(attacks, kernel_attack_surface_calls)
{
        expect_refused("bpf", "EPERM\n");
        expect_refused("perf_event_open", "EPERM\n");
        expect_refused("keyctl", "EPERM\n");
        /* "shocker": a file handle reaches files outside the mount view */
        expect_refused("open_by_handle_at", "EPERM\n");
}

Test(attacks, write_proc_and_sys)
{
        expect_refused("write /proc/sys/kernel/core_pattern", "EROFS\n");
        expect_refused("write /proc/sys/vm/drop_caches", "EROFS\n");
        expect_refused("write /sys/kernel/uevent_helper", "EROFS\n");
        /* The sandbox's fresh sysfs has no cgroup file system mounted: there
         * is no cgroup.procs to move a process out through. */
        expect_refused("write /sys/fs/cgroup/cgroup.procs", "ENOENT\n");
}

Test(attacks, fork_bomb_stops_at_the_pids_limit)
{
        struct run_result r;
        /* medium: pids 100, of which the shell-less attack and init use 2 */
        cr_assert_eq(rt_run_sh(&r, "exec ./attack forkbomb 300", "--workspace", rt_workspace(),
                               NULL), 0);
        cr_expect_eq(r.exit_code, 0, "stderr: %s", r.err);
        cr_expect_str_eq(r.out, "EAGAIN 98\n");
        cr_expect(strstr(r.err, "sandboxctl: pids limit 100 reached: ") != NULL, "stderr: %s",
                  r.err);
        sbx_test_result_free(&r);
}

Test(attacks, memory_hog_is_killed_at_the_limit)
{
        struct run_result r;
        /* medium: memory 128M, no swap */
        cr_assert_eq(rt_run_sh(&r, "exec ./attack memhog 400", "--workspace", rt_workspace(),
                               NULL), 0);
        cr_expect_eq(r.exit_code, 128 + SIGKILL, "stderr: %s", r.err);
        cr_expect_str_empty(r.out);
        cr_expect_str_eq(r.err, "sandboxctl: memory limit 128M reached: process killed by the "
                                "OOM killer\n");
        sbx_test_result_free(&r);
}

Test(attacks, create_a_device_node)
{
        expect_refused("mknod /tmp/null", "EPERM\n");
}

Test(attacks, exceed_open_files)
{
        /* medium: open_files 1024 */
        expect_refused("emfile", "EMFILE 1024\n");
}

Test(attacks, leaked_fd)
{
        char secret[512], script[1024];
        snprintf(secret, sizeof(secret), "%s/../sbx-secret-%d", rt_workspace(), (int)getpid());
        FILE *f = fopen(secret, "we");
        cr_assert_not_null(f);
        fputs("top secret\n", f);
        fclose(f);
        /* The shell opens fd 9 without O_CLOEXEC, then becomes sandboxctl. */
        snprintf(script, sizeof(script),
                 "exec 9<'%s'; exec '%s' run --workspace '%s' -- sh -c "
                 "'./attack fd 9; ls /proc/self/fd | tr \"\\n\" \" \"'",
                 secret, sbx_test_binary(), rt_workspace());
        char *argv[] = { "sh", "-c", script, NULL };
        struct run_result r;
        cr_assert_eq(sbx_test_run(argv, NULL, 30, &r), 0);
        unlink(secret);
        /* ls lists 0 1 2 and its own directory fd (3). */
        cr_expect_str_eq(r.out, "EBADF\n0 1 2 3 ", "stderr: %s", r.err);
        sbx_test_result_free(&r);
}

Test(attacks, tiocsti_into_the_terminal)
{
        int master, slave;
        cr_assert_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
        char *argv[] = { (char *)sbx_test_binary(), "run", "--workspace", (char *)rt_workspace(),
                         "--", "./attack", "tiocsti", NULL };
        int out;
        pid_t pid = rt_spawn(argv, slave, &out);
        close(slave);
        char buf[256] = "";
        rt_read_until(out, "\n", buf, sizeof(buf), 20);
        int status;
        cr_assert(rt_wait_pid(pid, 20, &status));
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
        cr_expect_str_eq(buf, "EPERM\n");
        close(out);
        close(master);
}

static void expect_no_privileges(const char *prog)
{
        char script[256];
        struct run_result r;
        snprintf(script, sizeof(script), "./%s status | grep -E '^(CapEff|CapPrm|NoNewPrivs)'",
                 prog);
        cr_assert_eq(rt_run_sh(&r, script, "--workspace", rt_workspace(), NULL), 0);
        cr_expect_str_eq(r.out, "CapPrm:\t0000000000000000\n"
                                "CapEff:\t0000000000000000\n"
                                "NoNewPrivs:\t1\n",
                         "%s: stderr: %s", prog, r.err);
        sbx_test_result_free(&r);
}

Test(attacks, setuid_binary_gains_nothing)
{
        rt_install_attack("attack-suid", 04755);
        expect_no_privileges("attack-suid");
}

/* A binary whose file capabilities cannot all be granted (the bounding set
 * is empty) is refused by execve() itself. */
Test(attacks, file_capability_binary_is_refused)
{
        char path[512];
        rt_install_attack("attack-fcap", 0755);
        snprintf(path, sizeof(path), "%s/attack-fcap", rt_workspace());
        cap_t caps = cap_from_text("cap_sys_admin,cap_net_raw,cap_sys_module+ep");
        cr_assert_not_null(caps);
        cr_assert_eq(cap_set_file(path, caps), 0, "cap_set_file: %s", strerror(errno));
        cap_free(caps);
        struct run_result r;
        cr_assert_eq(sbx_test_run_sbx(30, &r, "run", "--workspace", rt_workspace(), "--",
                                      "./attack-fcap", "status", NULL), 0);
        cr_expect_eq(r.exit_code, 126);
        cr_expect_str_eq(r.err, "sandboxctl: exec ./attack-fcap: Operation not permitted\n");
        cr_expect_str_empty(r.out);
        sbx_test_result_free(&r);
}

Test(attacks, no_capabilities_at_all)
{
        char *out = attack("status");
        cr_expect(strstr(out, "CapInh:\t0000000000000000\n"
                              "CapPrm:\t0000000000000000\n"
                              "CapEff:\t0000000000000000\n"
                              "CapBnd:\t0000000000000000\n"
                              "CapAmb:\t0000000000000000\n") != NULL,
                  "status: %s", out);
        free(out);
}

SBX_TEST_MAIN(SBX_NEED_ROOT)
