/* statedir: the per-sandbox directory <state-dir>/<id>/ with state.json
 * (written once, atomically: temp file + rename) and the empty scratch/
 * directory on which the sandbox's root is assembled. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run-internal.h"
#include "sandboxctl/util.h"

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

SBX_DEFINE_CLEANUP(DIR *, closedir)

const char *sbx_state_dir_default(void)
{
        const char *d = getenv(SBX_STATE_DIR_ENV);
        return d && *d ? d : SBX_STATE_DIR_DEFAULT;
}

void sbx_format_iso8601(const struct timespec *ts, char *buf, size_t len)
{
        struct tm tm;
        char date[32];

        gmtime_r(&ts->tv_sec, &tm);
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, len, "%s.%03ldZ", date, ts->tv_nsec / 1000000L);
}

int sbx_pid_start_time(pid_t pid, uint64_t *ret_ticks, sbx_error **err)
{
        char path[64], buf[1024];

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        sbx_autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return sbx_error_errno(err, errno == ENOENT ? ESRCH : errno, "open %s", path);
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return sbx_error_errno(err, errno == ENOENT ? ESRCH : errno, "read %s", path);
        buf[n] = '\0';
        /* The command name may hold spaces and parentheses: skip to the last ')'. */
        char *p = strrchr(buf, ')');
        unsigned long long start;
        char state;
        /* After ")": state (field 3) ... starttime (field 22). */
        if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
                                "%*d %*d %*d %*d %llu", &state, &start) != 2)
                return sbx_error_set(err, EINVAL, "parse %s: no start time", path);
        /* Exited, not yet reaped (a killed supervisor waits for its reaper):
         * gone for every caller, which asks whether it still runs. */
        if (state == 'Z' || state == 'X')
                return sbx_error_set(err, ESRCH, "process %d has exited", (int)pid);
        *ret_ticks = start;
        return 0;
}

static char *path_join(const char *a, const char *b, const char *c)
{
        char *p;

        if (asprintf(&p, "%s/%s%s%s", a, b, c ? "/" : "", c ? c : "") < 0)
                return NULL;
        return p;
}

static int mkdir_p(const char *path, mode_t mode, sbx_error **err)
{
        sbx_autofree char *copy = strdup(path);
        if (!copy)
                return sbx_error_errno(err, ENOMEM, "mkdir %s", path);
        for (char *p = copy + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(copy, mode) < 0 && errno != EEXIST)
                        return sbx_error_errno(err, errno, "mkdir %s", copy);
                *p = '/';
        }
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
                return sbx_error_errno(err, errno, "mkdir %s", copy);
        return 0;
}

static json_t *state_json(const struct sbx_run_config *cfg, const char *id,
                          const struct timespec *created_at, uint64_t start_ticks)
{
        char created[64];

        sbx_format_iso8601(created_at, created, sizeof(created));
        /* gc removes the cgroup of a dead sandbox under this parent. */
        return json_pack("{s:s, s:s?, s:s?, s:I, s:I, s:s, s:s}", "id", id, "name", cfg->name,
                         "profile", cfg->profile, "pid", (json_int_t)getpid(), "pid_start_time",
                         (json_int_t)start_ticks, "created_at", created, "cgroup_parent",
                         sbx_cgroup_parent_resolve(cfg->cgroup_parent));
}

static int write_state_json(const char *dir, json_t *state, sbx_error **err)
{
        sbx_autofree char *tmp = path_join(dir, "state.json.tmp", NULL);
        sbx_autofree char *final = path_join(dir, "state.json", NULL);

        if (!tmp || !final)
                return sbx_error_errno(err, ENOMEM, "state.json in %s", dir);
        sbx_autoclose int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return sbx_error_errno(err, errno, "create %s", tmp);
        /* One write(): json_dumpfd() would write token by token. */
        sbx_autofree char *text = json_dumps(state, JSON_COMPACT);
        if (!text) {
                unlink(tmp);
                return sbx_error_errno(err, ENOMEM, "write %s", tmp);
        }
        size_t len = strlen(text);
        ssize_t n = write(fd, text, len);
        if (n < 0 || (size_t)n != len) {
                int e = n < 0 ? errno : EIO;
                unlink(tmp);
                return sbx_error_errno(err, e, "write %s", tmp);
        }
        if (rename(tmp, final) < 0) {
                int e = errno;
                unlink(tmp);
                return sbx_error_errno(err, e, "rename %s to %s", tmp, final);
        }
        return 0;
}

