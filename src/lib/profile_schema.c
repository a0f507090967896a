/* profile_schema: the key table of a profile, with the type, the allowed
 * values and the effect of each key on a spec. One walk over the tree both
 * validates and applies; every problem becomes one error line, and the walk
 * goes on so that a user sees all the problems of a file at once. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sandboxctl/security.h"
#include "sandboxctl/state.h"
#include "sandboxctl/units.h"
#include "sandboxctl/util.h"

#include "profile_walk.h"

/* ---- isolation ---- */

static void apply_level(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        static const char *const names[] = { "strict", "medium", "relaxed" };
        static const enum sbx_isolation_level values[] = {
                SBX_ISOLATION_STRICT, SBX_ISOLATION_MEDIUM, SBX_ISOLATION_RELAXED,
        };
        int i;
        if (PARSE_ENUM(c, n, path, names, &i))
                c->spec->isolation.level = values[i];
}

static void apply_namespaces(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        static const char *const names[] = { "user", "pid", "mount", "uts", "ipc", "net",
                                             "cgroup" };
        unsigned bits = 0;
        bool ok = true;

        if (!sbx_pw_is_list(c, n, path))
                return;
        for (size_t i = 0; i < sbx_pw_list_len(n); i++) {
                sbx_autofree char *sub = sbx_pw_path_index(path, i);
                int k;
                if (!sub) {
                        sbx_pw_oom(c);
                        return;
                }
                if (!PARSE_ENUM(c, n->values[i], sub, names, &k)) {
                        ok = false;
                        continue;
                }
                if (bits & (1u << k)) {
                        report(c, n->values[i], sub, "duplicate namespace '%s'", names[k]);
                        ok = false;
                }
                bits |= 1u << k; /* the bit order of enum sbx_namespace */
        }
        if (ok)
                c->spec->isolation.namespaces = bits;
}

static void apply_hostname(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        const char *v = sbx_pw_scalar(c, n, path);
        if (!v)
                return;
        if (!sbx_hostname_is_valid(v)) {
                report(c, n, path,
                       "invalid hostname '%s' (letters, digits, '-' and '.', at most 64 "
                       "characters)", v);
                return;
        }
        sbx_pw_set_string(c, &c->spec->isolation.hostname, v);
}

static const struct key_def isolation_keys[] = {
        { "level", apply_level },
        { "namespaces", apply_namespaces },
        { "hostname", apply_hostname },
};

static void apply_isolation(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        APPLY_MAP(c, n, path, isolation_keys);
}

/* ---- limits ---- */

/* `word` (unlimited, none) for 0, as sbx_spec_to_json writes it. */
static bool is_word(const struct sbx_pnode *n, const char *word)
{
        return n->kind == SBX_PNODE_SCALAR && n->value && strcmp(n->value, word) == 0;
}

static void apply_memory(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        if (is_word(n, "unlimited"))
                c->spec->limits.memory = 0;
        else
                sbx_pw_parse_unit(c, n, path, sbx_parse_size, &c->spec->limits.memory);
}

static void apply_memory_swap(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_pw_parse_unit(c, n, path, sbx_parse_size, &c->spec->limits.memory_swap);
}

static void apply_file_size(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_pw_parse_unit(c, n, path, sbx_parse_size, &c->spec->limits.file_size);
}

static void apply_pids(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        if (is_word(n, "unlimited"))
                c->spec->limits.pids = 0;
        else
                sbx_pw_parse_count(c, n, path, 1, SBX_PIDS_MAX, &c->spec->limits.pids);
}

static void apply_open_files(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_pw_parse_count(c, n, path, SBX_OPEN_FILES_MIN, SBX_OPEN_FILES_MAX,
                    &c->spec->limits.open_files);
}

static void apply_cpu(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_autoerror e = NULL;
        const char *v = sbx_pw_scalar(c, n, path);
        if (v && strcmp(v, "unlimited") == 0)
                c->spec->limits.cpu = 0;
        else if (v && sbx_parse_cpu(v, &c->spec->limits.cpu, &e) < 0)
                sbx_pw_report_error(c, n, path, e);
}

