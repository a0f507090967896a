/* spec: construction, copy, destruction and cross-field checks of the
 * resolved sandbox configuration; enum names as written in profiles. */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sandboxctl/spec.h"
#include "sandboxctl/util.h"

#include "profile_internal.h"

int sbx_strv_push(struct sbx_strv *v, const char *s)
{
        char *copy = strdup(s ? s : "");
        if (!copy)
                return -ENOMEM;
        char **items = realloc(v->items, (v->n + 2) * sizeof(*items));
        if (!items) {
                free(copy);
                return -ENOMEM;
        }
        items[v->n++] = copy;
        items[v->n] = NULL;
        v->items = items;
        return 0;
}

void sbx_strv_clear(struct sbx_strv *v)
{
        if (!v)
                return;
        for (size_t i = 0; i < v->n; i++)
                free(v->items[i]);
        free(v->items);
        v->items = NULL;
        v->n = 0;
}

int sbx_strv_copy(struct sbx_strv *dst, const struct sbx_strv *src)
{
        struct sbx_strv tmp = { 0 };
        for (size_t i = 0; i < src->n; i++)
                if (sbx_strv_push(&tmp, src->items[i]) < 0) {
                        sbx_strv_clear(&tmp);
                        return -ENOMEM;
                }
        sbx_strv_clear(dst);
        *dst = tmp;
        return 0;
}

void sbx_spec_clear_tmpfs(struct sbx_filesystem *fs)
{
        for (size_t i = 0; i < fs->n_tmpfs; i++)
                free(fs->tmpfs[i].path);
        free(fs->tmpfs);
        fs->tmpfs = NULL;
        fs->n_tmpfs = 0;
}

void sbx_spec_clear_binds(struct sbx_filesystem *fs)
{
        for (size_t i = 0; i < fs->n_binds; i++) {
                free(fs->binds[i].source);
                free(fs->binds[i].target);
        }
        free(fs->binds);
        fs->binds = NULL;
        fs->n_binds = 0;
}

void sbx_spec_free(struct sbx_spec *spec)
{
        if (!spec)
                return;
        free(spec->name);
        free(spec->description);
        free(spec->source);
        free(spec->isolation.hostname);
        free(spec->filesystem.rootfs);
        free(spec->filesystem.workspace_path);
        sbx_spec_clear_tmpfs(&spec->filesystem);
        sbx_spec_clear_binds(&spec->filesystem);
        sbx_strv_clear(&spec->filesystem.masked);
        free(spec->security.seccomp_file);
        sbx_strv_clear(&spec->security.syscalls_deny);
        sbx_strv_clear(&spec->security.syscalls_allow);
        sbx_strv_clear(&spec->security.capabilities);
        sbx_strv_clear(&spec->env);
        sbx_strv_clear(&spec->watch.paths);
        sbx_strv_clear(&spec->watch.include);
        sbx_strv_clear(&spec->watch.exclude);
        free(spec->watch.rebuild);
        sbx_strv_clear(&spec->watch.artifacts);
        free(spec);
}

/* The masked paths of the shipped medium profile. */
static const char *const default_masked[] = {
        "/proc/kcore",      "/proc/keys",       "/proc/sysrq-trigger",
        "/proc/timer_list", "/proc/latency_stats", "/proc/sched_debug",
        "/proc/scsi",       "/proc/acpi",       "/sys/firmware",
};

static int spec_set_default_strings(struct sbx_spec *s)
{
        s->isolation.hostname = strdup("sandbox");
        s->filesystem.workspace_path = strdup("/workspace");
        s->filesystem.tmpfs = calloc(1, sizeof(*s->filesystem.tmpfs));
        if (!s->isolation.hostname || !s->filesystem.workspace_path || !s->filesystem.tmpfs)
                return -ENOMEM;
        s->filesystem.tmpfs[0].path = strdup("/tmp");
        s->filesystem.tmpfs[0].size = 64ULL << 20;
        s->filesystem.n_tmpfs = 1;
        if (!s->filesystem.tmpfs[0].path)
                return -ENOMEM;
        for (size_t i = 0; i < SBX_ARRAY_SIZE(default_masked); i++)
                if (sbx_strv_push(&s->filesystem.masked, default_masked[i]) < 0)
                        return -ENOMEM;
        return sbx_strv_push(&s->env, "PATH=" SBX_DEFAULT_PATH);
}

