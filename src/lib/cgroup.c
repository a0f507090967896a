/* cgroup: host layout, placement, limit checks, and the lifecycle of one
 * sandbox cgroup (create, open, destroy). The per-version work is in
 * cgroup_v1.c and cgroup_v2.c; see cgroup.h for the model. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sandboxctl/util.h"
#include "src/lib/cgroup_internal.h"

static const char *const ctrl_names[SBX_CG_N] = {
        [SBX_CG_PIDS] = "pids",       [SBX_CG_MEMORY] = "memory",   [SBX_CG_CPU] = "cpu",
        [SBX_CG_CPUACCT] = "cpuacct", [SBX_CG_FREEZER] = "freezer",
};

const char *sbx_cg_ctrl_name(enum sbx_cg_ctrl c)
{
        return (unsigned)c < SBX_CG_N ? ctrl_names[c] : "?";
}

static int ctrl_from_name(const char *s, size_t len)
{
        for (int c = 0; c < SBX_CG_N; c++)
                if (strlen(ctrl_names[c]) == len && strncmp(ctrl_names[c], s, len) == 0)
                        return c;
        return -1;
}

unsigned sbx_cg_parse_controller_list(const char *text)
{
        unsigned bits = 0;
        const char *p = text;
        while (p && *p) {
                p += strspn(p, " \t\n,");
                size_t len = strcspn(p, " \t\n,");
                int c = len ? ctrl_from_name(p, len) : -1;
                if (c >= 0)
                        bits |= 1u << c;
                p += len;
        }
        return bits;
}

/* ---- host layout ---------------------------------------------------- */

void sbx_cg_host_clear(struct sbx_cg_host *h)
{
        free(h->v2_mount);
        free(h->v2_root);
        free(h->self_v2);
        for (int c = 0; c < SBX_CG_N; c++) {
                free(h->v1_mount[c]);
                free(h->v1_root[c]);
                free(h->self_v1[c]);
        }
        memset(h, 0, sizeof(*h));
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape_mountinfo(const char *s, size_t len)
{
        char *out = malloc(len + 1), *o = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3') {
                        *o++ = (char)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) |
                                      (s[i + 3] - '0'));
                        i += 3;
                } else {
                        *o++ = s[i];
                }
        }
        *o = '\0';
        return out;
}

/* Fields of one mountinfo line that we need:
 * "id parent maj:min root mountpoint options [optional...] - fstype source super". */
struct mi_line {
        const char *root, *mnt, *fstype, *super;
        size_t root_len, mnt_len, fstype_len, super_len;
};

static int split_mountinfo_line(const char *line, size_t len, struct mi_line *m)
{
        const char *tok[64];
        size_t tlen[64], n = 0, dash = 0;
        for (size_t i = 0; i < len && n < SBX_ARRAY_SIZE(tok);) {
                size_t l = 0;
                while (i + l < len && line[i + l] != ' ')
                        l++;
                tok[n] = line + i, tlen[n] = l;
                if (!dash && l == 1 && line[i] == '-' && n >= 6)
                        dash = n;
                n++;
                i += l + 1;
        }
        if (!dash || dash + 3 >= n)
                return -EINVAL;
        m->root = tok[3], m->root_len = tlen[3];
        m->mnt = tok[4], m->mnt_len = tlen[4];
        m->fstype = tok[dash + 1], m->fstype_len = tlen[dash + 1];
        m->super = tok[dash + 3], m->super_len = tlen[dash + 3];
        return 0;
}

static int host_add_mount(struct sbx_cg_host *h, const struct mi_line *m)
{
        bool v2 = m->fstype_len == 7 && strncmp(m->fstype, "cgroup2", 7) == 0;
        bool v1 = m->fstype_len == 6 && strncmp(m->fstype, "cgroup", 6) == 0;
        if (v2 && !h->v2_mount) {
                h->v2_mount = unescape_mountinfo(m->mnt, m->mnt_len);
                h->v2_root = unescape_mountinfo(m->root, m->root_len);
                return h->v2_mount && h->v2_root ? 0 : -ENOMEM;
        }
        if (!v1)
                return 0;
        sbx_autofree char *super = strndup(m->super, m->super_len);
        if (!super)
                return -ENOMEM;
        unsigned bits = sbx_cg_parse_controller_list(super);
        for (int c = 0; c < SBX_CG_N; c++) {
                if (!(bits & (1u << c)) || h->v1_mount[c])
                        continue;
                h->v1_mount[c] = unescape_mountinfo(m->mnt, m->mnt_len);
                h->v1_root[c] = unescape_mountinfo(m->root, m->root_len);
                if (!h->v1_mount[c] || !h->v1_root[c])
                        return -ENOMEM;
        }
        return 0;
}

