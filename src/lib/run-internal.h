/* run-internal: what the runtime's files (runtime.c, ns.c, init.c, exec.c,
 * statedir.c, gc.c, report.c) share and nobody else needs. */
#ifndef SBX_RUN_INTERNAL_H
#define SBX_RUN_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandboxctl/cgroup.h"
#include "sandboxctl/error.h"
#include "sandboxctl/runtime.h"
#include "sandboxctl/security.h"
#include "sandboxctl/spec.h"

/* Messages from the sandbox (init and the command's child, before exec) to
 * the supervisor, one write() each (smaller than PIPE_BUF, so atomic). */
enum sbx_child_msg_kind {
        SBX_MSG_SETUP_FAILED = 1, /* code = errno; the sandbox exits SBX_EXIT_SETUP */
        SBX_MSG_EXEC_FAILED = 2,  /* code = errno of execve */
        SBX_MSG_COMMAND_STATUS = 3, /* code = the command's wait status */
};

struct sbx_child_msg {
        uint32_t kind;
        int32_t code;
        char step[32];
        char message[1024];
};

/* Write one message; errors are ignored (the sandbox is about to exit). */
void sbx_child_msg_send(int fd, enum sbx_child_msg_kind kind, const char *step, int code,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* What init and the command's child need; everything is prepared by the
 * supervisor before clone() so that the sandbox side does little work. */
struct sbx_sandbox_ctx {
        const struct sbx_spec *spec;
        char *const *argv;
        char **envp;             /* the command's environment */
        const char *home;        /* the command's cwd and HOME */
        const char *workspace;   /* host dir or NULL */
        const char *scratch_dir; /* for sbx_mount_setup */
        unsigned namespaces;     /* SBX_NS_* bits actually created */
        int sync_fd;             /* read end: the supervisor says go */
        int msg_fd;              /* write end: sbx_child_msg */
        /* v1: init moves itself into this cgroup first thing (see
         * sbx_cgroup_self_attach_open()); NULL: the supervisor placed it. */
        const struct sbx_cgroup *self_attach;
        /* After "go", the supervisor sends the seccomp program (built while
         * init sets up) on sync_fd: uint32 n, then n BPF instructions; n =
         * UINT32_MAX: none, the command's child builds it itself. */
        bool prog_follows;
        const struct sbx_seccomp_prog *seccomp_prog; /* set by init for the child */
        /* Host path of the static sandboxctl-init, or NULL: init execs it
         * from SBX_INIT_PATH once the command runs (so that CRIU can dump
         * the sandbox); NULL: init stays a fork of sandboxctl. */
        const char *init_exe;
};

/* Where sandboxctl-init is bound inside the sandbox (mount_hidden.c): a
 * read-only tmpfs of sandboxctl's own, also the source of masked files. */
#define SBX_HIDDEN_DIR "/dev/.sandboxctl"
#define SBX_INIT_PATH SBX_HIDDEN_DIR "/init"

/* init_exe.c: the host path of sandboxctl-init ($SANDBOXCTL_INIT, else beside
 * the running sandboxctl, else in SBX_LIBEXECDIR), or NULL if there is none. */
#define SBX_INIT_ENV "SANDBOXCTL_INIT"
const char *sbx_init_exe(void);

/* Signals the supervisor forwards to init, and init to the command. */
void sbx_forwarded_signals(sigset_t *ret_set);

/* ns.c: the SBX_NS_* bits to create for spec (net follows the network mode). */
unsigned sbx_ns_for_spec(const struct sbx_spec *spec);
/* clone3() a child in the namespaces `ns` (SBX_NS_* bits but the cgroup
 * namespace, which init unshares) with a pidfd, born in the cgroup v2
 * directory cgroup_fd when >= 0 (CLONE_INTO_CGROUP). Returns the pid in the
 * parent (and *ret_pidfd; *ret_placed says whether CLONE_INTO_CGROUP took:
 * false when the kernel lacks it, and the caller must attach the child
 * before releasing it), 0 in the child. */
pid_t sbx_ns_clone(unsigned ns, int cgroup_fd, int *ret_pidfd, bool *ret_placed, sbx_error **err);
/* Map uid/gid 0 inside to the caller's euid/egid, setgroups denied. */
int sbx_ns_write_id_maps(pid_t pid, sbx_error **err);
/* Close every fd >= 3 except keep (may be -1). */
int sbx_close_fds_except(int keep);
/* The same, keeping two (either may be -1). */
int sbx_close_fds_except2(int a, int b);

/* init_loop.c: pid 1 once the command runs: reap, forward the signals,
 * send SBX_MSG_COMMAND_STATUS on msg_fd and exit with the command's code.
 * reexec (sandboxctl-init's argv, or NULL): on SBX_INIT_REEXEC_SIGNAL from
 * outside the sandbox, exec SBX_INIT_PATH with it again. A CRIU restore
 * gives init memory owned by the host's user namespace, which CRIU cannot
 * dump from inside the sandbox's while init is not dumpable; an exec makes
 * it the sandbox's again (the supervisor sends the signal after a restore). */
#define SBX_INIT_REEXEC_SIGNAL SIGUSR2
_Noreturn void sbx_init_supervise(int msg_fd, pid_t command, char *const *reexec);

/* init.c: the sandbox's pid 1. Never returns. */
_Noreturn void sbx_init_main(const struct sbx_sandbox_ctx *ctx);

/* exec.c: the command's child, forked by init. Never returns. */
_Noreturn void sbx_exec_command(const struct sbx_sandbox_ctx *ctx);

/* run_cgroup.c: the sandbox's cgroup in `run`. */
/* Create it with cfg's parent and the spec's limits; warn about skipped
 * best_effort limits through cfg->warn. */
int sbx_run_cgroup_create(const struct sbx_run_config *cfg, const char *id,
                          struct sbx_cgroup **ret, sbx_error **err);
/* The final sample into res->cgroup_usage (after init was reaped). */
void sbx_run_cgroup_sample(struct sbx_cgroup *cg, struct sbx_run_result *res);
/* Record path, version, limits and warnings in res, destroy and free cg
 * (NULL: nothing); a failure goes to res->cleanup_error. */
void sbx_run_cgroup_finish(struct sbx_cgroup *cg, struct sbx_run_result *res);
void sbx_run_add_cleanup_error(struct sbx_run_result *res, const char *what);

/* Placing a new process (a sandbox's init, an exec helper) in cgroup cg the
 * way `run` does it, shared by run, the supervisor and exec:
 *   sbx_run_cgroup_place_prepare()  before the clone: on v2 the directory fd
 *                                   for clone3 CLONE_INTO_CGROUP; on v1 the
 *                                   `tasks` files the child writes 0 to;
 *   child, first thing:             sbx_cgroup_attach_self(*ret_self_attach)
 *                                   when that is not NULL;
 *   sbx_run_cgroup_place_finish()   in the parent after the clone (also when
 *                                   it failed): closes the files and, when
 *                                   neither clone3 nor the child placed it
 *                                   (a v2 kernel without CLONE_INTO_CGROUP),
 *                                   moves pid in; the child must wait for
 *                                   the parent before it runs anything else.
 * cg may be NULL (no cgroup): nothing to do. */
int sbx_run_cgroup_place_prepare(struct sbx_cgroup *cg, int *ret_clone_fd,
                                 const struct sbx_cgroup **ret_self_attach, sbx_error **err);
int sbx_run_cgroup_place_finish(struct sbx_cgroup *cg, bool self_attached, pid_t pid,
                                bool placed, sbx_error **err);

/* statedir.c */
struct sbx_state {
        char *base;    /* the state dir */
        char *dir;     /* base/id */
        char *scratch; /* base/id/scratch */
};
int sbx_state_create(const char *base, const struct sbx_run_config *cfg, const char *id,
                     const struct timespec *created_at, struct sbx_state **ret_state,
                     sbx_error **err);
/* Remove the sandbox's state dir; frees st. */
int sbx_state_remove(struct sbx_state *st, sbx_error **err);
void sbx_state_free(struct sbx_state *st);
/* registry.c: remove parentfd/name and everything below it without
 * following symlinks or crossing onto another file system. */
int sbx_remove_tree_at(int parentfd, const char *name, sbx_error **err);
/* state.c: ISO 8601 UTC with milliseconds: "2024-05-01T12:00:00.123Z". */
void sbx_format_iso8601(const struct timespec *ts, char *buf, size_t len);

#endif