void sbx_state_free(struct sbx_state *st)
{
        if (!st)
                return;
        free(st->base);
        free(st->dir);
        free(st->scratch);
        free(st);
}
SBX_DEFINE_CLEANUP(struct sbx_state *, sbx_state_free)

static int state_paths(const char *base, const char *id, struct sbx_state **ret, sbx_error **err)
{
        struct sbx_state *st = calloc(1, sizeof(*st));

        if (st) {
                st->base = strdup(base);
                st->dir = path_join(base, id, NULL);
                st->scratch = path_join(base, id, "scratch");
        }
        if (!st || !st->base || !st->dir || !st->scratch) {
                sbx_state_free(st);
                return sbx_error_errno(err, ENOMEM, "state dir %s/%s", base, id);
        }
        *ret = st;
        return 0;
}

int sbx_state_create(const char *base, const struct sbx_run_config *cfg, const char *id,
                     const struct timespec *created_at, struct sbx_state **ret_state,
                     sbx_error **err)
{
        __attribute__((cleanup(sbx_state_freep))) struct sbx_state *st = NULL;
        __attribute__((cleanup(json_decrefp))) json_t *state = NULL;
        uint64_t start;
        int r;

        r = state_paths(base, id, &st, err);
        if (r < 0)
                return r;
        r = mkdir_p(base, 0711, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "create state dir");
        if (mkdir(st->dir, 0700) < 0)
                return sbx_error_errno(err, errno, "create state dir: mkdir %s", st->dir);
        r = sbx_pid_start_time(getpid(), &start, err);
        if (r >= 0) {
                state = state_json(cfg, id, created_at, start);
                r = state ? write_state_json(st->dir, state, err)
                          : sbx_error_set(err, ENOMEM, "build state.json");
        }
        if (r >= 0 && mkdir(st->scratch, 0700) < 0)
                r = sbx_error_errno(err, errno, "mkdir %s", st->scratch);
        if (r < 0) {
                sbx_autofree char *name = strdup(id);
                sbx_autoclose int dfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0 && name)
                        sbx_remove_tree_at(dfd, name, NULL);
                return sbx_error_prefix(err, r, "create state dir");
        }
        *ret_state = sbx_steal_ptr(st);
        return 0;
}

int sbx_state_remove(struct sbx_state *st, sbx_error **err)
{
        if (!st)
                return 0;
        sbx_autoclose int dfd = open(st->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = dfd < 0 ? sbx_error_errno(err, errno, "open %s", st->base)
                        : sbx_remove_tree_at(dfd, st->dir + strlen(st->base) + 1, err);
        sbx_state_free(st);
        return r;
}

static bool is_mount_root(int dfd, const char *name)
{
        struct statx stx;

        if (statx(dfd, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) < 0)
                return false;
        return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
               (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static int remove_dir_contents(int fd, const char *name, sbx_error **err)
{
        __attribute__((cleanup(closedirp))) DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return sbx_error_errno(err, errno, "open directory %s", name);
        }
        struct dirent *de;
        int r = 0;
        while ((errno = 0, de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                int q = sbx_remove_tree_at(dirfd(d), de->d_name, err);
                if (q < 0 && r == 0)
                        r = sbx_error_prefix(err, q, "%s", name);
        }
        if (errno)
                return sbx_error_errno(err, errno, "read directory %s", name);
        return r;
}

int sbx_remove_tree_at(int parentfd, const char *name, sbx_error **err)
{
        if (is_mount_root(parentfd, name))
                return sbx_error_set(err, EBUSY, "remove %s: is a mount point", name);
        int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno != ENOTDIR && errno != ELOOP)
                        return sbx_error_errno(err, errno, "open %s", name);
                if (unlinkat(parentfd, name, 0) < 0)
                        return sbx_error_errno(err, errno, "remove %s", name);
                return 0;
        }
        int r = remove_dir_contents(fd, name, err);
        if (r < 0)
                return r;
        if (unlinkat(parentfd, name, AT_REMOVEDIR) < 0)
                return sbx_error_errno(err, errno, "remove %s", name);
        return 0;
}