static void apply_timeout(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        uint64_t ms;
        if (is_word(n, "none")) {
                c->spec->limits.timeout_ms = 0;
                return;
        }
        if (!sbx_pw_parse_unit(c, n, path, sbx_parse_duration, &ms))
                return;
        if (ms == 0) {
                report(c, n, path, "must be greater than 0 (or none for no timeout; omit the "
                                   "key to keep the default)");
                return;
        }
        c->spec->limits.timeout_ms = ms;
}

static void apply_best_effort(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        static const char *const names[] = { "memory", "memory_swap", "pids", "cpu" };
        unsigned bits = 0;
        bool ok = true;

        if (!sbx_pw_is_list(c, n, path))
                return;
        for (size_t i = 0; i < sbx_pw_list_len(n); i++) {
                sbx_autofree char *sub = sbx_pw_path_index(path, i);
                int k;
                if (!sub) {
                        sbx_pw_oom(c);
                        return;
                }
                if (PARSE_ENUM(c, n->values[i], sub, names, &k))
                        bits |= 1u << k; /* the bit order of enum sbx_limit */
                else
                        ok = false;
        }
        if (ok)
                c->spec->limits.best_effort = bits;
}

static const struct key_def limits_keys[] = {
        { "memory", apply_memory },     { "memory_swap", apply_memory_swap },
        { "pids", apply_pids },         { "cpu", apply_cpu },
        { "timeout", apply_timeout },   { "file_size", apply_file_size },
        { "open_files", apply_open_files }, { "best_effort", apply_best_effort },
};

static void apply_limits(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        APPLY_MAP(c, n, path, limits_keys);
}

/* ---- filesystem ---- */

static void apply_rootfs(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        const char *v = sbx_pw_scalar(c, n, path);
        if (!v)
                return;
        if (strcmp(v, "host") == 0) {
                free(c->spec->filesystem.rootfs);
                c->spec->filesystem.rootfs = NULL;
                return;
        }
        if (v[0] != '/') {
                report(c, n, path, "expected 'host' or an absolute path, got '%s'", v);
                return;
        }
        sbx_pw_set_string(c, &c->spec->filesystem.rootfs, v);
}

static void apply_workspace_path(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        const char *v = sbx_pw_scalar(c, n, path);
        if (v && sbx_pw_check_absolute(c, n, path, v))
                sbx_pw_set_string(c, &c->spec->filesystem.workspace_path, v);
}

static void apply_workspace_mode(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        static const char *const names[] = { "rw", "ro", "overlay" };
        static const enum sbx_workspace_mode values[] = {
                SBX_WORKSPACE_RW, SBX_WORKSPACE_RO, SBX_WORKSPACE_OVERLAY,
        };
        int i;
        if (PARSE_ENUM(c, n, path, names, &i))
                c->spec->filesystem.workspace_mode = values[i];
}

static const struct key_def workspace_keys[] = {
        { "path", apply_workspace_path },
        { "mode", apply_workspace_mode },
};

static void apply_workspace(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        APPLY_MAP(c, n, path, workspace_keys);
}

static void apply_tmpfs_path(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        const char *v = sbx_pw_scalar(c, n, path);
        if (v && sbx_pw_check_absolute(c, n, path, v))
                sbx_pw_set_string(c, &c->tmpfs->path, v);
}

static void apply_tmpfs_size(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        uint64_t size;
        if (!sbx_pw_parse_unit(c, n, path, sbx_parse_size, &size))
                return;
        if (size == 0) {
                report(c, n, path, "must be greater than 0");
                return;
        }
        c->tmpfs->size = size;
}

static const struct key_def tmpfs_keys[] = {
        { "path", apply_tmpfs_path },
        { "size", apply_tmpfs_size },
};

static void select_tmpfs(struct vctx *c, void *items, size_t i)
{
        struct sbx_tmpfs *t = items;
        t[i].size = SBX_TMPFS_DEFAULT_SIZE;
        c->tmpfs = &t[i];
}

