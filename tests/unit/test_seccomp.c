/* Tests of the seccomp module: every filter is loaded in a forked child,
 * which reports each call's result ("name ok" or "name ERRNO") on its
 * stdout; the parent compares the whole report. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "sandboxctl/security.h"
#include "sec_child.h"

#define STRV(...)                                                     \
        ((struct sbx_strv){ .items = (char *[]){ __VA_ARGS__, NULL }, \
                            .n = sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *) })

static struct sbx_spec make_spec(enum sbx_seccomp_mode mode, enum sbx_isolation_level level)
{
        struct sbx_spec s = { 0 };
        s.security.seccomp = mode;
        s.isolation.level = level;
        return s;
}

/* Load the filter of spec in the child; exit 100 if that fails. */
/* When set, children load this prebuilt program instead of calling
 * sbx_seccomp_load(). */
static struct sbx_seccomp_prog *g_prog;

static void child_load(const struct sbx_spec *spec)
{
        sbx_error *e = NULL;
        if (g_prog ? sbx_seccomp_load_prog(g_prog, &e) < 0 : sbx_seccomp_load(spec, &e) < 0) {
                sec_report("load failed: %s", e ? e->message : "?");
                _exit(100);
        }
}

static void assert_exit0(const struct sec_child_result *res)
{
        cr_assert_neq(res->status, -1, "child timed out; output: %s", res->out);
        cr_assert(WIFEXITED(res->status) && WEXITSTATUS(res->status) == 0,
                  "child status 0x%x; output: %s", res->status, res->out);
}

static void assert_sigsys(const struct sec_child_result *res)
{
        cr_assert_neq(res->status, -1, "child timed out; output: %s", res->out);
        cr_assert(WIFSIGNALED(res->status), "child was not killed (status 0x%x); output: %s",
                  res->status, res->out);
        cr_assert_eq(WTERMSIG(res->status), SIGSYS, "killed by signal %d, not SIGSYS",
                     WTERMSIG(res->status));
}

/* ---- names ---- */

Test(seccomp_names, known_syscalls)
{
        cr_assert_eq(sbx_syscall_check_name("mount", NULL), 0);
        cr_assert_eq(sbx_syscall_check_name("openat", NULL), 0);
        cr_assert_eq(sbx_syscall_check_name("clone3", NULL), 0);
}

Test(seccomp_names, unknown_syscall_rejected)
{
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_syscall_check_name("foo", &e), -EINVAL);
        cr_assert_not_null(e);
        cr_assert_eq(e->code, EINVAL);
        cr_assert_str_eq(e->message, "unknown syscall 'foo'");
        cr_assert_eq(sbx_syscall_check_name("", NULL), -EINVAL);
}

/* ---- default mode ---- */

static int open_pty(void)
{
        int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
                return -1;
        return m;
}

static void report_tty_ioctls(int fd)
{
        char c = 'x';
        struct winsize ws;
        char sel = 0; /* TIOCLINUX subcode 0: a harmless one, still refused */

        sec_report_call("TIOCSTI", ioctl(fd, TIOCSTI, &c));
        /* junk in the high half of cmd must not get past the filter */
        sec_report_call("TIOCSTI-hi", syscall(SYS_ioctl, fd, (1UL << 32) | TIOCSTI, &c));
        sec_report_call("TIOCLINUX", ioctl(fd, TIOCLINUX, &sel));
        sec_report_call("TIOCGWINSZ", ioctl(fd, TIOCGWINSZ, &ws));
}

