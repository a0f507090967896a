/* criu: checkpoint and restore of a process tree with CRIU, through libcriu
 * (swrk mode: libcriu runs the criu binary as its service), and the
 * feasibility probe (`criu check`: libcriu's criu_check() always fails in
 * CRIU 3.17.1). */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandboxctl/snapshot.h"
#include "sandboxctl/util.h"
#include "src/lib/lazy_criu.h"

#define CRIU_TIMEOUT_MS 60000
#define CRIU_LOG_LEVEL 4
#define DUMP_LOG "dump.log"
#define RESTORE_LOG "restore.log"

extern char **environ;

SBX_DEFINE_CLEANUP(criu_opts *, criu_local_free_opts)
SBX_DEFINE_CLEANUP(FILE *, fclose)

/* The criu binary: $SANDBOXCTL_CRIU, else criu in PATH or an sbin dir. */
static int find_criu(char **ret, sbx_error **err)
{
        const char *env = getenv(SBX_CRIU_ENV);
        if (env && *env) {
                if (access(env, X_OK) < 0)
                        return sbx_error_errno(err, errno, "criu binary %s (from $%s)", env,
                                               SBX_CRIU_ENV);
                *ret = strdup(env);
                return *ret ? 0 : -ENOMEM;
        }
        const char *path = getenv("PATH");
        sbx_autofree char *dirs = NULL;
        if (asprintf(&dirs, "%s:/usr/sbin:/sbin:/usr/local/sbin", path ? path : "/usr/bin") < 0)
                return sbx_error_errno(err, ENOMEM, "find criu");
        char *save = NULL;
        for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                char *p = NULL;
                if (asprintf(&p, "%s/criu", d) < 0)
                        return sbx_error_errno(err, ENOMEM, "find criu");
                if (*d == '/' && access(p, X_OK) == 0) {
                        *ret = p;
                        return 0;
                }
                free(p);
        }
        return sbx_error_set(err, ENOENT,
                             "CRIU is not installed: no criu in PATH (apt-get install criu, "
                             "or set $%s)",
                             SBX_CRIU_ENV);
}

/* Read fd until EOF or the deadline; kill pid at the deadline. */
static int read_output(int fd, pid_t pid, char **ret, sbx_error **err)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return sbx_error_errno(err, errno, "run criu");
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                long spent = (now.tv_sec - start.tv_sec) * 1000 +
                             (now.tv_nsec - start.tv_nsec) / 1000000;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int n = spent >= CRIU_TIMEOUT_MS ? 0 : poll(&p, 1, (int)(CRIU_TIMEOUT_MS - spent));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        kill(pid, SIGKILL);
                        fclose(f);
                        free(buf);
                        return sbx_error_set(err, ETIMEDOUT, "criu did not end within %d s",
                                             CRIU_TIMEOUT_MS / 1000);
                }
                char chunk[4096];
                ssize_t r = read(fd, chunk, sizeof(chunk));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                fwrite(chunk, 1, (size_t)r, f);
        }
        fclose(f);
        *ret = buf;
        return 0;
}

/* Run `criu ARG`, its stdout and stderr together in *ret_out; returns its
 * exit status (0..255) or -errno. */