int sbx_spec_new_default(struct sbx_spec **ret, sbx_error **err)
{
        struct sbx_spec *s = calloc(1, sizeof(*s));
        if (!s)
                return sbx_error_errno(err, ENOMEM, "allocate spec");
        s->isolation.level = SBX_ISOLATION_MEDIUM;
        s->isolation.namespaces = SBX_NS_ALL;
        s->limits = (struct sbx_limits){
                .memory = 128ULL << 20,
                .memory_swap = 0,
                .pids = 100,
                .cpu = 500,
                .timeout_ms = 300000,
                .file_size = 10ULL << 20,
                .open_files = 1024,
        };
        s->filesystem.workspace_mode = SBX_WORKSPACE_RW;
        s->network = SBX_NETWORK_NONE;
        s->security.seccomp = SBX_SECCOMP_DEFAULT;
        s->security.no_new_privileges = true;
        s->audit = SBX_AUDIT_BASIC;
        s->watch.debounce_ms = 100;
        s->watch.reload = SBX_RELOAD_RESTART;
        s->watch.rebuild_timeout_ms = 300000;
        s->watch.healthy_after_ms = 2000;
        s->watch.gitignore = true;
        s->checkpoint.keep = 10;
        s->checkpoint.workspace = true;
        s->lifecycle.stop_signal = SIGTERM;
        s->lifecycle.stop_timeout_ms = 10000;
        if (spec_set_default_strings(s) < 0) {
                sbx_spec_free(s);
                return sbx_error_errno(err, ENOMEM, "allocate spec");
        }
        *ret = s;
        return 0;
}

static int dup_str(char **dst, const char *src)
{
        *dst = NULL;
        if (!src)
                return 0;
        *dst = strdup(src);
        return *dst ? 0 : -ENOMEM;
}

/* Deep-copy the owned members of a spec that was first copied bytewise. */
static int spec_dup_members(struct sbx_spec *d, const struct sbx_spec *s)
{
        int r = 0;
        r |= dup_str(&d->name, s->name);
        r |= dup_str(&d->description, s->description);
        r |= dup_str(&d->source, s->source);
        r |= dup_str(&d->isolation.hostname, s->isolation.hostname);
        r |= dup_str(&d->filesystem.rootfs, s->filesystem.rootfs);
        r |= dup_str(&d->filesystem.workspace_path, s->filesystem.workspace_path);
        r |= dup_str(&d->security.seccomp_file, s->security.seccomp_file);
        r |= dup_str(&d->watch.rebuild, s->watch.rebuild);
        r |= sbx_strv_copy(&d->filesystem.masked, &s->filesystem.masked);
        r |= sbx_strv_copy(&d->security.syscalls_deny, &s->security.syscalls_deny);
        r |= sbx_strv_copy(&d->security.syscalls_allow, &s->security.syscalls_allow);
        r |= sbx_strv_copy(&d->security.capabilities, &s->security.capabilities);
        r |= sbx_strv_copy(&d->env, &s->env);
        r |= sbx_strv_copy(&d->watch.paths, &s->watch.paths);
        r |= sbx_strv_copy(&d->watch.include, &s->watch.include);
        r |= sbx_strv_copy(&d->watch.exclude, &s->watch.exclude);
        r |= sbx_strv_copy(&d->watch.artifacts, &s->watch.artifacts);
        return r ? -ENOMEM : 0;
}

static int spec_dup_mounts(struct sbx_filesystem *d, const struct sbx_filesystem *s)
{
        int r = 0;
        if (s->n_tmpfs) {
                d->tmpfs = calloc(s->n_tmpfs, sizeof(*d->tmpfs));
                if (!d->tmpfs)
                        return -ENOMEM;
                d->n_tmpfs = s->n_tmpfs;
                for (size_t i = 0; i < s->n_tmpfs; i++) {
                        d->tmpfs[i].size = s->tmpfs[i].size;
                        r |= dup_str(&d->tmpfs[i].path, s->tmpfs[i].path);
                }
        }
        if (s->n_binds) {
                d->binds = calloc(s->n_binds, sizeof(*d->binds));
                if (!d->binds)
                        return -ENOMEM;
                d->n_binds = s->n_binds;
                for (size_t i = 0; i < s->n_binds; i++) {
                        d->binds[i].read_only = s->binds[i].read_only;
                        r |= dup_str(&d->binds[i].source, s->binds[i].source);
                        r |= dup_str(&d->binds[i].target, s->binds[i].target);
                }
        }
        return r ? -ENOMEM : 0;
}

/* Zero every owned pointer of a bytewise copy, so that a failed copy frees
 * only what it allocated itself. */