static int host_add_self(struct sbx_cg_host *h, const char *line, size_t len)
{
        const char *c1 = memchr(line, ':', len);
        const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
        if (!c2)
                return -EINVAL;
        sbx_autofree char *path = strndup(c2 + 1, len - (size_t)(c2 + 1 - line));
        if (!path)
                return -ENOMEM;
        if (c2 == c1 + 1) {
                if (strncmp(line, "0:", 2) == 0 && !h->self_v2)
                        h->self_v2 = sbx_steal_ptr(path);
                return 0;
        }
        sbx_autofree char *ctrls = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
        if (!ctrls)
                return -ENOMEM;
        unsigned bits = sbx_cg_parse_controller_list(ctrls);
        for (int c = 0; c < SBX_CG_N; c++) {
                if (!(bits & (1u << c)) || h->self_v1[c])
                        continue;
                h->self_v1[c] = strdup(path);
                if (!h->self_v1[c])
                        return -ENOMEM;
        }
        return 0;
}

typedef int (*line_fn)(struct sbx_cg_host *h, const char *line, size_t len);

static int mountinfo_line(struct sbx_cg_host *h, const char *line, size_t len)
{
        struct mi_line m;
        if (split_mountinfo_line(line, len, &m) < 0)
                return -EINVAL;
        return host_add_mount(h, &m);
}

static int for_each_line(struct sbx_cg_host *h, const char *text, line_fn fn)
{
        for (const char *p = text; *p;) {
                size_t len = strcspn(p, "\n");
                if (len > 0) {
                        int r = fn(h, p, len);
                        if (r < 0)
                                return r;
                }
                p += len;
                if (*p)
                        p++;
        }
        return 0;
}

int sbx_cg_host_parse(const char *mountinfo, const char *proc_cgroup, struct sbx_cg_host *ret,
                      sbx_error **err)
{
        struct sbx_cg_host h = { 0 };
        int r = for_each_line(&h, mountinfo, mountinfo_line);
        if (r < 0) {
                sbx_cg_host_clear(&h);
                return sbx_error_set(err, -r, "parse mountinfo: %s",
                                     r == -ENOMEM ? "out of memory" : "malformed line");
        }
        r = for_each_line(&h, proc_cgroup, host_add_self);
        if (r < 0) {
                sbx_cg_host_clear(&h);
                return sbx_error_set(err, -r, "parse /proc/self/cgroup: %s",
                                     r == -ENOMEM ? "out of memory" : "malformed line");
        }
        bool any_v1 = false;
        for (int c = 0; c < SBX_CG_N; c++)
                any_v1 |= h.v1_mount[c] != NULL;
        if (!any_v1 && !h.v2_mount) {
                sbx_cg_host_clear(&h);
                return sbx_error_set(err, ENOENT, "no cgroup filesystem is mounted");
        }
        h.v2 = !any_v1;
        if (h.v2 && !h.self_v2) {
                sbx_cg_host_clear(&h);
                return sbx_error_set(err, EINVAL,
                                     "parse /proc/self/cgroup: no cgroup v2 entry (0::/path)");
        }
        *ret = h;
        return 0;
}

static int read_text(const char *path, char **ret, sbx_error **err)
{
        sbx_autofree char *dir = strdup(path);
        if (!dir)
                return sbx_error_errno(err, ENOMEM, "read %s", path);
        char *slash = strrchr(dir, '/');
        *slash = '\0';
        return sbx_cg_read_file(dir, slash + 1, ret, err);
}

int sbx_cg_host_detect(struct sbx_cg_host *ret, sbx_error **err)
{
        sbx_autofree char *mi = NULL, *self = NULL;
        int r = read_text("/proc/self/mountinfo", &mi, err);
        if (r < 0)
                return r;
        r = read_text("/proc/self/cgroup", &self, err);
        if (r < 0)
                return r;
        return sbx_cg_host_parse(mi, self, ret, err);
}

/* ---- placement ------------------------------------------------------ */

void sbx_cg_place_clear(struct sbx_cg_place *p)
{
        free(p->display);
        free(p->v2_base);
        free(p->v2_dir);
        free(p->parent_rel);
        for (int c = 0; c < SBX_CG_N; c++) {
                free(p->dir[c]);
                free(p->rel[c]);
        }
        memset(p, 0, sizeof(*p));
}

/* Join path pieces with single slashes; empty pieces are skipped; the
 * result starts with '/' only if the first piece does. */