static int run_criu(const char *bin, const char *arg, char **ret_out, sbx_error **err)
{
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return sbx_error_errno(err, errno, "run criu: pipe");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
        posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
        char *argv[] = { (char *)bin, (char *)arg, NULL };
        pid_t pid;
        int r = posix_spawn(&pid, bin, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(pipefd[1]);
        sbx_autoclose int rd = pipefd[0];
        if (r != 0)
                return sbx_error_errno(err, r, "run %s %s", bin, arg);
        r = read_output(rd, pid, ret_out, err);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return sbx_error_prefix(err, r, "%s %s", bin, arg);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Error lines that only say that something else failed. */
static bool is_generic_error(const char *msg)
{
        return strstr(msg, "exited, status=") || strstr(msg, "killed by signal") ||
               strstr(msg, "Dumping FAILED") || strstr(msg, "Restoring FAILED");
}

/* CRIU's first error that says something: "Error (file.c:12): what" lines,
 * without the prefix, skipping its reports of failed helper processes. */
static char *first_error(const char *out)
{
        sbx_autofree char *copy = strdup(out ? out : "");
        char *save = NULL, *fallback = NULL;
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (strncmp(l, "Error (", 7) != 0)
                        continue;
                char *msg = strstr(l, "): ");
                msg = msg ? msg + 3 : l;
                if (is_generic_error(msg)) {
                        if (!fallback)
                                fallback = msg;
                        continue;
                }
                return strdup(msg);
        }
        return fallback ? strdup(fallback) : NULL;
}

static int criu_version(const char *bin, char **ret, sbx_error **err)
{
        sbx_autofree char *out = NULL;
        int r = run_criu(bin, "--version", &out, err);
        if (r < 0)
                return r;
        const char *v = out ? strstr(out, "Version: ") : NULL;
        if (r != 0 || !v)
                return sbx_error_set(err, EIO, "%s --version: no version in its output", bin);
        v += strlen("Version: ");
        *ret = strndup(v, strcspn(v, " \n"));
        return *ret ? 0 : sbx_error_errno(err, ENOMEM, "criu version");
}

int sbx_criu_probe(char **ret_version, sbx_error **err)
{
        sbx_autofree char *bin = NULL;
        sbx_autofree char *version = NULL;
        sbx_autofree char *out = NULL;
        int r = find_criu(&bin, err);
        if (r >= 0)
                r = criu_version(bin, &version, err);
        if (r >= 0)
                r = run_criu(bin, "check", &out, err);
        if (r < 0)
                return r;
        if (r != 0 || !out || !strstr(out, "Looks good")) {
                sbx_autofree char *why = first_error(out);
                if (why)
                        return sbx_error_set(err, ENOTSUP, "CRIU cannot run on this kernel: %s",
                                             why);
                return sbx_error_set(err, ENOTSUP,
                                     "CRIU cannot run on this kernel: criu check exited with "
                                     "status %d",
                                     r);
        }
        if (ret_version)
                *ret_version = sbx_steal_ptr(version);
        return 0;
}

/* The first telling "Error (...)" line of a CRIU log, for the user. */
static char *log_error(int dir_fd, const char *log)
{
        int fd = openat(dir_fd, log, O_RDONLY | O_CLOEXEC);
        __attribute__((cleanup(fclosep))) FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
        if (!f) {
                if (fd >= 0)
                        close(fd);
                return NULL;
        }
        char line[1024], *generic = NULL;
        while (fgets(line, sizeof(line), f)) {
                const char *e = strstr(line, "Error (");
                if (!e)
                        continue;
                const char *msg = strstr(e, "): ");
                msg = msg ? msg + 3 : e;
                if (!is_generic_error(msg)) {
                        free(generic);
                        return strndup(msg, strcspn(msg, "\n"));
                }
                if (!generic)
                        generic = strndup(msg, strcspn(msg, "\n"));
        }
        return generic;
}

/* libcriu's result as an error: CRIU's own last error from its log. */
static int criu_failed(int r, const char *what, int dir_fd, const char *dir, const char *log,
                       sbx_error **err)
{
        sbx_autofree char *why = log_error(dir_fd, log);
        int code = r < 0 && -r < 4096 ? -r : EIO;
        if (why)
                return sbx_error_set(err, code, "%s: %s (log: %s/%s)", what, why, dir, log);
        return sbx_error_set(err, code, "%s: criu failed with %d (log: %s/%s)", what, r, dir, log);
}

/* Common options: service binary, images dir, log. */
static int setup_opts(const char *images_dir, const char *log, criu_opts **ret, int *ret_fd,
                      sbx_error **err)
{
        sbx_autofree char *bin = NULL;
        int r = find_criu(&bin, err);
        if (r < 0)
                return r;
        r = sbx_lazy_criu_load(err);
        if (r < 0)
                return r;
        criu_opts *o = NULL;
        if (criu_local_init_opts(&o) < 0)
                return sbx_error_errno(err, ENOMEM, "libcriu options");
        __attribute__((cleanup(criu_local_free_optsp))) criu_opts *opts = o;
        int fd = open(images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return sbx_error_errno(err, errno, "open %s", images_dir);
        if (criu_local_set_service_binary(opts, bin) < 0 || criu_local_set_log_file(opts, log) < 0) {
                close(fd);
                return sbx_error_errno(err, ENOMEM, "libcriu options");
        }
        criu_local_set_images_dir_fd(opts, fd);
        criu_local_set_log_level(opts, CRIU_LOG_LEVEL);
        criu_local_set_manage_cgroups(opts, true);
        /* A sandbox with its own network namespace has its network locked
         * during the dump: with nftables (Debian's criu links libnftables;
         * iptables-restore, the default, is often not installed). */
        criu_local_set_network_lock(opts, CRIU_NETWORK_LOCK_NFTABLES);
        /* A sandbox's mounts include binds from the host (the workspace, the
         * masked /proc files): external mounts, found and mapped by CRIU. */
        criu_local_set_auto_ext_mnt(opts, true);
        criu_local_set_ext_sharing(opts, true);
        criu_local_set_ext_masters(opts, true);
        *ret = sbx_steal_ptr(opts);
        *ret_fd = fd;
        return 0;
}

/* Thaw the cgroup (v2 cgroup.freeze, v1 freezer.state); best effort. */
static void thaw(const char *freezer)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/cgroup.freeze", freezer);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        const char *value = "0";
        if (fd < 0) {
                snprintf(path, sizeof(path), "%s/freezer.state", freezer);
                fd = open(path, O_WRONLY | O_CLOEXEC);
                value = "THAWED";
        }
        if (fd < 0)
                return;
        ssize_t n = write(fd, value, strlen(value));
        (void)n;
        close(fd);
}

int sbx_criu_dump(const struct sbx_criu_dump_opts *o, sbx_error **err)
{
        if (!o || o->pid <= 0 || !o->images_dir)
                return sbx_error_set(err, EINVAL, "criu dump: no pid or images dir");
        __attribute__((cleanup(criu_local_free_optsp))) criu_opts *opts = NULL;
        sbx_autoclose int fd = -1;
        int r = setup_opts(o->images_dir, DUMP_LOG, &opts, &fd, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "criu dump of pid %d", (int)o->pid);
        criu_local_set_pid(opts, o->pid);
        criu_local_set_leave_running(opts, o->leave_running);
        criu_local_set_shell_job(opts, o->shell_job);
        criu_local_set_file_locks(opts, true);
        if (o->freezer && criu_local_set_freeze_cgroup(opts, o->freezer) < 0)
                return sbx_error_errno(err, ENOMEM, "criu dump: freeze cgroup option");
        r = criu_local_dump(opts);
        /* CRIU thaws what it froze, except when it failed half-way or killed
         * the tree; a frozen sandbox is never left behind. */
        if (o->freezer && !o->keep_frozen)
                thaw(o->freezer);
        if (r < 0) {
                char what[64];
                snprintf(what, sizeof(what), "criu dump of pid %d", (int)o->pid);
                return criu_failed(r, what, fd, o->images_dir, DUMP_LOG, err);
        }
        return 0;
}

int sbx_criu_restore(const struct sbx_criu_restore_opts *o, pid_t *ret_pid, sbx_error **err)
{
        if (!o || !o->images_dir)
                return sbx_error_set(err, EINVAL, "criu restore: no images dir");
        __attribute__((cleanup(criu_local_free_optsp))) criu_opts *opts = NULL;
        sbx_autoclose int fd = -1;
        int r = setup_opts(o->images_dir, RESTORE_LOG, &opts, &fd, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "criu restore from %s", o->images_dir);
        criu_local_set_shell_job(opts, o->shell_job);
        criu_local_set_file_locks(opts, true);
        if ((o->root && criu_local_set_root(opts, o->root) < 0) ||
            (o->cgroup_root && criu_local_add_cg_root(opts, NULL, o->cgroup_root) < 0))
                return sbx_error_errno(err, ENOMEM, "criu restore: options");
        for (size_t i = 0; i < o->n_inherit; i++)
                if (criu_local_add_inherit_fd(opts, o->inherit_fds[i], o->inherit_keys[i]) < 0)
                        return sbx_error_errno(err, ENOMEM, "criu restore: inherit fd option");
        sbx_autoclose int work_fd = -1;
        if (o->work_dir) {
                work_fd = open(o->work_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (work_fd < 0)
                        return sbx_error_errno(err, errno, "open %s", o->work_dir);
                criu_local_set_work_dir_fd(opts, work_fd);
        }
        r = criu_local_restore_child(opts);
        if (r <= 0) {
                char what[4200];
                snprintf(what, sizeof(what), "criu restore from %s", o->images_dir);
                return criu_failed(r, what, work_fd >= 0 ? work_fd : fd,
                                   o->work_dir ? o->work_dir : o->images_dir, RESTORE_LOG, err);
        }
        if (ret_pid)
                *ret_pid = r;
        return 0;
}