static void apply_tmpfs(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        static const char *const required[] = { "path" };
        struct sbx_filesystem tmp = { .n_tmpfs = sbx_pw_list_len(n) };

        if (!sbx_pw_is_list(c, n, path))
                return;
        tmp.tmpfs = calloc(tmp.n_tmpfs ? tmp.n_tmpfs : 1, sizeof(*tmp.tmpfs));
        if (!tmp.tmpfs) {
                sbx_pw_oom(c);
                return;
        }
        bool ok = APPLY_MAP_ITEMS(c, n, path, tmpfs_keys, required, select_tmpfs, tmp.tmpfs);
        c->tmpfs = NULL;
        if (!ok) {
                sbx_spec_clear_tmpfs(&tmp);
                return;
        }
        sbx_spec_clear_tmpfs(&c->spec->filesystem);
        c->spec->filesystem.tmpfs = tmp.tmpfs;
        c->spec->filesystem.n_tmpfs = tmp.n_tmpfs;
}

static void apply_bind_source(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        const char *v = sbx_pw_scalar(c, n, path);
        if (v && sbx_pw_check_absolute(c, n, path, v))
                sbx_pw_set_string(c, &c->bind->source, v);
}

static void apply_bind_target(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        const char *v = sbx_pw_scalar(c, n, path);
        if (v && sbx_pw_check_absolute(c, n, path, v))
                sbx_pw_set_string(c, &c->bind->target, v);
}

static void apply_bind_mode(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        static const char *const names[] = { "ro", "rw" };
        int i;
        if (PARSE_ENUM(c, n, path, names, &i))
                c->bind->read_only = i == 0;
}

static const struct key_def bind_keys[] = {
        { "source", apply_bind_source },
        { "target", apply_bind_target },
        { "mode", apply_bind_mode },
};

static void select_bind(struct vctx *c, void *items, size_t i)
{
        struct sbx_bind *b = items;
        b[i].read_only = true;
        c->bind = &b[i];
}

static void apply_binds(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        static const char *const required[] = { "source", "target" };
        struct sbx_filesystem tmp = { .n_binds = sbx_pw_list_len(n) };

        if (!sbx_pw_is_list(c, n, path))
                return;
        tmp.binds = calloc(tmp.n_binds ? tmp.n_binds : 1, sizeof(*tmp.binds));
        if (!tmp.binds) {
                sbx_pw_oom(c);
                return;
        }
        bool ok = APPLY_MAP_ITEMS(c, n, path, bind_keys, required, select_bind, tmp.binds);
        c->bind = NULL;
        if (!ok) {
                sbx_spec_clear_binds(&tmp);
                return;
        }
        sbx_spec_clear_binds(&c->spec->filesystem);
        c->spec->filesystem.binds = tmp.binds;
        c->spec->filesystem.n_binds = tmp.n_binds;
}

static void apply_masked(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_pw_apply_strv(c, n, path, &c->spec->filesystem.masked, sbx_pw_check_absolute);
}

static const struct key_def filesystem_keys[] = {
        { "rootfs", apply_rootfs }, { "workspace", apply_workspace },
        { "tmpfs", apply_tmpfs },   { "binds", apply_binds },
        { "masked", apply_masked },
};

static void apply_filesystem(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        APPLY_MAP(c, n, path, filesystem_keys);
}

/* ---- network ---- */

static void apply_network_mode(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        static const char *const names[] = { "none", "host", "veth" };
        static const enum sbx_network_mode values[] = {
                SBX_NETWORK_NONE, SBX_NETWORK_HOST, SBX_NETWORK_VETH,
        };
        int i;
        if (PARSE_ENUM(c, n, path, names, &i))
                c->spec->network = values[i];
}

static const struct key_def network_keys[] = {
        { "mode", apply_network_mode },
};

static void apply_network(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        APPLY_MAP(c, n, path, network_keys);
}

/* ---- security ---- */