static int child_default_blocked(void *arg)
{
        const struct sbx_spec *spec = arg;
        int pty = open_pty();
        if (pty < 0) {
                sec_report("openpt failed");
                return 1;
        }
        pid_t pid = getpid();
        child_load(spec);
        sec_report_call("mount", mount("none", "/nonexistent/sbx", "tmpfs", 0, NULL));
        sec_report_call("umount2", umount2("/nonexistent/sbx", 0));
        sec_report_call("pivot_root", syscall(SYS_pivot_root, "/nonexistent", "/nonexistent"));
        sec_report_call("bpf", syscall(SYS_bpf, 0, NULL, 0));
        sec_report_call("keyctl", syscall(SYS_keyctl, 0, 0, 0, 0, 0));
        sec_report_call("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
        sec_report_call("userfaultfd", syscall(SYS_userfaultfd, 0));
        sec_report_call("init_module", syscall(SYS_init_module, NULL, 0, ""));
        sec_report_call("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
        sec_report_call("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0));
        sec_report_call("clock_settime", syscall(SYS_clock_settime, CLOCK_REALTIME, NULL));
        report_tty_ioctls(pty);
        sec_report_call("personality-query", personality(0xffffffff));
        sec_report_call("personality-linux", personality(PER_LINUX));
        sec_report_call("personality-norandom", personality(ADDR_NO_RANDOMIZE));
        sec_report_call("personality-hi", syscall(SYS_personality, (1UL << 32) | PER_LINUX));
        sec_report("getpid %s", getpid() == pid ? "same" : "differs");
        return 0;
}

static const char default_blocked_expected[] = "mount EPERM\n"
                                               "umount2 EPERM\n"
                                               "pivot_root EPERM\n"
                                               "bpf EPERM\n"
                                               "keyctl EPERM\n"
                                               "perf_event_open EPERM\n"
                                               "userfaultfd EPERM\n"
                                               "init_module EPERM\n"
                                               "io_uring_setup EPERM\n"
                                               "open_by_handle_at EPERM\n"
                                               "clock_settime EPERM\n"
                                               "TIOCSTI EPERM\n"
                                               "TIOCSTI-hi EPERM\n"
                                               "TIOCLINUX EPERM\n"
                                               "TIOCGWINSZ ok\n"
                                               "personality-query ok\n"
                                               "personality-linux ok\n"
                                               "personality-norandom EPERM\n"
                                               "personality-hi ok\n"
                                               "getpid same\n";

Test(seccomp_default, blocks_the_listed_calls_with_eperm)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_DEFAULT, SBX_ISOLATION_MEDIUM);
        struct sec_child_result res;
        sec_run_child(child_default_blocked, &spec, &res);
        assert_exit0(&res);
        cr_assert_str_eq(res.out, default_blocked_expected);
}

static int child_status(void *arg)
{
        child_load(arg);
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        while (f && fgets(line, sizeof(line), f)) {
                if (strncmp(line, "Seccomp:", 8) == 0 || strncmp(line, "NoNewPrivs:", 11) == 0)
                        sec_report("%.*s", (int)strcspn(line, "\n"), line);
        }
        return 0;
}

Test(seccomp_default, filter_mode_and_no_new_privs)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_DEFAULT, SBX_ISOLATION_MEDIUM);
        struct sec_child_result res;
        sec_run_child(child_status, &spec, &res);
        assert_exit0(&res);
        cr_assert_str_eq(res.out, "NoNewPrivs:\t1\nSeccomp:\t2\n");
}

static void assert_prog_is_export(enum sbx_seccomp_mode mode, enum sbx_isolation_level level)
{
        struct sbx_spec spec = make_spec(mode, level);
        struct sbx_seccomp_prog prog;
        sbx_error *e = NULL;
        cr_assert_eq(sbx_seccomp_prepare(&spec, &prog, &e), 0, "%s", e ? e->message : "");
        int fd = memfd_create("export", MFD_CLOEXEC);
        cr_assert_geq(fd, 0);
        cr_assert_eq(sbx_seccomp_export(&spec, fd, false, &e), 0, "%s", e ? e->message : "");
        off_t size = lseek(fd, 0, SEEK_END);
        cr_assert_gt(prog.len, 10);
        cr_assert_eq((size_t)size, prog.len * 8, "export %lld bytes, prebuilt %zu insns",
                     (long long)size, prog.len);
        char *bytes = malloc((size_t)size);
        cr_assert_eq(pread(fd, bytes, (size_t)size, 0), size);
        cr_assert_eq(memcmp(bytes, prog.insns, (size_t)size), 0, "programs differ");
        free(bytes);
        close(fd);
        sbx_seccomp_prog_clear(&prog);
        cr_assert_eq(prog.len, 0);
}

