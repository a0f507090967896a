/* spec: the resolved, validated configuration of one sandbox.
 *
 * A spec is made by the profile module (YAML + `extends:`), then adjusted by
 * command-line overrides and checked again with sbx_spec_validate().
 * Everything downstream of parsing (namespaces, mounts, cgroups, security,
 * runtime) reads a spec and never the YAML tree. All strings are owned by the
 * spec; sbx_spec_free() releases everything. */
#ifndef SANDBOXCTL_SPEC_H
#define SANDBOXCTL_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandboxctl/error.h"

enum sbx_isolation_level {
        SBX_ISOLATION_STRICT,
        SBX_ISOLATION_MEDIUM,
        SBX_ISOLATION_RELAXED,
};

/* Namespace bits for sbx_isolation.namespaces. */
enum sbx_namespace {
        SBX_NS_USER = 1u << 0,
        SBX_NS_PID = 1u << 1,
        SBX_NS_MOUNT = 1u << 2,
        SBX_NS_UTS = 1u << 3,
        SBX_NS_IPC = 1u << 4,
        SBX_NS_NET = 1u << 5,
        SBX_NS_CGROUP = 1u << 6,
        SBX_NS_ALL = (1u << 7) - 1,
};

enum sbx_workspace_mode {
        SBX_WORKSPACE_RW,
        SBX_WORKSPACE_RO,
        SBX_WORKSPACE_OVERLAY,
};

enum sbx_network_mode {
        SBX_NETWORK_NONE,
        SBX_NETWORK_HOST,
        SBX_NETWORK_VETH,
};

enum sbx_seccomp_mode {
        SBX_SECCOMP_DEFAULT,
        SBX_SECCOMP_STRICT,
        SBX_SECCOMP_NONE,
        SBX_SECCOMP_FILE,
};

enum sbx_audit_level {
        SBX_AUDIT_FULL,
        SBX_AUDIT_BASIC,
        SBX_AUDIT_NONE,
};

enum sbx_reload_mode {
        SBX_RELOAD_RESTART,
        SBX_RELOAD_SIGNAL,
        SBX_RELOAD_NONE,
};

/* Bits for sbx_limits.best_effort: limits that may be skipped (with a
 * warning) when the host cannot enforce them. */
enum sbx_limit {
        SBX_LIMIT_MEMORY = 1u << 0,
        SBX_LIMIT_MEMORY_SWAP = 1u << 1,
        SBX_LIMIT_PIDS = 1u << 2,
        SBX_LIMIT_CPU = 1u << 3,
};

/* A NULL-terminated, owned list of owned strings; n excludes the NULL. */
struct sbx_strv {
        char **items;
        size_t n;
};

struct sbx_tmpfs {
        char *path;    /* absolute, inside the sandbox */
        uint64_t size; /* bytes */
};

struct sbx_bind {
        char *source; /* absolute, on the host */
        char *target; /* absolute, inside the sandbox */
        bool read_only;
};

struct sbx_isolation {
        enum sbx_isolation_level level;
        unsigned namespaces; /* SBX_NS_* bits */
        char *hostname;
};

struct sbx_limits {
        uint64_t memory;      /* bytes, 0 = unlimited */
        uint64_t memory_swap; /* bytes of swap on top of memory, 0 = none */
        uint64_t pids;        /* 0 = unlimited */
        uint32_t cpu;         /* thousandths of one CPU, 0 = unlimited */
        uint64_t timeout_ms;  /* wall clock, 0 = none */
        uint64_t file_size;   /* bytes, RLIMIT_FSIZE */
        uint64_t open_files;  /* RLIMIT_NOFILE */
        unsigned best_effort; /* SBX_LIMIT_* bits */
};

struct sbx_filesystem {
        char *rootfs;         /* NULL = the host's (rootfs: host), else a directory */
        char *workspace_path; /* mount point inside, default "/workspace" */
        enum sbx_workspace_mode workspace_mode;
        struct sbx_tmpfs *tmpfs;
        size_t n_tmpfs;
        struct sbx_bind *binds;
        size_t n_binds;
        struct sbx_strv masked;
};