static void apply_seccomp(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        static const char *const names[] = { "default", "strict", "none" };
        static const enum sbx_seccomp_mode values[] = {
                SBX_SECCOMP_DEFAULT, SBX_SECCOMP_STRICT, SBX_SECCOMP_NONE,
        };
        const char *v = sbx_pw_scalar(c, n, path);
        if (!v)
                return;
        for (size_t i = 0; i < SBX_ARRAY_SIZE(names); i++)
                if (strcmp(v, names[i]) == 0) {
                        c->spec->security.seccomp = values[i];
                        free(c->spec->security.seccomp_file);
                        c->spec->security.seccomp_file = NULL;
                        return;
                }
        if (!strchr(v, '/')) {
                report(c, n, path,
                       "invalid value '%s' (expected default, strict, none or a file path "
                       "containing '/')", v);
                return;
        }
        sbx_autofree char *file = sbx_profile_resolve_relative(n->file, v);
        if (!file) {
                sbx_pw_oom(c);
                return;
        }
        free(c->spec->security.seccomp_file);
        c->spec->security.seccomp_file = sbx_steal_ptr(file);
        c->spec->security.seccomp = SBX_SECCOMP_FILE;
}

static bool check_syscall(struct vctx *c, const struct sbx_pnode *n, const char *path,
                          const char *v)
{
        sbx_autoerror e = NULL;
        if (sbx_syscall_check_name(v, &e) >= 0)
                return true;
        sbx_pw_report_error(c, n, path, e);
        return false;
}

static void apply_syscalls_deny(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_pw_apply_strv(c, n, path, &c->spec->security.syscalls_deny, check_syscall);
}

static void apply_syscalls_allow(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_pw_apply_strv(c, n, path, &c->spec->security.syscalls_allow, check_syscall);
}

static const struct key_def syscalls_keys[] = {
        { "deny", apply_syscalls_deny },
        { "allow", apply_syscalls_allow },
};

static void apply_syscalls(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        APPLY_MAP(c, n, path, syscalls_keys);
}

static bool check_capability(struct vctx *c, const struct sbx_pnode *n, const char *path,
                             const char *v)
{
        sbx_autoerror e = NULL;
        if (sbx_capability_check_name(v, &e) >= 0)
                return true;
        sbx_pw_report_error(c, n, path, e);
        return false;
}

static void apply_capabilities(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        struct sbx_strv raw = { 0 }, norm = { 0 };

        sbx_pw_apply_strv(c, n, path, &raw, check_capability);
        for (size_t i = 0; i < raw.n; i++) {
                char *name = raw.items[i];
                if (strncasecmp(name, "cap_", 4) == 0)
                        name += 4;
                for (char *p = name; *p; p++)
                        *p = (char)tolower((unsigned char)*p);
                bool seen = false;
                for (size_t j = 0; j < norm.n && !seen; j++)
                        seen = strcmp(norm.items[j], name) == 0;
                if (!seen && sbx_strv_push(&norm, name) < 0)
                        sbx_pw_oom(c);
        }
        sbx_strv_clear(&raw);
        sbx_strv_clear(&c->spec->security.capabilities);
        c->spec->security.capabilities = norm;
}

static void apply_no_new_privileges(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_pw_parse_bool(c, n, path, &c->spec->security.no_new_privileges);
}

static const struct key_def security_keys[] = {
        { "seccomp", apply_seccomp },
        { "syscalls", apply_syscalls },
        { "capabilities", apply_capabilities },
        { "no_new_privileges", apply_no_new_privileges },
};

static void apply_security(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        APPLY_MAP(c, n, path, security_keys);
}

/* ---- audit, env ---- */

static void apply_audit(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        static const char *const names[] = { "full", "basic", "none" };
        static const enum sbx_audit_level values[] = {
                SBX_AUDIT_FULL, SBX_AUDIT_BASIC, SBX_AUDIT_NONE,
        };
        int i;
        if (PARSE_ENUM(c, n, path, names, &i))
                c->spec->audit = values[i];
}