/* The prebuilt program is libseccomp's own BPF, instruction for
 * instruction, for every filter kind. */
Test(seccomp_prog, prebuilt_equals_libseccomp_bpf)
{
        assert_prog_is_export(SBX_SECCOMP_DEFAULT, SBX_ISOLATION_MEDIUM);
        assert_prog_is_export(SBX_SECCOMP_DEFAULT, SBX_ISOLATION_STRICT);
        assert_prog_is_export(SBX_SECCOMP_STRICT, SBX_ISOLATION_STRICT);
}

Test(seccomp_prog, none_is_empty_and_loads_nothing)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_NONE, SBX_ISOLATION_MEDIUM);
        struct sbx_seccomp_prog prog = { .len = 7 };
        cr_assert_eq(sbx_seccomp_prepare(&spec, &prog, NULL), 0);
        cr_assert_eq(prog.len, 0);
        cr_assert_null(prog.insns);
        g_prog = &prog;
        struct sec_child_result res;
        sec_run_child(child_status, &spec, &res);
        g_prog = NULL;
        assert_exit0(&res);
        cr_assert_str_eq(res.out, "NoNewPrivs:\t0\nSeccomp:\t0\n");
}

/* Loaded with the raw seccomp() call, it blocks what libseccomp's load
 * blocks, with no_new_privs set. */
Test(seccomp_prog, raw_load_blocks_the_same_calls)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_DEFAULT, SBX_ISOLATION_MEDIUM);
        struct sbx_seccomp_prog prog;
        cr_assert_eq(sbx_seccomp_prepare(&spec, &prog, NULL), 0);
        g_prog = &prog;
        struct sec_child_result res, st;
        sec_run_child(child_default_blocked, &spec, &res);
        sec_run_child(child_status, &spec, &st);
        g_prog = NULL;
        sbx_seccomp_prog_clear(&prog);
        assert_exit0(&res);
        cr_assert_str_eq(res.out, default_blocked_expected);
        assert_exit0(&st);
        cr_assert_str_eq(st.out, "NoNewPrivs:\t1\nSeccomp:\t2\n");
}

Test(seccomp_none, loads_nothing)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_NONE, SBX_ISOLATION_MEDIUM);
        struct sec_child_result res;
        sec_run_child(child_status, &spec, &res);
        assert_exit0(&res);
        cr_assert_str_eq(res.out, "NoNewPrivs:\t0\nSeccomp:\t0\n");
}

static int child_medium_level(void *arg)
{
        child_load(arg);
        sec_report_call("ptrace", syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL));
        sec_report_call("unshare-user", unshare(CLONE_NEWUSER));
        sec_report_call("clone-user", syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
        sec_report_call("clone3", syscall(SYS_clone3, NULL, 0));
        sec_report_call("setns", setns(-1, 0));
        return 0;
}

Test(seccomp_default, medium_level_blocks_user_namespaces_keeps_ptrace)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_DEFAULT, SBX_ISOLATION_MEDIUM);
        struct sec_child_result res;
        sec_run_child(child_medium_level, &spec, &res);
        assert_exit0(&res);
        /* setns(-1) reaches the kernel, which rejects the fd */
        cr_assert_str_eq(res.out, "ptrace ok\n"
                                  "unshare-user EPERM\n"
                                  "clone-user EPERM\n"
                                  "clone3 ENOSYS\n"
                                  "setns EBADF\n");
}

static int child_relaxed_level(void *arg)
{
        child_load(arg);
        sec_report_call("ptrace", syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL));
        sec_report_call("clone3", syscall(SYS_clone3, NULL, 0));
        return 0;
}

