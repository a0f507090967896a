/* harness: run the real binary with a timeout and capture its output. */
#include <criterion/criterion.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

const char *sbx_test_binary(void)
{
        const char *p = getenv("SANDBOXCTL");
        return p && *p ? p : "sandboxctl";
}

const char *sbx_test_source_path(const char *rel)
{
        static char buf[4096];
        const char *root = getenv("SBX_SOURCE_ROOT");
        snprintf(buf, sizeof(buf), "%s/%s", root && *root ? root : ".", rel);
        return buf;
}

bool sbx_test_must_run(void)
{
        const char *v = getenv("SBX_TESTS_MUST_RUN");
        return v && strcmp(v, "1") == 0;
}

double sbx_test_time_scale(void)
{
        const char *v = getenv("SBX_TEST_TIME_SCALE");
        double f = v ? strtod(v, NULL) : 1.0;
        return f >= 1.0 ? f : 1.0;
}

void sbx_test_require(bool missing, const char *reason)
{
        if (!missing)
                return;
        if (sbx_test_must_run()) {
                fprintf(stderr, "FAIL: required but missing: %s (SBX_TESTS_MUST_RUN=1)\n", reason);
                exit(1);
        }
        printf("SKIP: %s\n", reason);
        exit(77);
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct buf {
        char *data;
        size_t len;
};

static void buf_read(int fd, struct buf *b, bool *open)
{
        char tmp[65536];
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n <= 0) {
                if (n == 0 || (errno != EINTR && errno != EAGAIN))
                        *open = false;
                return;
        }
        char *p = realloc(b->data, b->len + (size_t)n + 1);
        if (!p)
                abort();
        memcpy(p + b->len, tmp, (size_t)n);
        b->data = p;
        b->len += (size_t)n;
        b->data[b->len] = '\0';
}

static void child_exec(char *const argv[], int in_fd, int out_fd, int err_fd)
{
        setpgid(0, 0);
        dup2(in_fd, 0);
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        closefrom(3);
        signal(SIGPIPE, SIG_DFL);
        execvp(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
}

static void pump(int out_r, int err_r, pid_t pid, double timeout_s, struct run_result *ret,
                 struct buf *out, struct buf *err)
{
        bool out_open = true, err_open = true;
        double deadline = now_s() + timeout_s;
        while (out_open || err_open) {
                double left = deadline - now_s();
                if (left <= 0) {
                        kill(-pid, SIGKILL);
                        kill(pid, SIGKILL);
                        ret->timed_out = true;
                        break;
                }
                struct pollfd p[2] = { { out_open ? out_r : -1, POLLIN, 0 },
                                       { err_open ? err_r : -1, POLLIN, 0 } };
                int n = poll(p, 2, (int)(left * 1000) + 1);
                if (n < 0 && errno != EINTR)
                        break;
                if (p[0].revents)
                        buf_read(out_r, out, &out_open);
                if (p[1].revents)
                        buf_read(err_r, err, &err_open);
        }
}

int sbx_test_run(char *const argv[], const char *input, double timeout_s, struct run_result *ret)
{
        int in[2], out[2], err[2];
        memset(ret, 0, sizeof(*ret));
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
                return -errno;
        double start = now_s();
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                child_exec(argv, in[0], out[1], err[1]);
        close(in[0]);
        close(out[1]);
        close(err[1]);
        if (input) {
                signal(SIGPIPE, SIG_IGN);
                ssize_t w = write(in[1], input, strlen(input));
                (void)w;
        }
        close(in[1]);
        struct buf o = { 0 }, e = { 0 };
        pump(out[0], err[0], pid, timeout_s, ret, &o, &e);
        close(out[0]);
        close(err[0]);
        if (ret->timed_out)
                kill(-pid, SIGKILL);
        while (waitpid(pid, &ret->status, 0) < 0 && errno == EINTR)
                ;
        ret->seconds = now_s() - start;
        ret->out = o.data ? o.data : strdup("");
        ret->err = e.data ? e.data : strdup("");
        if (ret->timed_out)
                ret->exit_code = -1;
        else if (WIFEXITED(ret->status))
                ret->exit_code = WEXITSTATUS(ret->status);
        else
                ret->exit_code = 128 + WTERMSIG(ret->status);
        return 0;
}

int sbx_test_run_sbx(double timeout_s, struct run_result *ret, ...)
{
        char *argv[256];
        size_t n = 0;
        argv[n++] = (char *)sbx_test_binary();
        va_list ap;
        va_start(ap, ret);
        const char *a;
        while ((a = va_arg(ap, const char *)) && n < 255)
                argv[n++] = (char *)a;
        va_end(ap);
        argv[n] = NULL;
        return sbx_test_run(argv, NULL, timeout_s, ret);
}

void sbx_test_result_free(struct run_result *r)
{
        free(r->out);
        free(r->err);
        r->out = r->err = NULL;
}

/* Look for sandbox cgroups (16 hex digits) left in `path`, then rmdir it. */
static bool cgroup_dir_remove(const char *path)
{
        DIR *d = opendir(path);
        struct dirent *de;
        bool empty = true;

        if (!d)
                return true;
        while ((de = readdir(d)))
                if (strlen(de->d_name) == 16 &&
                    strspn(de->d_name, "0123456789abcdef") == 16)
                        empty = false;
        closedir(d);
        rmdir(path);
        return empty;
}

bool sbx_test_cgroup_parent_remove(const char *name)
{
        char path[1024], memcg[256] = "", line[512];
        bool empty;
        glob_t g;

        snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", name);
        empty = cgroup_dir_remove(path);
        snprintf(path, sizeof(path), "/sys/fs/cgroup/*/%s", name);
        if (glob(path, GLOB_NOSORT, NULL, &g) == 0) {
                for (size_t i = 0; i < g.gl_pathc; i++)
                        empty = cgroup_dir_remove(g.gl_pathv[i]) && empty;
                globfree(&g);
        }
        FILE *f = fopen("/proc/self/cgroup", "re");
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "%*[0-9]:memory:%255[^\n]", memcg) == 1)
                        break;
        if (f)
                fclose(f);
        if (memcg[0] && strcmp(memcg, "/") != 0) {
                snprintf(path, sizeof(path), "/sys/fs/cgroup/memory%s/%s", memcg, name);
                empty = cgroup_dir_remove(path) && empty;
        }
        return empty;
}