/* Set KEY=VALUE in env, replacing an earlier KEY in place. */
static int env_set(struct sbx_strv *env, const char *key, const char *value)
{
        sbx_autofree char *entry = NULL;
        size_t klen = strlen(key);

        if (asprintf(&entry, "%s=%s", key, value) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < env->n; i++)
                if (strncmp(env->items[i], key, klen) == 0 && env->items[i][klen] == '=') {
                        free(env->items[i]);
                        env->items[i] = sbx_steal_ptr(entry);
                        return 0;
                }
        return sbx_strv_push(env, entry);
}

static void apply_env(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        if (sbx_pnode_is_null(n))
                return;
        if (n->kind != SBX_PNODE_MAP) {
                report(c, n, path, "expected a mapping");
                return;
        }
        for (size_t i = 0; i < n->n; i++) {
                const char *key = n->keys[i]->value;
                sbx_autofree char *sub = sbx_pw_path_key(path, key);
                if (!sub) {
                        sbx_pw_oom(c);
                        return;
                }
                if (sbx_pw_check_duplicate(c, n, i, sub))
                        continue;
                if (!sbx_env_name_is_valid(key, strlen(key))) {
                        report(c, n->keys[i], sub,
                               "invalid variable name '%s' (letters, digits and '_', not "
                               "starting with a digit)", key);
                        continue;
                }
                if (n->values[i]->kind != SBX_PNODE_SCALAR) {
                        report(c, n->values[i], sub, "expected a scalar");
                        continue;
                }
                if (env_set(&c->spec->env, key, n->values[i]->value) < 0)
                        sbx_pw_oom(c);
        }
}

/* ---- watch ---- */

static void apply_watch_paths(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_pw_apply_strv(c, n, path, &c->spec->watch.paths, NULL);
}

static void apply_watch_include(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_pw_apply_strv(c, n, path, &c->spec->watch.include, NULL);
}

static void apply_watch_exclude(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_pw_apply_strv(c, n, path, &c->spec->watch.exclude, NULL);
}

static void apply_watch_artifacts(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_pw_apply_strv(c, n, path, &c->spec->watch.artifacts, NULL);
}

static void apply_debounce(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_pw_parse_unit(c, n, path, sbx_parse_duration, &c->spec->watch.debounce_ms);
}

static void apply_rebuild_timeout(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_pw_parse_unit(c, n, path, sbx_parse_duration, &c->spec->watch.rebuild_timeout_ms);
}

static void apply_healthy_after(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_pw_parse_unit(c, n, path, sbx_parse_duration, &c->spec->watch.healthy_after_ms);
}

static void apply_rebuild(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        const char *v = sbx_pw_scalar(c, n, path);
        if (v)
                sbx_pw_set_string(c, &c->spec->watch.rebuild, v);
}

static void apply_reload(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        const char *v = sbx_pw_scalar(c, n, path);
        int sig;

        if (!v)
                return;
        if (strcmp(v, "restart") == 0 || strcmp(v, "none") == 0) {
                c->spec->watch.reload = v[0] == 'r' ? SBX_RELOAD_RESTART : SBX_RELOAD_NONE;
                c->spec->watch.reload_signal = 0;
                return;
        }
        if (strncmp(v, "signal:", 7) != 0) {
                report(c, n, path, "invalid value '%s' (expected restart, none or signal:NAME)",
                       v);
                return;
        }
        if (sbx_signal_from_name(v + 7, &sig) < 0) {
                report(c, n, path, "invalid signal '%s' (expected a name like HUP or SIGUSR1)",
                       v + 7);
                return;
        }
        c->spec->watch.reload = SBX_RELOAD_SIGNAL;
        c->spec->watch.reload_signal = sig;
}

static void apply_gitignore(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_pw_parse_bool(c, n, path, &c->spec->watch.gitignore);
}