static void spec_forget_members(struct sbx_spec *d)
{
        struct sbx_spec clean = *d;
        clean.name = clean.description = clean.source = NULL;
        clean.isolation.hostname = NULL;
        clean.filesystem.rootfs = clean.filesystem.workspace_path = NULL;
        clean.filesystem.tmpfs = NULL;
        clean.filesystem.n_tmpfs = 0;
        clean.filesystem.binds = NULL;
        clean.filesystem.n_binds = 0;
        clean.filesystem.masked = (struct sbx_strv){ 0 };
        clean.security.seccomp_file = NULL;
        clean.security.syscalls_deny = clean.security.syscalls_allow = (struct sbx_strv){ 0 };
        clean.security.capabilities = clean.env = (struct sbx_strv){ 0 };
        clean.watch.paths = clean.watch.include = clean.watch.exclude = (struct sbx_strv){ 0 };
        clean.watch.artifacts = (struct sbx_strv){ 0 };
        clean.watch.rebuild = NULL;
        *d = clean;
}

int sbx_spec_dup(const struct sbx_spec *spec, struct sbx_spec **ret, sbx_error **err)
{
        struct sbx_spec *d = malloc(sizeof(*d));
        if (!d)
                return sbx_error_errno(err, ENOMEM, "copy spec");
        *d = *spec;
        spec_forget_members(d);
        if (spec_dup_members(d, spec) < 0 ||
            spec_dup_mounts(&d->filesystem, &spec->filesystem) < 0) {
                sbx_spec_free(d);
                return sbx_error_errno(err, ENOMEM, "copy spec");
        }
        *ret = d;
        return 0;
}

const char *sbx_isolation_level_to_string(enum sbx_isolation_level v)
{
        switch (v) {
        case SBX_ISOLATION_STRICT:
                return "strict";
        case SBX_ISOLATION_MEDIUM:
                return "medium";
        case SBX_ISOLATION_RELAXED:
                return "relaxed";
        default:
                return NULL;
        }
}

const char *sbx_workspace_mode_to_string(enum sbx_workspace_mode v)
{
        switch (v) {
        case SBX_WORKSPACE_RW:
                return "rw";
        case SBX_WORKSPACE_RO:
                return "ro";
        case SBX_WORKSPACE_OVERLAY:
                return "overlay";
        default:
                return NULL;
        }
}

const char *sbx_network_mode_to_string(enum sbx_network_mode v)
{
        switch (v) {
        case SBX_NETWORK_NONE:
                return "none";
        case SBX_NETWORK_HOST:
                return "host";
        case SBX_NETWORK_VETH:
                return "veth";
        default:
                return NULL;
        }
}

int sbx_network_mode_from_string(const char *s, enum sbx_network_mode *ret)
{
        static const enum sbx_network_mode modes[] = {
                SBX_NETWORK_NONE, SBX_NETWORK_HOST, SBX_NETWORK_VETH,
        };
        for (size_t i = 0; s && i < SBX_ARRAY_SIZE(modes); i++)
                if (strcmp(s, sbx_network_mode_to_string(modes[i])) == 0) {
                        *ret = modes[i];
                        return 0;
                }
        return -EINVAL;
}

const char *sbx_seccomp_mode_to_string(enum sbx_seccomp_mode v)
{
        switch (v) {
        case SBX_SECCOMP_DEFAULT:
                return "default";
        case SBX_SECCOMP_STRICT:
                return "strict";
        case SBX_SECCOMP_NONE:
                return "none";
        case SBX_SECCOMP_FILE:
                return "file";
        default:
                return NULL;
        }
}

const char *sbx_audit_level_to_string(enum sbx_audit_level v)
{
        switch (v) {
        case SBX_AUDIT_FULL:
                return "full";
        case SBX_AUDIT_BASIC:
                return "basic";
        case SBX_AUDIT_NONE:
                return "none";
        default:
                return NULL;
        }
}

const char *sbx_namespace_to_string(enum sbx_namespace v)
{
        switch (v) {
        case SBX_NS_USER:
                return "user";
        case SBX_NS_PID:
                return "pid";
        case SBX_NS_MOUNT:
                return "mount";
        case SBX_NS_UTS:
                return "uts";
        case SBX_NS_IPC:
                return "ipc";
        case SBX_NS_NET:
                return "net";
        case SBX_NS_CGROUP:
                return "cgroup";
        case SBX_NS_ALL:
        default:
                return NULL;
        }
}