static char *join_path(const char *const *parts, size_t n)
{
        size_t cap = 2;
        for (size_t i = 0; i < n; i++)
                cap += strlen(parts[i]) + 1;
        char *out = malloc(cap), *o = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                const char *s = parts[i];
                if (i > 0)
                        s += strspn(s, "/");
                size_t len = strlen(s);
                while (len > 1 && s[len - 1] == '/')
                        len--;
                if (len == 0 || (o != out && len == 1 && *s == '/'))
                        continue;
                if (o != out && o[-1] != '/')
                        *o++ = '/';
                memcpy(o, s, len);
                o += len;
        }
        *o = '\0';
        return out;
}
#define JOIN(...)                                       \
        join_path((const char *const[]){ __VA_ARGS__ }, \
                  sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *))

static bool name_ok(const char *s, size_t len)
{
        return len > 0 && !(len == 1 && s[0] == '.') && !(len == 2 && s[0] == '.' && s[1] == '.');
}

static int check_names(const char *parent, const char *id, sbx_error **err)
{
        if (!id || !name_ok(id, strlen(id)) || strchr(id, '/') || strchr(id, '\n') ||
            strlen(id) > 200)
                return sbx_error_set(err, EINVAL, "bad cgroup name '%s': want a plain name",
                                     id ? id : "(null)");
        const char *p = parent + strspn(parent, "/");
        if (!*p)
                return sbx_error_set(err, EINVAL, "bad cgroup parent '%s': empty", parent);
        while (*p) {
                size_t len = strcspn(p, "/");
                if ((len > 0 && !name_ok(p, len)) || memchr(p, '\n', len))
                        return sbx_error_set(err, EINVAL,
                                             "bad cgroup parent '%s': '.' and '..' not allowed",
                                             parent);
                p += len;
                p += strspn(p, "/");
        }
        return 0;
}

/* `path` (as /proc/self/cgroup says) relative to a mount whose root is `root`. */
static int strip_mount_root(const char *path, const char *root, const char **ret)
{
        size_t rl = strlen(root);
        if (strcmp(root, "/") == 0)
                *ret = path;
        else if (strncmp(path, root, rl) == 0 && (path[rl] == '/' || path[rl] == '\0'))
                *ret = path + rl;
        else
                return -EINVAL;
        return 0;
}

static int place_v2(const struct sbx_cg_host *h, const char *parent, const char *id,
                    bool root_writable, struct sbx_cg_place *p, sbx_error **err)
{
        const char *own = "/";
        if (parent[0] != '/' && !root_writable &&
            strip_mount_root(h->self_v2, h->v2_root, &own) < 0)
                return sbx_error_set(err, EINVAL, "own cgroup %s is outside the mount at %s",
                                     h->self_v2, h->v2_mount);
        p->v2 = true;
        p->v2_base = JOIN(h->v2_mount, own);
        p->parent_rel = JOIN("", parent);
        p->v2_dir = JOIN(h->v2_mount, own, parent, id);
        p->display = p->v2_dir ? strdup(p->v2_dir) : NULL;
        if (!p->v2_base || !p->parent_rel || !p->v2_dir || !p->display)
                return sbx_error_errno(err, ENOMEM, "place cgroup %s", id);
        return 0;
}

static int place_v1(const struct sbx_cg_host *h, const char *parent, const char *id,
                    struct sbx_cg_place *p, sbx_error **err)
{
        p->parent_rel = JOIN("", parent);
        p->display = JOIN("/", parent, id);
        if (!p->parent_rel || !p->display)
                return sbx_error_errno(err, ENOMEM, "place cgroup %s", id);
        for (int c = 0; c < SBX_CG_N; c++) {
                if (!h->v1_mount[c])
                        continue;
                const char *own = "";
                if (c == SBX_CG_MEMORY && parent[0] != '/' && h->self_v1[c] &&
                    strip_mount_root(h->self_v1[c], h->v1_root[c], &own) < 0)
                        return sbx_error_set(err, EINVAL,
                                             "own memory cgroup %s is outside the mount at %s",
                                             h->self_v1[c], h->v1_mount[c]);
                p->rel[c] = JOIN("", own, parent, id);
                p->dir[c] = p->rel[c] ? JOIN(h->v1_mount[c], p->rel[c]) : NULL;
                if (!p->dir[c])
                        return sbx_error_errno(err, ENOMEM, "place cgroup %s", id);
                for (int e = 0; e < c; e++)
                        if (p->dir[e] && strcmp(p->dir[e], p->dir[c]) == 0)
                                p->dup[c] = true;
        }
        return 0;
}

int sbx_cg_place_compute(const struct sbx_cg_host *h, const char *parent, const char *id,
                         bool v2_root_writable, struct sbx_cg_place *ret, sbx_error **err)
{
        int r = check_names(parent, id, err);
        if (r < 0)
                return r;
        struct sbx_cg_place p = { 0 };
        r = h->v2 ? place_v2(h, parent, id, v2_root_writable, &p, err) :
                    place_v1(h, parent, id, &p, err);
        if (r < 0) {
                sbx_cg_place_clear(&p);
                return r;
        }
        *ret = p;
        return 0;
}