struct sbx_security {
        enum sbx_seccomp_mode seccomp;
        char *seccomp_file; /* for SBX_SECCOMP_FILE */
        struct sbx_strv syscalls_deny;
        struct sbx_strv syscalls_allow;
        struct sbx_strv capabilities; /* kept, lower-case names without "cap_" */
        bool no_new_privileges;
};

struct sbx_watch {
        struct sbx_strv paths;
        struct sbx_strv include;
        struct sbx_strv exclude;
        uint64_t debounce_ms;
        char *rebuild; /* shell command, NULL = none */
        enum sbx_reload_mode reload;
        int reload_signal;           /* for SBX_RELOAD_SIGNAL */
        uint64_t rebuild_timeout_ms; /* default 5 min */
        uint64_t healthy_after_ms;   /* default 2 s */
        struct sbx_strv artifacts;   /* kept from the last good build */
        bool gitignore;              /* honour .gitignore files, default true */
};

struct sbx_checkpoint {
        uint32_t keep;  /* snapshots kept, 0 = unlimited */
        bool workspace; /* snapshot the workspace too, default true */
};

enum sbx_restart_mode {
        SBX_RESTART_NO,
        SBX_RESTART_ON_FAILURE,
        SBX_RESTART_ALWAYS,
};

struct sbx_restart_policy {
        enum sbx_restart_mode mode;
        unsigned max; /* restarts allowed, 0 = unlimited */
};

/* How a long-lived sandbox is stopped and restarted (lifecycle.*). */
struct sbx_lifecycle {
        int stop_signal;                   /* sent by `stop`, default SIGTERM */
        uint64_t stop_timeout_ms;          /* grace before the cgroup is killed, default 10 s */
        struct sbx_restart_policy restart; /* default no */
};

struct sbx_spec {
        char *name;
        char *description;
        char *source; /* file the profile came from, or "<builtin:medium>" */
        struct sbx_isolation isolation;
        struct sbx_limits limits;
        struct sbx_filesystem filesystem;
        enum sbx_network_mode network;
        struct sbx_security security;
        enum sbx_audit_level audit;
        struct sbx_strv env; /* "KEY=VALUE", in file order, keys unique */
        bool has_watch;
        struct sbx_watch watch;
        struct sbx_checkpoint checkpoint;
        struct sbx_lifecycle lifecycle;
};

void sbx_spec_free(struct sbx_spec *spec);
static inline void sbx_spec_freep(struct sbx_spec **p)
{
        sbx_spec_free(*p);
}
int sbx_spec_dup(const struct sbx_spec *spec, struct sbx_spec **ret, sbx_error **err);

/* Check cross-field rules (e.g. seccomp file set iff mode is file; absolute
 * paths; unique env keys). Used after command-line overrides. */
int sbx_spec_validate(const struct sbx_spec *spec, sbx_error **err);

/* The fully resolved spec as a JSON object text (pretty when `pretty`).
 * Keys and values are those of the YAML schema, with units written in their
 * canonical form ("128M", "300s", "50%"), so the output is itself a valid
 * profile (JSON is YAML). */
int sbx_spec_to_json(const struct sbx_spec *spec, bool pretty, char **ret_json, sbx_error **err);
/* The same, as YAML text (libyaml emitter). */
int sbx_spec_to_yaml(const struct sbx_spec *spec, char **ret_yaml, sbx_error **err);

/* Enum <-> string, as written in profiles ("strict", "rw", "none", ...). */
const char *sbx_isolation_level_to_string(enum sbx_isolation_level v);
const char *sbx_workspace_mode_to_string(enum sbx_workspace_mode v);
const char *sbx_network_mode_to_string(enum sbx_network_mode v);
const char *sbx_seccomp_mode_to_string(enum sbx_seccomp_mode v);
const char *sbx_audit_level_to_string(enum sbx_audit_level v);
const char *sbx_namespace_to_string(enum sbx_namespace v);
int sbx_network_mode_from_string(const char *s, enum sbx_network_mode *ret);

/* strv helpers */
int sbx_strv_push(struct sbx_strv *v, const char *s);
void sbx_strv_clear(struct sbx_strv *v);

#endif
