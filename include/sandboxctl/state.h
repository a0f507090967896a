/* state: the on-disk registry of sandboxes.
 *
 * Each sandbox has a directory <state-dir>/<id>/ holding state.json, written
 * atomically (temp file, fsync, rename, fsync of the directory) by whoever
 * changes the sandbox's status, under an exclusive flock() on <id>/lock, so
 * that two transitions of one sandbox are serialized. Creating a sandbox (and
 * checking that its name is unique among live sandboxes) holds the registry
 * lock <state-dir>/.lock.
 *
 * state.json keeps the keys that `run` and `gc` have always written ("id",
 * "name", "profile", "pid" and "pid_start_time" of the supervisor,
 * "created_at") and adds "status", "reason", "restarts", "init_pid",
 * "cgroup", "limits" and, for long-lived sandboxes, "config" (the command,
 * the resolved spec, the restart policy).
 *
 * A sandbox is looked up by its full id, a unique id prefix (like a git
 * hash: an ambiguous prefix is an error listing the candidates) or its name.
 * Ids and prefixes resolve from the directory names alone; names through
 * the index <state-dir>/names/<name> (a symlink to ../<id>, made with the
 * registry lock held, removed with the sandbox, repaired by gc), so that a
 * lookup reads no state file but the one of the sandbox it finds. `run`'s
 * sandboxes are not in the index: their --name is a label.
 * Reading a sandbox checks the liveness of its supervisor (pid and start time
 * from /proc/PID/stat): a dead supervisor turns any status into
 * error("supervisor died"), never running. */
#ifndef SANDBOXCTL_STATE_H
#define SANDBOXCTL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandboxctl/error.h"
#include "sandboxctl/runtime.h"

enum sbx_status {
        SBX_STATUS_CREATING,
        SBX_STATUS_RUNNING,
        SBX_STATUS_RELOADING,
        SBX_STATUS_CHECKPOINTING,
        SBX_STATUS_STOPPING,
        SBX_STATUS_STOPPED,
        SBX_STATUS_ERROR,
};

/* enum sbx_restart_mode and struct sbx_restart_policy: spec.h (lifecycle). */

/* One sandbox as recorded in state.json. Strings are owned. */
struct sbx_sandbox {
        char id[SBX_ID_LEN + 1];
        char *name;             /* NULL: unnamed */
        char *profile;
        char *created_at;       /* ISO 8601 UTC */
        enum sbx_status status;
        char *reason;           /* why error, or how it last ended; may be NULL */
        unsigned restarts;
        uid_t uid;              /* who created it */
        pid_t supervisor_pid;   /* 0: none */
        uint64_t supervisor_start;
        pid_t init_pid;         /* 0: not running */
        uint64_t init_start;
        char *cgroup;           /* cgroup path, NULL before the first start */
        char *cgroup_parent;    /* as given at create, NULL: the default */
        bool has_exit;          /* exit_code/exit_signal hold the last exit */
        int exit_code;
        int exit_signal;
        uint64_t limit_memory;  /* bytes, 0 = none */
        uint64_t limit_pids;
        uint32_t limit_cpu;     /* thousandths of a CPU */
        uint64_t limit_timeout_ms;
        /* "config": what the supervisor needs to (re)start the command. */
        bool long_lived;        /* made by `create` (not `run`) */
        struct sbx_strv argv;
        char *workspace;
        char *term;
        char *spec_json;        /* the resolved spec, a valid profile */
        struct sbx_restart_policy restart;
        uint64_t log_max;       /* bytes kept in `logs` before rotation */
        /* Set by sbx_registry_list() for a directory whose state.json cannot be
         * read or parsed: `broken` says why (with the file's path). */
        char *broken;
        bool supervisor_dead;   /* set by the liveness check */
};

void sbx_sandbox_free(struct sbx_sandbox *sb);
static inline void sbx_sandbox_freep(struct sbx_sandbox **p)
{
        sbx_sandbox_free(*p);
}

const char *sbx_status_to_string(enum sbx_status s);
int sbx_status_from_string(const char *s, enum sbx_status *ret);

/* "no", "always", "on-failure" or "on-failure:N". */
int sbx_restart_policy_parse(const char *s, struct sbx_restart_policy *ret, sbx_error **err);
/* Inverse of the above, into buf. */
void sbx_restart_policy_format(const struct sbx_restart_policy *p, char *buf, size_t len);

/* <state-dir>/<id>[/file], malloc'ed; NULL on ENOMEM. */
char *sbx_registry_path(const char *state_dir, const char *id, const char *file);

/* Take the exclusive lock of sandbox `id` (NULL: the registry lock), waiting
 * for it at most timeout_ms. Returns the lock fd (close it to unlock). */
int sbx_registry_lock(const char *state_dir, const char *id, int timeout_ms, sbx_error **err);

/* Read <state-dir>/<id>/state.json, then check liveness (see above). */
int sbx_registry_read(const char *state_dir, const char *id, struct sbx_sandbox **ret,
                      sbx_error **err);
/* Write state.json atomically; the caller holds the sandbox's lock. */
int sbx_registry_write(const char *state_dir, const struct sbx_sandbox *sb, sbx_error **err);
/* state.json as a JSON object (jansson json_t *, new reference). With
 * `full`, the config too. */
void *sbx_sandbox_to_json(const struct sbx_sandbox *sb, bool full);

/* Whether the supervisor recorded in sb still runs (pid + start time). */
bool sbx_sandbox_supervisor_alive(const struct sbx_sandbox *sb);
/* Whether the sandbox init recorded in sb still runs. */
bool sbx_sandbox_init_alive(const struct sbx_sandbox *sb);

/* Every sandbox in state_dir, sorted by created_at then id. Broken state
 * files are included with `broken` set. A missing state dir is empty. */
int sbx_registry_list(const char *state_dir, struct sbx_sandbox ***ret, size_t *ret_n,
                      sbx_error **err);
void sbx_sandboxes_free(struct sbx_sandbox **v, size_t n);

/* Resolve an id, a unique id prefix or a name to a full id. ENOENT: no such
 * sandbox; ENOTUNIQ: ambiguous prefix (the message lists the candidates). */
int sbx_registry_resolve(const char *state_dir, const char *ref, char ret_id[SBX_ID_LEN + 1],
                         sbx_error **err);

/* Create <state-dir>/<id>/ and its first state.json (status creating) under
 * the registry lock, and index its name. EEXIST when sb->name is taken by a
 * live sandbox (a dead one's name is taken over). */
int sbx_registry_create(const char *state_dir, const struct sbx_sandbox *sb, sbx_error **err);
/* Remove <state-dir>/<id>/ and everything in it, and its name's link. */
int sbx_registry_remove(const char *state_dir, const char *id, sbx_error **err);
/* Make the name index agree with the state files (gc): drop links to
 * nothing, link named sandboxes that lack one. */
int sbx_registry_names_repair(const char *state_dir, sbx_error **err);

/* Valid sandbox name: 1-64 of [A-Za-z0-9_.-], starting with a letter or digit,
 * and not 16 hex digits (it would read as an id). */
int sbx_sandbox_name_check(const char *name, sbx_error **err);

#endif