/* Is dir the cgroup at own_path (in the hierarchy mounted at mnt/root), or
 * one of its ancestors? */
static bool dir_holds(const char *dir, const char *mnt, const char *root, const char *own_path)
{
        const char *rel = NULL;
        if (!dir || !mnt || !own_path || strip_mount_root(own_path, root, &rel) < 0)
                return false;
        sbx_autofree char *own = JOIN(mnt, rel);
        size_t len = strlen(dir);
        return own && strncmp(own, dir, len) == 0 && (own[len] == '\0' || own[len] == '/');
}

bool sbx_cg_place_holds_self(const struct sbx_cg_host *h, const struct sbx_cg_place *p)
{
        if (p->v2)
                return dir_holds(p->v2_dir, h->v2_mount, h->v2_root, h->self_v2);
        for (int c = 0; c < SBX_CG_N; c++)
                if (dir_holds(p->dir[c], h->v1_mount[c], h->v1_root[c], h->self_v1[c]))
                        return true;
        return false;
}

/* ---- limit checks --------------------------------------------------- */

static int missing_limit(const char *what, const char *ctrl, bool v2, const char *where,
                         sbx_error **err)
{
        if (v2)
                return sbx_error_set(err, EOPNOTSUPP,
                                     "%s limit: the %s controller is not available below %s "
                                     "(fix: echo +%s > %s/cgroup.subtree_control as its owner, "
                                     "use a --cgroup-parent where %s is delegated, or mark the "
                                     "limit best_effort)",
                                     what, ctrl, where, ctrl, where, ctrl);
        return sbx_error_set(err, EOPNOTSUPP,
                             "%s limit: the %s controller is not mounted (%s; fix: mount it at "
                             "/sys/fs/cgroup/%s, or mark the limit best_effort)",
                             what, ctrl, where, ctrl);
}

struct limit_need {
        unsigned bit; /* SBX_LIMIT_* */
        const char *what;
        int ctrl; /* SBX_CG_* */
};

int sbx_cg_check_limits(const struct sbx_limits *lim, unsigned avail, bool v2, bool memsw,
                        const char *where, char ***warnings, unsigned *ret_apply, sbx_error **err)
{
        static const struct limit_need needs[] = {
                { SBX_LIMIT_MEMORY, "memory", SBX_CG_MEMORY },
                { SBX_LIMIT_PIDS, "pids", SBX_CG_PIDS },
                { SBX_LIMIT_CPU, "cpu", SBX_CG_CPU },
        };
        unsigned want = (lim->memory ? SBX_LIMIT_MEMORY | SBX_LIMIT_MEMORY_SWAP : 0) |
                        (lim->pids ? SBX_LIMIT_PIDS : 0) | (lim->cpu ? SBX_LIMIT_CPU : 0);
        unsigned apply = want;
        for (size_t i = 0; i < SBX_ARRAY_SIZE(needs); i++) {
                const struct limit_need *n = &needs[i];
                if (!(want & n->bit) || (avail & (1u << n->ctrl)))
                        continue;
                if (!(lim->best_effort & n->bit))
                        return missing_limit(n->what, ctrl_names[n->ctrl], v2, where, err);
                apply &= ~n->bit;
                if (n->bit == SBX_LIMIT_MEMORY)
                        apply &= ~SBX_LIMIT_MEMORY_SWAP;
                if (sbx_cg_strv_add(warnings,
                                    "%s limit not enforced: the %s controller is not available "
                                    "(best_effort)",
                                    n->what, ctrl_names[n->ctrl]) < 0)
                        return sbx_error_errno(err, ENOMEM, "check limits");
        }
        if ((apply & SBX_LIMIT_MEMORY_SWAP) && !memsw) {
                const char *file = v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes";
                if (!(lim->best_effort & (SBX_LIMIT_MEMORY_SWAP | SBX_LIMIT_MEMORY)))
                        return sbx_error_set(err, EOPNOTSUPP,
                                             "memory_swap limit: the kernel has no swap "
                                             "accounting (%s is missing; fix: boot with "
                                             "swapaccount=1, or mark memory_swap best_effort)",
                                             file);
                apply &= ~SBX_LIMIT_MEMORY_SWAP;
                if (sbx_cg_strv_add(warnings,
                                    "memory_swap limit not enforced: no swap accounting (%s "
                                    "is missing) (best_effort)",
                                    file) < 0)
                        return sbx_error_errno(err, ENOMEM, "check limits");
        }
        *ret_apply = apply;
        return 0;
}