Test(seccomp_default, relaxed_level_keeps_ptrace_and_clone3)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_DEFAULT, SBX_ISOLATION_RELAXED);
        struct sec_child_result res;
        sec_run_child(child_relaxed_level, &spec, &res);
        assert_exit0(&res);
        /* clone3(NULL, 0) reaches the kernel, which rejects the size */
        cr_assert_str_eq(res.out, "ptrace ok\nclone3 EINVAL\n");
}

static int child_strict_level(void *arg)
{
        child_load(arg);
        sec_report_call("unshare-user", unshare(CLONE_NEWUSER));
        sec_report_call("unshare-user-hi", syscall(SYS_unshare, CLONE_NEWUSER | (1UL << 40)));
        sec_report_call("clone-user", syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
        sec_report_call("clone3", syscall(SYS_clone3, NULL, 0));
        sec_report_call("setns", setns(-1, 0));
        sec_report_call("ptrace", syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL));
        pid_t pid = fork();
        if (pid == 0)
                _exit(7);
        int st = 0;
        waitpid(pid, &st, 0);
        sec_report("fork %s", pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 7 ? "ok" : "bad");
        return 0;
}

Test(seccomp_default, strict_level_blocks_user_namespaces)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_DEFAULT, SBX_ISOLATION_STRICT);
        struct sec_child_result res;
        sec_run_child(child_strict_level, &spec, &res);
        assert_exit0(&res);
        cr_assert_str_eq(res.out, "unshare-user EPERM\n"
                                  "unshare-user-hi EPERM\n"
                                  "clone-user EPERM\n"
                                  "clone3 ENOSYS\n"
                                  "setns EPERM\n"
                                  "ptrace EPERM\n"
                                  "fork ok\n");
}

/* ---- foreign architectures ---- */

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

static int child_x32(void *arg)
{
        if (arg)
                child_load(arg);
        sec_report_call("x32-getpid", syscall(__X32_SYSCALL_BIT | SYS_getpid));
        return 0;
}

Test(seccomp_arch, x32_syscall_kills_with_sigsys)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_DEFAULT, SBX_ISOLATION_MEDIUM);
        struct sec_child_result res;
        sec_run_child(child_x32, &spec, &res);
        assert_sigsys(&res);
        cr_assert_str_eq(res.out, "");
}

static long i386_getpid(void)
{
        long ret = 20; /* __NR_getpid on i386 */
        __asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
        return ret;
}

static int child_i386(void *arg)
{
        if (arg)
                child_load(arg);
        long r = i386_getpid();
        sec_report("i386-getpid %s", r == getpid() ? "ok" : "bad");
        return 0;
}

Test(seccomp_arch, i386_int80_kills_with_sigsys)
{
        struct sec_child_result res;
        sec_run_child(child_i386, NULL, &res); /* can this host run i386 calls at all? */
        if (res.status == -1 || !WIFEXITED(res.status) || strcmp(res.out, "i386-getpid ok\n"))
                cr_skip_test("this kernel does not run i386 system calls (no IA32 emulation)");

        struct sbx_spec spec = make_spec(SBX_SECCOMP_DEFAULT, SBX_ISOLATION_MEDIUM);
        sec_run_child(child_i386, &spec, &res);
        assert_sigsys(&res);
        cr_assert_str_eq(res.out, "");
}

Test(seccomp_arch, i386_int80_kills_under_strict_too)
{
        struct sec_child_result res;
        sec_run_child(child_i386, NULL, &res);
        if (res.status == -1 || !WIFEXITED(res.status) || strcmp(res.out, "i386-getpid ok\n"))
                cr_skip_test("this kernel does not run i386 system calls (no IA32 emulation)");

        struct sbx_spec spec = make_spec(SBX_SECCOMP_STRICT, SBX_ISOLATION_STRICT);
        sec_run_child(child_i386, &spec, &res);
        assert_sigsys(&res);
}

/* ---- strict mode ---- */