#define FINI_LOG_ENV "SBX_TEST_FINI_LOG"

void sbx_test_fini_failed(const char *fmt, ...)
{
        char msg[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        cr_log_error("%s", msg);
        const char *log = getenv(FINI_LOG_ENV);
        int fd = log ? open(log, O_WRONLY | O_APPEND | O_CLOEXEC) : -1;
        if (fd >= 0) {
                dprintf(fd, "%s\n", msg);
                close(fd);
        }
}

/* What the tests' .fini recorded (sbx_test_fini_failed); true if nothing. */
static bool fini_log_check(const char *path)
{
        char buf[4096];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;

        if (fd >= 0)
                close(fd);
        unlink(path);
        if (n <= 0)
                return true;
        buf[n] = '\0';
        fprintf(stderr, "FAIL: checks after the tests failed:\n%s", buf);
        return false;
}

int sbx_test_main(int argc, char **argv, unsigned needs)
{
        char parent[64] = "", fini_log[] = "/tmp/sbx-test-fini-XXXXXX";

        if (needs & SBX_NEED_ROOT)
                sbx_test_require(geteuid() != 0, "needs root (run the suite as root)");
        if (!getenv("SANDBOXCTL_CGROUP_PARENT")) {
                snprintf(parent, sizeof(parent), "sandboxctl-test-%d", (int)getpid());
                setenv("SANDBOXCTL_CGROUP_PARENT", parent, 1);
        }
        int fini_fd = mkstemp(fini_log);
        if (fini_fd >= 0) {
                close(fini_fd);
                setenv(FINI_LOG_ENV, fini_log, 1);
        }
        struct criterion_test_set *tests = criterion_initialize();
        int result = 0;
        if (criterion_handle_args(argc, argv, true))
                result = !criterion_run_all_tests(tests);
        criterion_finalize(tests);
        if (fini_fd >= 0 && !fini_log_check(fini_log))
                result = 1;
        if (parent[0] && !sbx_test_cgroup_parent_remove(parent)) {
                fprintf(stderr, "FAIL: sandbox cgroups were left under %s\n", parent);
                result = 1;
        }
        return result;
}