/* ---- lifecycle ------------------------------------------------------ */

const char *sbx_cgroup_parent_resolve(const char *parent)
{
        if (parent && *parent)
                return parent;
        const char *env = getenv(SBX_CGROUP_PARENT_ENV);
        return env && *env ? env : SBX_CGROUP_PARENT_DEFAULT;
}

static int cgroup_new(const char *parent, const char *id, struct sbx_cgroup **ret, sbx_error **err)
{
        struct sbx_cg_host h = { 0 };
        int r = sbx_cg_host_detect(&h, err);
        if (r < 0)
                return r;
        struct sbx_cgroup *cg = calloc(1, sizeof(*cg));
        if (!cg) {
                sbx_cg_host_clear(&h);
                return sbx_error_errno(err, ENOMEM, "cgroup %s", id);
        }
        cg->v2_fd = -1;
        cg->id = strdup(id ? id : "");
        cg->parent = strdup(parent);
        cg->warnings = calloc(1, sizeof(char *));
        bool root_writable = h.v2 && access(h.v2_mount, W_OK) == 0;
        r = sbx_cg_place_compute(&h, parent, id, root_writable, &cg->place, err);
        /* Never create, kill or remove the cgroup we run in, or its parents. */
        if (r >= 0 && sbx_cg_place_holds_self(&h, &cg->place))
                r = sbx_error_set(err, EPERM, "cgroup %s holds this process: refusing",
                                  cg->place.display);
        cg->memsw_host = h.v2 ? false : sbx_cg_v1_has_memsw(&h);
        sbx_cg_host_clear(&h);
        if (r >= 0 && (!cg->id || !cg->parent || !cg->warnings))
                r = sbx_error_errno(err, ENOMEM, "cgroup %s", id);
        if (r < 0) {
                sbx_cgroup_free(cg);
                return r;
        }
        *ret = cg;
        return 0;
}

static int build_dirs(struct sbx_cgroup *cg, sbx_error **err)
{
        free(cg->dirs);
        cg->dirs = calloc(SBX_CG_N + 1, sizeof(char *));
        if (!cg->dirs)
                return sbx_error_errno(err, ENOMEM, "cgroup %s", cg->id);
        size_t n = 0;
        if (cg->place.v2)
                cg->dirs[n++] = cg->place.v2_dir;
        for (int c = 0; c < SBX_CG_N && !cg->place.v2; c++)
                if (cg->place.dir[c] && !cg->place.dup[c])
                        cg->dirs[n++] = cg->place.dir[c];
        return 0;
}

static bool any_dir_exists(const struct sbx_cgroup *cg)
{
        for (size_t i = 0; cg->dirs[i]; i++)
                if (access(cg->dirs[i], F_OK) == 0)
                        return true;
        return false;
}

static int check_v1(struct sbx_cgroup *cg, const struct sbx_limits *lim, unsigned *ret_apply,
                    sbx_error **err)
{
        unsigned avail = 0;
        for (int c = 0; c < SBX_CG_N; c++)
                if (cg->place.dir[c])
                        avail |= 1u << c;
        return sbx_cg_check_limits(lim, avail, false, cg->memsw_host, "cgroup v1", &cg->warnings,
                                   ret_apply, err);
}

static void record_limits(struct sbx_cgroup *cg, const struct sbx_limits *lim, unsigned apply)
{
        struct sbx_cgroup_limits *l = &cg->limits;
        unsigned want = (lim->memory ? SBX_LIMIT_MEMORY | SBX_LIMIT_MEMORY_SWAP : 0) |
                        (lim->pids ? SBX_LIMIT_PIDS : 0) | (lim->cpu ? SBX_LIMIT_CPU : 0);
        l->applied = apply;
        l->skipped = want & ~apply;
        l->memory = (apply & SBX_LIMIT_MEMORY) ? lim->memory : 0;
        l->memory_swap = (apply & SBX_LIMIT_MEMORY_SWAP) ? lim->memory_swap : 0;
        l->pids = (apply & SBX_LIMIT_PIDS) ? lim->pids : 0;
        l->cpu = (apply & SBX_LIMIT_CPU) ? lim->cpu : 0;
        l->cpu_quota_usec = l->cpu ? sbx_cg_cpu_quota_usec(l->cpu) : 0;
        l->cpu_period_usec = l->cpu ? SBX_CG_CPU_PERIOD_USEC : 0;
}