static int child_strict_calls(void *arg)
{
        child_load(arg);
        sec_report_call("unshare-user", unshare(CLONE_NEWUSER));
        sec_report_call("unshare-ns", unshare(CLONE_NEWNS));
        sec_report_call("socket-packet", socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
        sec_report_call("socket-netlink", socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0));
        sec_report_call("socket-packet-hi", syscall(SYS_socket, (1UL << 32) | AF_PACKET,
                                                    SOCK_RAW | SOCK_CLOEXEC, 0));
        sec_report_call("socket-inet", socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sec_report_call("socket-inet6", socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sec_report_call("socket-unix", socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sec_report_call("mount", mount("none", "/nonexistent/sbx", "tmpfs", 0, NULL));
        sec_report_call("clone-ns", syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0));
        sec_report_call("clone3", syscall(SYS_clone3, NULL, 0));
        sec_report_call("setns", setns(-1, 0));
        sec_report_call("ptrace", syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL));
        sec_report_call("getppid", syscall(SYS_getppid));
        return 0;
}

Test(seccomp_strict, allow_list_denies_the_rest)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_STRICT, SBX_ISOLATION_STRICT);
        struct sec_child_result res;
        sec_run_child(child_strict_calls, &spec, &res);
        assert_exit0(&res);
        cr_assert_str_eq(res.out, "unshare-user EPERM\n"
                                  "unshare-ns EPERM\n"
                                  "socket-packet EPERM\n"
                                  "socket-netlink EPERM\n"
                                  "socket-packet-hi EPERM\n"
                                  "socket-inet ok\n"
                                  "socket-inet6 ok\n"
                                  "socket-unix ok\n"
                                  "mount EPERM\n"
                                  "clone-ns EPERM\n"
                                  "clone3 ENOSYS\n"
                                  "setns EPERM\n"
                                  "ptrace EPERM\n"
                                  "getppid ok\n");
}

Test(seccomp_strict, tty_injection_denied_other_ioctls_work)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_STRICT, SBX_ISOLATION_STRICT);
        struct sec_child_result res;
        sec_run_child(child_default_blocked, &spec, &res);
        assert_exit0(&res);
        /* same report as default mode: everything listed there is off the
         * allow-list, the ioctl and personality rules are the same */
        cr_assert_str_eq(res.out, default_blocked_expected);
}

struct exec_args {
        const struct sbx_spec *spec;
        char *const *argv;
        char *const *envp;
};

static int child_exec(void *arg)
{
        const struct exec_args *a = arg;
        child_load(a->spec);
        execve(a->argv[0], a->argv, a->envp);
        sec_report("execve %s: %s", a->argv[0], strerror(errno));
        return 127;
}

static void run_strict(char *const *argv, char *const *envp, struct sec_child_result *res)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_STRICT, SBX_ISOLATION_STRICT);
        struct exec_args a = { &spec, argv, envp };
        if (access(argv[0], X_OK) < 0)
                cr_skip_test("%s is not installed", argv[0]);
        sec_run_child(child_exec, &a, res);
}

static char *const plain_env[] = { "PATH=/usr/bin:/bin", "A=1", NULL };

Test(seccomp_strict, runs_a_shell)
{
        struct sec_child_result res;
        run_strict((char *const[]){ "/bin/sh", "-c", "echo ok", NULL }, plain_env, &res);
        assert_exit0(&res);
        cr_assert_str_eq(res.out, "ok\n");
}

Test(seccomp_strict, runs_env)
{
        struct sec_child_result res;
        run_strict((char *const[]){ "/usr/bin/env", NULL }, (char *const[]){ "A=1", NULL },
                   &res);
        assert_exit0(&res);
        cr_assert_str_eq(res.out, "A=1\n");
}

Test(seccomp_strict, runs_busybox_pipeline)
{
        struct sec_child_result res;
        run_strict((char *const[]){ "/bin/busybox", "sh", "-c",
                                    "echo $((6*7)) | busybox tr 4 x; busybox ls /proc/self/fd >/dev/null",
                                    NULL },
                   plain_env, &res);
        assert_exit0(&res);
        cr_assert_str_eq(res.out, "x2\n");
}

