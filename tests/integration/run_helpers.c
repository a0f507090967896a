/* run_helpers: see run_helpers.h. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run_helpers.h"

static char state_dir[256];
static char workspace[256];

const char *rt_state_dir(void)
{
        return state_dir;
}

const char *rt_workspace(void)
{
        return workspace;
}

void rt_setup(void)
{
        snprintf(state_dir, sizeof(state_dir), "/tmp/sbx-state-XXXXXX");
        cr_assert_not_null(mkdtemp(state_dir));
        snprintf(workspace, sizeof(workspace), "/tmp/sbx-ws-XXXXXX");
        cr_assert_not_null(mkdtemp(workspace));
        chmod(workspace, 0755);
        setenv("SANDBOXCTL_STATE_DIR", state_dir, 1);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

bool rt_state_dir_empty(void)
{
        DIR *d = opendir(state_dir);
        struct dirent *de;
        bool empty = true;
        if (!d)
                return false;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        empty = false;
        closedir(d);
        return empty;
}

void rt_teardown(void)
{
        bool empty = rt_state_dir_empty();
        nftw(workspace, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        nftw(state_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        cr_expect(empty, "state dir %s is not empty after the run", state_dir);
}

void rt_install_attack(const char *name, unsigned mode)
{
        char src[512], dst[512], buf[65536];
        snprintf(src, sizeof(src), "%s/tests/integration/progs/attack", getenv("SBX_BUILD_ROOT"));
        snprintf(dst, sizeof(dst), "%s/%s", workspace, name);
        int in = open(src, O_RDONLY | O_CLOEXEC);
        cr_assert(in >= 0, "open %s: %s", src, strerror(errno));
        int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        cr_assert(out >= 0, "create %s: %s", dst, strerror(errno));
        ssize_t n;
        while ((n = read(in, buf, sizeof(buf))) > 0)
                cr_assert_eq(write(out, buf, (size_t)n), n);
        close(in);
        close(out);
        cr_assert_eq(chmod(dst, mode), 0);
}

int rt_run_sh(struct run_result *r, const char *script, ...)
{
        char *argv[64];
        size_t n = 0;
        argv[n++] = (char *)sbx_test_binary();
        argv[n++] = "run";
        va_list ap;
        va_start(ap, script);
        const char *a;
        while ((a = va_arg(ap, const char *)) && n < 58)
                argv[n++] = (char *)a;
        va_end(ap);
        argv[n++] = "--";
        argv[n++] = "sh";
        argv[n++] = "-c";
        argv[n++] = (char *)script;
        argv[n] = NULL;
        return sbx_test_run(argv, NULL, 30, r);
}

pid_t rt_spawn(char *const argv[], int stdin_fd, int *ret_out)
{
        int out[2];
        cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
                int in = stdin_fd >= 0 ? stdin_fd : open("/dev/null", O_RDONLY);
                dup2(in, 0);
                dup2(out[1], 1);
                execvp(argv[0], argv);
                _exit(127);
        }
        close(out[1]);
        *ret_out = out[0];
        return pid;
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool rt_read_until(int fd, const char *want, char *buf, size_t len, double timeout_s)
{
        double deadline = now_s() + timeout_s;
        size_t used = strlen(buf);
        while (!strstr(buf, want)) {
                double left = deadline - now_s();
                if (left <= 0 || used + 1 >= len)
                        return false;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
                        continue;
                ssize_t n = read(fd, buf + used, len - used - 1);
                if (n <= 0)
                        return false;
                used += (size_t)n;
                buf[used] = '\0';
        }
        return true;
}

bool rt_wait_pid(pid_t pid, double timeout_s, int *ret_status)
{
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        cr_assert(pidfd >= 0, "pidfd_open: %s", strerror(errno));
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        int n;
        do
                n = poll(&p, 1, (int)(timeout_s * 1000));
        while (n < 0 && errno == EINTR);
        close(pidfd);
        if (n <= 0)
                kill(pid, SIGKILL);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (n > 0 && ret_status)
                *ret_status = status;
        return n > 0;
}

char *rt_read_file(const char *path)
{
        FILE *f = fopen(path, "re");
        char *text = NULL;
        size_t len = 0;
        if (!f)
                return strdup("");
        FILE *m = open_memstream(&text, &len);
        int c;
        while ((c = fgetc(f)) != EOF)
                fputc(c, m);
        fclose(m);
        fclose(f);
        return text;
}

static bool cmdline_has(const char *pid, const char *needle)
{
        char path[300], buf[4096];
        snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return false;
        for (ssize_t i = 0; i < n; i++)
                if (buf[i] == '\0')
                        buf[i] = ' ';
        buf[n] = '\0';
        return strstr(buf, needle) != NULL;
}

bool rt_process_with_arg(const char *needle)
{
        DIR *d = opendir("/proc");
        struct dirent *de;
        bool found = false;
        while (d && !found && (de = readdir(d)))
                if (de->d_name[0] >= '0' && de->d_name[0] <= '9')
                        found = cmdline_has(de->d_name, needle);
        if (d)
                closedir(d);
        return found;
}

bool rt_wait_no_process_with_arg(const char *needle, double timeout_s)
{
        double deadline = now_s() + timeout_s;
        while (rt_process_with_arg(needle)) {
                if (now_s() > deadline)
                        return false;
                struct timespec ts = { 0, 10 * 1000 * 1000 };
                nanosleep(&ts, NULL); /* a bounded poll, not an ordering sleep */
        }
        return true;
}

bool rt_netns_in_use(const char *ns_link)
{
        DIR *d = opendir("/proc");
        struct dirent *de;
        bool found = false;
        while (d && !found && (de = readdir(d))) {
                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                char path[300], link[128];
                snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
                ssize_t n = readlink(path, link, sizeof(link) - 1);
                if (n <= 0)
                        continue;
                link[n] = '\0';
                found = strcmp(link, ns_link) == 0;
        }
        if (d)
                closedir(d);
        return found;
}

static const char *dir_name_wanted;
static int dirs_found;

static int count_named(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        if (flag == FTW_D && strcmp(path + ftw->base, dir_name_wanted) == 0)
                dirs_found++;
        return 0;
}

int rt_cgroup_dirs_named(const char *name)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];
        cr_assert_not_null(f);
        dir_name_wanted = name;
        dirs_found = 0;
        while (fgets(line, sizeof(line), f)) {
                char mnt[1024], fstype[64];
                const char *dash = strstr(line, " - ");
                if (!dash || sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1 ||
                    sscanf(dash + 3, "%63s", fstype) != 1)
                        continue;
                if (strcmp(fstype, "cgroup") == 0 || strcmp(fstype, "cgroup2") == 0)
                        nftw(mnt, count_named, 16, FTW_PHYS | FTW_MOUNT);
        }
        fclose(f);
        return dirs_found;
}

char *rt_report_id(const char *report_path)
{
        char *text = rt_read_file(report_path);
        const char *p = strstr(text, "\"id\": \"");
        cr_assert_not_null(p, "no id in report %s: %s", report_path, text);
        char *id = strndup(p + 7, 16);
        free(text);
        cr_assert_not_null(id);
        cr_assert_eq(strlen(id), 16, "id '%s'", id);
        return id;
}
