/* cgroup_files: the one place that reads and writes cgroup files directly.
 *
 * Why not libcgroup: libcgroup 2.0.2 has no notion of cgroup.kill,
 * cgroup.freeze, memory.peak or the *.events files; its attach writes a thread
 * id to v1 `tasks` (we move the whole process through cgroup.procs, or let a
 * single-threaded child move itself); its create on a v2 mount writes
 * "+controller" into every ancestor's cgroup.subtree_control from the mount
 * root and never undoes it; reading one counter through it means
 * cgroup_get_cgroup(), which reads every file of every controller; and its
 * cgroup_init() dirties an 820 KB table that would stay resident in every
 * supervisor. So v1 and v2 directories and their files are handled here and
 * in cgroup_v1.c / cgroup_v2.c, where we choose exactly what we touch. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sandboxctl/util.h"
#include "src/lib/cgroup_internal.h"

int sbx_cg_parse_u64(const char *text, uint64_t *ret)
{
        while (*text == ' ' || *text == '\t')
                text++;
        if (strncmp(text, "max", 3) == 0 && (text[3] == '\0' || isspace((unsigned char)text[3]))) {
                *ret = UINT64_MAX;
                return 0;
        }
        if (!isdigit((unsigned char)*text))
                return -EINVAL;
        errno = 0;
        char *end = NULL;
        unsigned long long v = strtoull(text, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end != '\0' && !isspace((unsigned char)*end))
                return -EINVAL;
        *ret = v;
        return 0;
}

int sbx_cg_parse_keyed(const char *text, const char *key, uint64_t *ret)
{
        size_t klen = strlen(key);
        const char *line = text;
        while (line && *line) {
                if (strncmp(line, key, klen) == 0 && (line[klen] == ' ' || line[klen] == '\t'))
                        return sbx_cg_parse_u64(line + klen, ret);
                line = strchr(line, '\n');
                if (line)
                        line++;
        }
        return -ENOENT;
}

static char *path_join(const char *dir, const char *file)
{
        char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, file) < 0)
                return NULL;
        return p;
}

int sbx_cg_read_file(const char *dir, const char *file, char **ret, sbx_error **err)
{
        sbx_autofree char *path = path_join(dir, file);
        if (!path)
                return sbx_error_errno(err, ENOMEM, "read %s/%s", dir, file);
        sbx_autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return sbx_error_errno(err, errno, "open %s", path);
        /* a cgroup file is a few KiB at most (cgroup.procs: one line a task) */
        int r = sbx_read_fd(fd, 64 << 20, ret, NULL);
        return r < 0 ? sbx_error_errno(err, -r, "read %s", path) : 0;
}

int sbx_cg_read_u64(const char *dir, const char *file, uint64_t *ret, sbx_error **err)
{
        sbx_autofree char *text = NULL;
        int r = sbx_cg_read_file(dir, file, &text, err);
        if (r < 0)
                return r;
        uint64_t v;
        r = sbx_cg_parse_u64(text, &v);
        if (r < 0)
                return sbx_error_set(err, -r, "parse %s/%s: not a number: '%.32s'", dir, file,
                                     text);
        *ret = v;
        return 0;
}

int sbx_cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *ret,
                      sbx_error **err)
{
        sbx_autofree char *text = NULL;
        int r = sbx_cg_read_file(dir, file, &text, err);
        if (r < 0)
                return r;
        uint64_t v;
        r = sbx_cg_parse_keyed(text, key, &v);
        if (r == -ENOENT)
                return sbx_error_set(err, ENOENT, "parse %s/%s: no key '%s'", dir, file, key);
        if (r < 0)
                return sbx_error_set(err, -r, "parse %s/%s: bad value for '%s'", dir, file, key);
        *ret = v;
        return 0;
}

int sbx_cg_write_file(const char *dir, const char *file, const char *value, sbx_error **err)
{
        sbx_autofree char *path = path_join(dir, file);
        if (!path)
                return sbx_error_errno(err, ENOMEM, "write %s/%s", dir, file);
        sbx_autoclose int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return sbx_error_errno(err, errno, "open %s", path);
        size_t len = strlen(value);
        ssize_t n = write(fd, value, len);
        if (n < 0)
                return sbx_error_errno(err, errno, "write '%s' to %s", value, path);
        if ((size_t)n != len)
                return sbx_error_set(err, EIO, "write '%s' to %s: short write", value, path);
        return 0;
}

bool sbx_cg_file_exists(const char *dir, const char *file)
{
        sbx_autofree char *path = path_join(dir, file);
        return path && access(path, F_OK) == 0;
}

int sbx_cg_write_pid(const char *dir, pid_t pid, sbx_error **err)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%d", (int)pid);
        return sbx_cg_write_file(dir, "cgroup.procs", buf, err);
}

int sbx_cg_read_pids(const char *dir, pid_t **ret, size_t *ret_n, sbx_error **err)
{
        sbx_autofree char *text = NULL;
        int r = sbx_cg_read_file(dir, "cgroup.procs", &text, err);
        if (r < 0)
                return r;
        size_t n = 0, cap = 0;
        sbx_autofree pid_t *pids = NULL;
        for (char *p = text; *p;) {
                char *end = NULL;
                long v = strtol(p, &end, 10);
                if (end == p || v <= 0)
                        return sbx_error_set(err, EINVAL, "parse %s/cgroup.procs: bad pid", dir);
                if (n == cap) {
                        cap = cap ? cap * 2 : 16;
                        pid_t *bigger = realloc(pids, cap * sizeof(*pids));
                        if (!bigger)
                                return sbx_error_errno(err, ENOMEM, "read %s/cgroup.procs", dir);
                        pids = bigger;
                }
                pids[n++] = (pid_t)v;
                p = end;
                while (*p == '\n' || *p == ' ')
                        p++;
        }
        *ret = sbx_steal_ptr(pids);
        *ret_n = n;
        return 0;
}

bool sbx_cg_host_has_swap(void)
{
        sbx_autofree char *text = NULL;
        if (sbx_cg_read_file("/proc", "swaps", &text, NULL) < 0)
                return true; /* unknown: assume swap could be used */
        const char *nl = strchr(text, '\n');
        return nl && nl[1] != '\0';
}

int sbx_cg_rmdir(const char *dir, sbx_error **err)
{
        /* A killed task leaves the cgroup a moment after its parent saw it
         * die; rmdir says EBUSY until then. 2 s at most. */
        for (int i = 0; i < 400; i++) {
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        break;
                struct timespec ts = { 0, 5 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        return sbx_error_errno(err, errno, "rmdir %s", dir);
}

int sbx_cg_strv_add(char ***v, const char *fmt, ...)
{
        size_t n = 0;
        while (*v && (*v)[n])
                n++;
        char **bigger = realloc(*v, (n + 2) * sizeof(char *));
        if (!bigger)
                return -ENOMEM;
        *v = bigger;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&bigger[n], fmt, ap);
        va_end(ap);
        if (r < 0) {
                bigger[n] = NULL;
                return -ENOMEM;
        }
        bigger[n + 1] = NULL;
        return 0;
}

void sbx_cg_strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}