Test(seccomp_strict, runs_python)
{
        struct sec_child_result res;
        run_strict((char *const[]){ "/usr/bin/python3", "-c",
                                    "import subprocess, json, socket, threading;"
                                    "print(json.dumps(subprocess.run(['echo', 'hi'], "
                                    "capture_output=True, text=True).stdout))",
                                    NULL },
                   plain_env, &res);
        assert_exit0(&res);
        cr_assert_str_eq(res.out, "\"hi\\n\"\n");
}

Test(seccomp_strict, runs_make_and_gcc)
{
        char dir[] = "/tmp/sbx-seccomp-XXXXXX";
        cr_assert_not_null(mkdtemp(dir));
        char script[512];
        snprintf(script, sizeof(script),
                 "cd %s && printf 'int main(void){return 3;}\\n' > t.c && "
                 "printf 't: t.c\\n\\tgcc -O1 -o t t.c\\n' > Makefile && make -s && "
                 "{ ./t; echo $?; }; rm -f t t.c Makefile",
                 dir);
        struct sec_child_result res;
        if (access("/usr/bin/make", X_OK) < 0 || access("/usr/bin/gcc", X_OK) < 0) {
                rmdir(dir);
                cr_skip_test("make or gcc is not installed");
        }
        run_strict((char *const[]){ "/bin/sh", "-c", script, NULL }, plain_env, &res);
        rmdir(dir);
        assert_exit0(&res);
        cr_assert_str_eq(res.out, "3\n");
}

/* ---- syscalls.allow / syscalls.deny ---- */

static int child_lists(void *arg)
{
        child_load(arg);
        sec_report_call("umount2", umount2("/nonexistent/sbx", 0));
        sec_report_call("getppid", syscall(SYS_getppid));
        sec_report_call("uname", syscall(SYS_uname, NULL));
        sec_report_call("socket-netlink", socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0));
        return 0;
}

Test(seccomp_lists, default_mode_allow_and_deny)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_DEFAULT, SBX_ISOLATION_MEDIUM);
        spec.security.syscalls_allow = STRV("umount2", "uname");
        spec.security.syscalls_deny = STRV("getppid", "uname");
        struct sec_child_result res;
        sec_run_child(child_lists, &spec, &res);
        assert_exit0(&res);
        /* umount2 allowed: the kernel answers; uname in both: deny wins */
        cr_assert_str_eq(res.out, "umount2 ENOENT\ngetppid EPERM\nuname EPERM\n"
                                  "socket-netlink ok\n");
}

Test(seccomp_lists, strict_mode_allow_widens_and_deny_narrows)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_STRICT, SBX_ISOLATION_STRICT);
        spec.security.syscalls_allow = STRV("umount2", "socket");
        spec.security.syscalls_deny = STRV("getppid");
        struct sec_child_result res;
        sec_run_child(child_lists, &spec, &res);
        assert_exit0(&res);
        /* allowing socket lifts its family filter too */
        cr_assert_str_eq(res.out, "umount2 ENOENT\ngetppid EPERM\nuname EFAULT\n"
                                  "socket-netlink ok\n");
}

Test(seccomp_lists, unknown_name_is_an_error)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_DEFAULT, SBX_ISOLATION_MEDIUM);
        spec.security.syscalls_deny = STRV("getpid", "nosuchcall");
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_seccomp_export(&spec, -1, true, &e), -EINVAL);
        cr_assert_str_eq(e->message, "syscalls.deny: unknown syscall 'nosuchcall'");
}

/* ---- file mode ---- */

static char *write_policy(const char *text)
{
        char *path = strdup("/tmp/sbx-seccomp-policy-XXXXXX");
        cr_assert_not_null(path);
        int fd = mkostemp(path, O_CLOEXEC);
        cr_assert_geq(fd, 0);
        cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        return path;
}