static const struct key_def watch_keys[] = {
        { "paths", apply_watch_paths },
        { "include", apply_watch_include },
        { "exclude", apply_watch_exclude },
        { "debounce", apply_debounce },
        { "rebuild", apply_rebuild },
        { "reload", apply_reload },
        { "rebuild_timeout", apply_rebuild_timeout },
        { "healthy_after", apply_healthy_after },
        { "artifacts", apply_watch_artifacts },
        { "gitignore", apply_gitignore },
};

static void apply_watch(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        c->spec->has_watch = true;
        APPLY_MAP(c, n, path, watch_keys);
}

/* ---- checkpoint ---- */

static void apply_keep(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        uint64_t keep;
        if (sbx_pw_parse_count(c, n, path, 0, UINT32_MAX, &keep))
                c->spec->checkpoint.keep = (uint32_t)keep;
}

static void apply_checkpoint_workspace(struct vctx *c, const struct sbx_pnode *n,
                                       const char *path)
{
        sbx_pw_parse_bool(c, n, path, &c->spec->checkpoint.workspace);
}

static const struct key_def checkpoint_keys[] = {
        { "keep", apply_keep },
        { "workspace", apply_checkpoint_workspace },
};

static void apply_checkpoint(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        APPLY_MAP(c, n, path, checkpoint_keys);
}

/* ---- lifecycle ---- */

static void apply_stop_signal(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        const char *v = sbx_pw_scalar(c, n, path);
        int sig;

        if (!v)
                return;
        if (sbx_signal_from_name(v, &sig) < 0) {
                report(c, n, path, "invalid signal '%s' (expected a name like TERM or SIGINT)",
                       v);
                return;
        }
        c->spec->lifecycle.stop_signal = sig;
}

static void apply_stop_timeout(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_pw_parse_unit(c, n, path, sbx_parse_duration, &c->spec->lifecycle.stop_timeout_ms);
}

static void apply_restart(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_autoerror e = NULL;
        const char *v = sbx_pw_scalar(c, n, path);

        if (v && sbx_restart_policy_parse(v, &c->spec->lifecycle.restart, &e) < 0)
                sbx_pw_report_error(c, n, path, e);
}

static const struct key_def lifecycle_keys[] = {
        { "stop_signal", apply_stop_signal },
        { "stop_timeout", apply_stop_timeout },
        { "restart", apply_restart },
};

static void apply_lifecycle(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        APPLY_MAP(c, n, path, lifecycle_keys);
}

/* ---- top level ---- */

static void apply_name(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        const char *v = sbx_pw_scalar(c, n, path);
        if (!v)
                return;
        if (!sbx_profile_name_is_valid(v)) {
                report(c, n, path,
                       "invalid name '%s' (letters, digits, '.', '_' and '-', at most 64 "
                       "characters)", v);
                return;
        }
        sbx_pw_set_string(c, &c->spec->name, v);
}

static void apply_description(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        const char *v = sbx_pw_scalar(c, n, path);
        if (v)
                sbx_pw_set_string(c, &c->spec->description, v);
}

/* Resolved by the loader before the schema pass; only its type is checked. */
static void apply_extends(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        sbx_pw_scalar(c, n, path);
}

static const struct key_def top_keys[] = {
        { "name", apply_name },
        { "description", apply_description },
        { "extends", apply_extends },
        { "isolation", apply_isolation },
        { "limits", apply_limits },
        { "filesystem", apply_filesystem },
        { "network", apply_network },
        { "security", apply_security },
        { "audit", apply_audit },
        { "env", apply_env },
        { "watch", apply_watch },
        { "checkpoint", apply_checkpoint },
        { "lifecycle", apply_lifecycle },
};

int sbx_profile_apply(const struct sbx_pnode *tree, struct sbx_spec *spec,
                      struct sbx_errlist *errors)
{
        struct vctx c = { .errors = errors, .spec = spec };

        if (tree->kind != SBX_PNODE_MAP)
                report(&c, tree, "", "expected a mapping of profile keys");
        else
                APPLY_MAP(&c, tree, "", top_keys);
        return errors->oom ? -ENOMEM : 0;
}