static int create_v1(struct sbx_cgroup *cg, const struct sbx_limits *lim, sbx_error **err)
{
        unsigned apply = 0;
        int r = check_v1(cg, lim, &apply, err);
        if (r < 0)
                return r;
        if (any_dir_exists(cg))
                return sbx_error_set(err, EEXIST, "cgroup %s exists already", cg->place.display);
        record_limits(cg, lim, apply);
        r = sbx_cg_v1_create(cg, lim, apply, err);
        if (r < 0) {
                sbx_cg_v1_remove(cg, NULL);
                sbx_cg_remove_parent_chain(cg);
        }
        return r;
}

static int create_v2(struct sbx_cgroup *cg, const struct sbx_limits *lim, sbx_error **err)
{
        if (any_dir_exists(cg))
                return sbx_error_set(err, EEXIST, "cgroup %s exists already", cg->place.display);
        unsigned avail = 0, apply = 0;
        int r = sbx_cg_v2_prepare_parent(cg, &avail, err);
        if (r >= 0) {
                r = sbx_cg_check_limits(lim, avail, true, cg->memsw_host, cg->place.v2_base,
                                        &cg->warnings, &apply, err);
        }
        if (r >= 0) {
                record_limits(cg, lim, apply);
                r = sbx_cg_v2_create(cg, lim, apply, err);
        }
        if (r < 0 && r != -EEXIST) {
                sbx_cg_v2_remove(cg, NULL);
                sbx_cg_remove_parent_chain(cg);
        }
        return r;
}

/* A concurrent destroy may remove the (empty) default parent between our
 * mkdir of the parent and of the leaf: then the leaf's mkdir says ENOENT
 * and we try again, a few times. */
static int create_retrying(struct sbx_cgroup *cg, const struct sbx_limits *lim, sbx_error **err)
{
        int r = -ENOENT;
        for (int attempt = 0; attempt < 3 && r == -ENOENT; attempt++) {
                sbx_error *e = NULL;
                sbx_cg_strv_free(cg->warnings);
                cg->warnings = calloc(1, sizeof(char *));
                if (!cg->warnings)
                        return sbx_error_errno(err, ENOMEM, "cgroup %s", cg->id);
                r = cg->place.v2 ? create_v2(cg, lim, &e) : create_v1(cg, lim, &e);
                if (r == -ENOENT && attempt < 2) {
                        sbx_error_free(e);
                        continue;
                }
                if (r < 0 && err && !*err)
                        *err = e;
                else
                        sbx_error_free(e);
        }
        return r;
}

int sbx_cgroup_create(const char *parent, const char *id, const struct sbx_spec *spec,
                      struct sbx_cgroup **ret, sbx_error **err)
{
        static const struct sbx_limits none = { 0 };
        const struct sbx_limits *lim = spec ? &spec->limits : &none;
        struct sbx_cgroup *cg = NULL;
        int r = cgroup_new(sbx_cgroup_parent_resolve(parent), id, &cg, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "create cgroup %s", id ? id : "(null)");
        r = build_dirs(cg, err);
        if (r >= 0)
                r = create_retrying(cg, lim, err);
        if (r < 0) {
                cg->destroyed = true;
                sbx_cgroup_free(cg);
                return sbx_error_prefix(err, r, "create cgroup %s", id);
        }
        *ret = cg;
        return 0;
}