static int child_file(void *arg)
{
        child_load(arg);
        sec_report_call("getppid", syscall(SYS_getppid));
        sec_report_call("umount2", umount2("/nonexistent/sbx", 0));
        sec_report_call("getuid", syscall(SYS_getuid));
        return 0;
}

static void run_file(const char *text, struct sec_child_result *res)
{
        char *path = write_policy(text);
        struct sbx_spec spec = make_spec(SBX_SECCOMP_FILE, SBX_ISOLATION_MEDIUM);
        spec.security.seccomp_file = path;
        sec_run_child(child_file, &spec, res);
        unlink(path);
        free(path);
}

Test(seccomp_file, default_allow_with_denials)
{
        struct sec_child_result res;
        run_file("# a policy\n"
                 "default allow\n"
                 "deny getppid   # no parent\n"
                 "\n"
                 "  umount2\n",
                 &res);
        assert_exit0(&res);
        cr_assert_str_eq(res.out, "getppid EPERM\numount2 EPERM\ngetuid ok\n");
}

Test(seccomp_file, default_deny_with_allowances)
{
        struct sec_child_result res;
        /* deny wins inside the file too: getuid is both allowed and denied */
        run_file("allow write\n"
                 "allow exit_group\n"
                 "# what a sanitizer runtime may call on its way out\n"
                 "allow sigaltstack\nallow mmap\nallow munmap\nallow rt_sigprocmask\n"
                 "allow rt_sigaction\nallow madvise\n"
                 "getppid\n"
                 "allow getuid\n"
                 "deny getuid\n"
                 "default deny\n",
                 &res);
        assert_exit0(&res);
        cr_assert_str_eq(res.out, "getppid ok\numount2 EPERM\ngetuid EPERM\n");
}

/* The message must be the policy path followed by expected_tail. */
static void assert_file_error(const char *text, const char *expected_tail)
{
        char *path = write_policy(text);
        struct sbx_spec spec = make_spec(SBX_SECCOMP_FILE, SBX_ISOLATION_MEDIUM);
        spec.security.seccomp_file = path;
        sbx_autoerror e = NULL;
        char expected[512];
        int r = sbx_seccomp_export(&spec, -1, true, &e);
        snprintf(expected, sizeof(expected), "%s%s", path, expected_tail);
        unlink(path);
        free(path);
        cr_assert_eq(r, -EINVAL);
        cr_assert_not_null(e);
        cr_assert_eq(e->code, EINVAL);
        cr_assert_str_eq(e->message, expected);
}

Test(seccomp_file, errors_name_file_and_line)
{
        assert_file_error("default allow\n\ndeny nosuchcall\n", ":3: unknown syscall 'nosuchcall'");
        assert_file_error("default allow\npermit read\n",
                          ":2: unknown action 'permit' (expected allow, deny or default)");
        assert_file_error("default maybe\n", ":1: 'default' takes allow or deny, not 'maybe'");
        assert_file_error("default allow\n# c\ndefault deny\n",
                          ":3: second 'default' line (first at line 1)");
        assert_file_error("default allow\ndeny read write\n", ":2: too many words");
        assert_file_error("default allow\ndeny\n", ":2: 'deny' needs a value");
        assert_file_error("deny read\n", ": no 'default allow' or 'default deny' line");
        assert_file_error("", ": no 'default allow' or 'default deny' line");
}

Test(seccomp_file, missing_file)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_FILE, SBX_ISOLATION_MEDIUM);
        spec.security.seccomp_file = "/nonexistent/policy";
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_seccomp_load(&spec, &e), -ENOENT);
        cr_assert_str_eq(e->message, "open /nonexistent/policy: No such file or directory");
}

/* ---- export ---- */

static char *export_text(const struct sbx_spec *spec, bool pfc, size_t *ret_len)
{
        char path[] = "/tmp/sbx-seccomp-export-XXXXXX";
        int fd = mkostemp(path, O_CLOEXEC);
        cr_assert_geq(fd, 0);
        unlink(path);
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_seccomp_export(spec, fd, pfc, &e), 0, "%s", e ? e->message : "");
        off_t size = lseek(fd, 0, SEEK_END);
        char *out = calloc(1, (size_t)size + 1);
        cr_assert_eq(pread(fd, out, (size_t)size, 0), size);
        close(fd);
        *ret_len = (size_t)size;
        return out;
}

