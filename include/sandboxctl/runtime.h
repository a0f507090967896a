/* runtime: `run`, one throwaway sandbox from start to finish.
 *
 * sbx_run() is its own supervisor: it creates the state dir, clone()s the
 * sandbox's pid 1 (init) in the namespaces of the spec, writes the id maps,
 * and then waits in a poll loop over the init's pidfd, a timerfd for the
 * wall-clock timeout and a signalfd that forwards SIGTERM, SIGINT, SIGHUP and
 * SIGQUIT to init (which forwards them to the command). Init sets the
 * hostname, brings loopback up, builds the filesystem view (sbx_mount_setup),
 * forks the command and reaps everything until the command exits. The
 * command's child sets up a new session, a clean environment, closes every
 * fd but 0, 1 and 2, applies rlimits, capabilities, no_new_privs and the
 * seccomp filter (last), then execs.
 *
 * Exit codes follow the convention of timeout(1) and env(1): the command's
 * own code; 128+N when it died of signal N; SBX_EXIT_TIMEOUT when the
 * timeout killed the sandbox; SBX_EXIT_SETUP when the sandbox could not be
 * set up; SBX_EXIT_NOEXEC / SBX_EXIT_NOTFOUND when the command could not be
 * executed / found.
 *
 * Cgroup: before init exists, sbx_run() makes the sandbox's cgroup (named
 * after its id, under cfg->cgroup_parent) with the spec's limits; init is
 * born in it (clone3 CLONE_INTO_CGROUP on v2) or attached to it before the
 * supervisor releases it (v1/hybrid, or kernels without CLONE_INTO_CGROUP),
 * and then unshares its cgroup namespace. After init is reaped (or on a
 * timeout, a signal, a failure) the cgroup is sampled, every process left
 * in it is killed, and it is removed. Peaks the kernel does not keep are
 * sampled every SBX_RUN_SAMPLE_MS while the sandbox runs.
 *
 * State: each sandbox has a directory <state-dir>/<id>/ holding state.json
 * (id, name, profile, supervisor pid and its start time, created_at) and an
 * empty scratch/ directory on which the sandbox's root is assembled. The
 * state dir is $SANDBOXCTL_STATE_DIR, or /run/sandboxctl. */
#ifndef SANDBOXCTL_RUNTIME_H
#define SANDBOXCTL_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "sandboxctl/cgroup.h"
#include "sandboxctl/error.h"
#include "sandboxctl/spec.h"

#define SBX_EXIT_TIMEOUT 124
#define SBX_EXIT_SETUP 125
#define SBX_EXIT_NOEXEC 126
#define SBX_EXIT_NOTFOUND 127

#define SBX_RUN_SAMPLE_MS 100

#define SBX_STATE_DIR_DEFAULT "/run/sandboxctl"
#define SBX_STATE_DIR_ENV "SANDBOXCTL_STATE_DIR"

/* A sandbox id: 16 lower-case hex digits. */
#define SBX_ID_LEN 16

struct sbx_run_config {
        const struct sbx_spec *spec; /* resolved and validated */
        char *const *argv;           /* the command, NULL-terminated, argv[0] looked up in PATH */
        const char *workspace;       /* absolute host directory bound at the workspace path, or NULL */
        const char *state_dir;       /* NULL: sbx_state_dir_default() */
        const char *name;            /* NULL: unnamed */
        const char *profile;         /* the profile as asked for, for state and report */
        const char *term;            /* the caller's TERM, NULL: "dumb" */
        const char *cgroup_parent;   /* NULL: $SANDBOXCTL_CGROUP_PARENT, else "sandboxctl" */
        /* Called once per best_effort limit the host cannot enforce, before
         * the command starts (the CLI prints it); may be NULL. */
        void (*warn)(void *data, const char *message);
        void *warn_data;
};

struct sbx_run_result {
        char id[SBX_ID_LEN + 1];
        int exit_code;       /* the mapped exit code, see above */
        int signal;          /* signal that killed the command, or 0 */
        bool timed_out;      /* the timeout killed the sandbox */
        char *failed_step;   /* set for SBX_EXIT_SETUP/NOEXEC/NOTFOUND: "mount", "exec", ... */
        char *failure;       /* and why, e.g. "open /x: No such file or directory" */
        char *cleanup_error; /* the state dir could not be removed: why, or NULL */
        uint64_t wall_time_ms;
        uint64_t user_cpu_ms;
        uint64_t system_cpu_ms;
        uint64_t max_rss_bytes;
        struct timespec started_at; /* CLOCK_REALTIME */
        /* The sandbox's cgroup (see cgroup.h), sampled after init was
         * reaped and before the cgroup was destroyed. */
        char *cgroup_path;    /* sbx_cgroup_path() */
        int cgroup_version;   /* 1 (v1 or hybrid) or 2 */
        struct sbx_cgroup_limits cgroup_limits;
        struct sbx_cgroup_usage cgroup_usage; /* fields without their have bit are unknown */
        char **cgroup_warnings; /* best_effort limits skipped, NULL-terminated, or NULL */
};

/* Run cfg->argv in a new sandbox and wait for it. Returns 0 when the
 * sandbox ran (whatever the command did, including setup failures inside
 * the sandbox, which set ret->failed_step), or -errno when the supervisor
 * could not create it (state dir, clone, id maps), with err set. */
int sbx_run(const struct sbx_run_config *cfg, struct sbx_run_result *ret, sbx_error **err);
void sbx_run_result_clear(struct sbx_run_result *r);

/* Set "KEY=VALUE" in env, replacing an existing KEY. */
int sbx_env_set(struct sbx_strv *env, const char *assignment, sbx_error **err);

/* The environment the command sees: the spec's env, plus PATH, HOME, TERM
 * and LANG where the spec does not set them. HOME is `home`. */
int sbx_run_environment(const struct sbx_spec *spec, const char *home, const char *term,
                        struct sbx_strv *ret_env, sbx_error **err);

/* A new random sandbox id. */
int sbx_sandbox_id_new(char ret_id[SBX_ID_LEN + 1], sbx_error **err);
bool sbx_sandbox_id_valid(const char *id);

/* $SANDBOXCTL_STATE_DIR if set and non-empty, else SBX_STATE_DIR_DEFAULT. */
const char *sbx_state_dir_default(void);

/* The start time of process pid, in clock ticks since boot (field 22 of
 * /proc/PID/stat). -ESRCH when there is no such process. */
int sbx_pid_start_time(pid_t pid, uint64_t *ret_ticks, sbx_error **err);

#endif