int sbx_cgroup_open(const char *parent, const char *id, struct sbx_cgroup **ret, sbx_error **err)
{
        struct sbx_cgroup *cg = NULL;
        int r = cgroup_new(sbx_cgroup_parent_resolve(parent), id, &cg, err);
        if (r >= 0)
                r = build_dirs(cg, err);
        if (r >= 0 && !any_dir_exists(cg))
                r = sbx_error_set(err, ENOENT, "no cgroup %s", cg->place.display);
        if (r >= 0 && cg->place.v2) {
                cg->v2_fd = open(cg->place.v2_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (cg->v2_fd < 0)
                        r = sbx_error_errno(err, errno, "open %s", cg->place.v2_dir);
        }
        if (r < 0) {
                if (cg)
                        cg->destroyed = true;
                sbx_cgroup_free(cg);
                return sbx_error_prefix(err, r, "open cgroup %s", id ? id : "(null)");
        }
        *ret = cg;
        return 0;
}

int sbx_cgroup_destroy(struct sbx_cgroup *cg, sbx_error **err)
{
        if (!cg || cg->destroyed)
                return 0;
        int r = sbx_cgroup_kill(cg, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "destroy cgroup %s", cg->place.display);
        r = cg->place.v2 ? sbx_cg_v2_remove(cg, err) : sbx_cg_v1_remove(cg, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "destroy cgroup %s", cg->place.display);
        /* The default parent stays: made once, shared by every sandbox,
         * removed by gc when empty (sbx_cgroup_parent_remove_if_empty). */
        cg->destroyed = true;
        return 0;
}

int sbx_cgroup_parent_remove_if_empty(const char *parent, sbx_error **err)
{
        struct sbx_cgroup *cg = NULL;
        /* Any plain leaf name will do: only its parent chain is used. */
        int r = cgroup_new(sbx_cgroup_parent_resolve(parent), "leaf", &cg, err);
        if (r >= 0)
                r = build_dirs(cg, err);
        if (r >= 0)
                sbx_cg_remove_parent_chain(cg);
        if (cg)
                cg->destroyed = true;
        sbx_cgroup_free(cg);
        return r < 0 ? sbx_error_prefix(err, r, "remove cgroup parent") : 0;
}

/* Opens parent/id if it exists: 1 with *ret set, 0 when there is none. */
static int open_existing(const char *parent, const char *id, struct sbx_cgroup **ret,
                         sbx_error **err)
{
        sbx_error *e = NULL;
        int r = sbx_cgroup_open(parent, id, ret, &e);

        if (r == -ENOENT) {
                sbx_error_free(e);
                return 0;
        }
        if (r < 0) {
                if (err && !*err)
                        *err = e;
                else
                        sbx_error_free(e);
                return r;
        }
        return 1;
}

int sbx_cgroup_remove_stale(const char *parent, const char *id, sbx_error **err)
{
        struct sbx_cgroup *cg = NULL;
        int r = open_existing(parent, id, &cg, err);
        if (r <= 0)
                return r;
        r = sbx_cgroup_destroy(cg, err);
        sbx_cgroup_free(cg);
        return r < 0 ? r : 1;
}

/* Remove what is left of cg from a short-lived command: libcgroup on v1
 * (every hierarchy, empty only), rmdir on v2 or where libcgroup cannot
 * be loaded. */
static int collect_remove(struct sbx_cgroup *cg, sbx_error **err)
{
        if (!cg->place.v2 && sbx_cg_lib_available())
                return sbx_cg_lib_remove(cg, err);
        return cg->place.v2 ? sbx_cg_v2_remove(cg, err) : sbx_cg_v1_remove(cg, err);
}

static bool cgroup_populated(const struct sbx_cgroup *cg)
{
        for (size_t i = 0; cg->dirs[i]; i++) {
                sbx_autofree pid_t *pids = NULL;
                size_t n = 0;
                int r = sbx_cg_read_pids(cg->dirs[i], &pids, &n, NULL);
                /* Unreadable: not ours to judge; gone there: empty there. */
                if ((r < 0 && r != -ENOENT) || n > 0)
                        return true;
        }
        return false;
}

int sbx_cgroup_collect(const char *parent, const char *id, bool kill, sbx_error **err)
{
        struct sbx_cgroup *cg = NULL;
        int r = open_existing(parent, id, &cg, err);
        if (r <= 0)
                return r;
        if (!kill && cgroup_populated(cg))
                r = sbx_error_set(err, EBUSY, "cgroup %s has processes", cg->place.display);
        else if (kill)
                r = sbx_cgroup_kill(cg, err);
        if (r >= 0)
                r = collect_remove(cg, err);
        cg->destroyed = true;
        sbx_cgroup_free(cg);
        return r < 0 ? r : 1;
}

/* Without libcgroup (v2, or not loadable): read the parent directory. */
static int list_ids_dir(const struct sbx_cgroup *cg, unsigned min_age_s, char ***ret,
                        sbx_error **err)
{
        sbx_autofree char *dir = strdup(cg->dirs[0]);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        if (!slash)
                return sbx_error_errno(err, ENOMEM, "list cgroups");
        *slash = '\0';
        char **ids = calloc(1, sizeof(char *));
        DIR *d = opendir(dir);
        struct dirent *de;
        struct stat st;
        while (ids && d && (de = readdir(d))) {
                if (strlen(de->d_name) != 16 || strspn(de->d_name, "0123456789abcdef") != 16 ||
                    fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISDIR(st.st_mode) ||
                    (min_age_s && st.st_mtime + (time_t)min_age_s > time(NULL)))
                        continue;
                if (sbx_cg_strv_add(&ids, "%s", de->d_name) < 0) {
                        sbx_cg_strv_free(ids);
                        ids = NULL;
                }
        }
        if (d)
                closedir(d);
        if (!ids)
                return sbx_error_errno(err, ENOMEM, "list cgroups in %s", dir);
        *ret = ids;
        return 0;
}

int sbx_cgroup_list_ids(const char *parent, unsigned min_age_s, char ***ret, sbx_error **err)
{
        struct sbx_cgroup *cg = NULL;
        /* Any plain leaf name will do: only its parent is used. */
        int r = cgroup_new(sbx_cgroup_parent_resolve(parent), "leaf", &cg, err);
        if (r >= 0)
                r = build_dirs(cg, err);
        if (r >= 0 && !cg->dirs[0])
                r = sbx_error_set(err, ENOENT, "no cgroup hierarchy");
        if (r >= 0)
                r = !cg->place.v2 && sbx_cg_lib_available() ?
                            sbx_cg_lib_list_ids(cg, min_age_s, ret, err) :
                            list_ids_dir(cg, min_age_s, ret, err);
        if (cg)
                cg->destroyed = true;
        sbx_cgroup_free(cg);
        return r < 0 ? sbx_error_prefix(err, r, "list sandbox cgroups") : 0;
}

/* Remove the parent chain's directories when empty. Only the default parent
 * is ours to remove: a parent the user named may carry their own settings.
 * An empty directory left under the caller's memory cgroup would also keep
 * whoever owns that cgroup from removing it. */
void sbx_cg_remove_parent_chain(struct sbx_cgroup *cg)
{
        if (strcmp(cg->parent, SBX_CGROUP_PARENT_DEFAULT) != 0)
                return;
        for (size_t i = 0; cg->dirs && cg->dirs[i]; i++) {
                sbx_autofree char *d = strdup(cg->dirs[i]);
                size_t depth = 1;
                for (const char *p = cg->place.parent_rel; *p; p++)
                        depth += *p == '/';
                for (size_t k = 0; d && k < depth; k++) {
                        char *slash = strrchr(d, '/');
                        if (!slash)
                                break;
                        *slash = '\0';
                        if (rmdir(d) < 0)
                                break;
                }
        }
}

void sbx_cgroup_free(struct sbx_cgroup *cg)
{
        if (!cg)
                return;
        if (cg->v2_fd >= 0)
                close(cg->v2_fd);
        sbx_cgroup_self_attach_close(cg);
        sbx_cg_place_clear(&cg->place);
        sbx_cg_strv_free(cg->warnings);
        free(cg->dirs);
        free(cg->id);
        free(cg->parent);
        free(cg);
}

int sbx_cgroup_version(const struct sbx_cgroup *cg)
{
        return cg->place.v2 ? 2 : 1;
}

const char *sbx_cgroup_path(const struct sbx_cgroup *cg)
{
        return cg->place.display;
}

const char *const *sbx_cgroup_dirs(const struct sbx_cgroup *cg)
{
        return (const char *const *)cg->dirs;
}

const struct sbx_cgroup_limits *sbx_cgroup_limits(const struct sbx_cgroup *cg)
{
        return &cg->limits;
}

const char *const *sbx_cgroup_warnings(const struct sbx_cgroup *cg)
{
        return (const char *const *)cg->warnings;
}

int sbx_cgroup_clone_fd(const struct sbx_cgroup *cg)
{
        return cg->place.v2 ? cg->v2_fd : -1;
}

int sbx_cgroup_attach(struct sbx_cgroup *cg, pid_t pid, sbx_error **err)
{
        for (size_t i = 0; cg->dirs[i]; i++) {
                int r = sbx_cg_write_pid(cg->dirs[i], pid, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "attach pid %d to cgroup %s", (int)pid,
                                                cg->place.display);
        }
        return 0;
}

int sbx_cgroup_self_attach_open(struct sbx_cgroup *cg, sbx_error **err)
{
        sbx_cgroup_self_attach_close(cg);
        if (cg->place.v2)
                return 0;
        for (size_t i = 0; cg->dirs[i]; i++) {
                sbx_autofree char *path = NULL;
                if (asprintf(&path, "%s/tasks", cg->dirs[i]) < 0) {
                        path = NULL;
                        sbx_cgroup_self_attach_close(cg);
                        return sbx_error_errno(err, ENOMEM, "open tasks of %s", cg->dirs[i]);
                }
                int fd = open(path, O_WRONLY | O_CLOEXEC);
                if (fd < 0) {
                        int e = errno;
                        sbx_cgroup_self_attach_close(cg);
                        return sbx_error_errno(err, e, "open %s", path);
                }
                cg->task_fds[cg->n_task_fds++] = fd;
        }
        return 1;
}

int sbx_cgroup_attach_self(const struct sbx_cgroup *cg, sbx_error **err)
{
        for (size_t i = 0; i < cg->n_task_fds; i++) {
                /* "0" is the writer itself: one thread, no threadgroup lock. */
                if (write(cg->task_fds[i], "0", 1) != 1)
                        return sbx_error_errno(err, errno, "attach to cgroup %s: write 0 to %s/tasks",
                                               cg->place.display, cg->dirs[i]);
        }
        return 0;
}

void sbx_cgroup_self_attach_close(struct sbx_cgroup *cg)
{
        while (cg->n_task_fds > 0)
                close(cg->task_fds[--cg->n_task_fds]);
}