Test(seccomp_export, pfc_shows_the_rules)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_DEFAULT, SBX_ISOLATION_MEDIUM);
        size_t len;
        char *pfc = export_text(&spec, true, &len);
        cr_assert(strstr(pfc, "# filter for syscall \"mount\""), "%s", pfc);
        cr_assert(strstr(pfc, "action ERRNO(1);"));
        cr_assert(strstr(pfc, "# default action\n  action ALLOW;"));
        cr_assert(strstr(pfc, "# invalid architecture action\naction KILL_PROCESS;"), "%s", pfc);
        cr_assert_null(strstr(pfc, "# filter for syscall \"getpid\""));
        free(pfc);
}

Test(seccomp_export, bpf_is_a_program)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_STRICT, SBX_ISOLATION_STRICT);
        size_t len;
        char *bpf = export_text(&spec, false, &len);
        cr_assert_gt(len, 0);
        cr_assert_eq(len % 8, 0, "BPF size %zu is not a multiple of 8", len);
        cr_assert_leq(len / 8, 4096, "BPF program of %zu instructions is too long", len / 8);
        free(bpf);
}

Test(seccomp_export, none_writes_nothing)
{
        struct sbx_spec spec = make_spec(SBX_SECCOMP_NONE, SBX_ISOLATION_MEDIUM);
        size_t len;
        char *out = export_text(&spec, true, &len);
        cr_assert_eq(len, 0);
        free(out);
}

/* ---- the example of docs/security.md ---- */

static char *doc_example(const char *marker)
{
        const char *root = getenv("SBX_SOURCE_ROOT");
        char path[4096];
        snprintf(path, sizeof(path), "%s/docs/security.md", root ? root : SBX_SOURCE_ROOT);
        FILE *f = fopen(path, "re");
        cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
        char line[512];
        char *out = NULL;
        size_t len = 0;
        FILE *o = open_memstream(&out, &len);
        int state = 0; /* 0 before the marker, 1 before the fence, 2 inside */
        while (fgets(line, sizeof(line), f) && state < 3) {
                if (state == 0 && strstr(line, marker))
                        state = 1;
                else if (state == 1 && strncmp(line, "```", 3) == 0)
                        state = 2;
                else if (state == 2 && strncmp(line, "```", 3) == 0)
                        state = 3;
                else if (state == 2)
                        fputs(line, o);
        }
        fclose(f);
        fclose(o);
        cr_assert_eq(state, 3, "no complete example '%s' in %s", marker, path);
        return out;
}

static int child_doc_policy(void *arg)
{
        child_load(arg);
        sec_report_call("ptrace", syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL));
        sec_report_call("process_vm_readv", syscall(SYS_process_vm_readv, 0, NULL, 0, NULL, 0, 0));
        sec_report_call("clock_settime", syscall(SYS_clock_settime, CLOCK_REALTIME, NULL));
        sec_report_call("settimeofday", syscall(SYS_settimeofday, NULL, NULL));
        sec_report_call("getppid", syscall(SYS_getppid));
        return 0;
}

Test(seccomp_file, documented_example_works)
{
        char *text = doc_example("<!-- example: policy-file");
        char *path = write_policy(text);
        free(text);
        struct sbx_spec spec = make_spec(SBX_SECCOMP_FILE, SBX_ISOLATION_MEDIUM);
        spec.security.seccomp_file = path;
        struct sec_child_result res;
        sec_run_child(child_doc_policy, &spec, &res);
        unlink(path);
        free(path);
        assert_exit0(&res);
        cr_assert_str_eq(res.out, "ptrace EPERM\nprocess_vm_readv EPERM\nclock_settime EPERM\n"
                                  "settimeofday EPERM\ngetppid ok\n");
}
