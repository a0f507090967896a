/* join: run a command inside a running sandbox (`sandboxctl exec`).
 *
 * The caller forks a helper that joins the sandbox's cgroup, then every
 * namespace of its init at once through the init's pidfd (setns(pidfd, ...)),
 * and forks the command: it lands in the sandbox's pid namespace, on its
 * root file system, in the workspace (or /), with a clean environment and
 * exactly the security of the sandbox's command: rlimits, capabilities,
 * no_new_privs and the seccomp filter of the spec, never more. With a tty,
 * the helper opens a pty in the sandbox's own devpts, makes it the
 * command's controlling terminal and copies between it and the caller's
 * stdin/stdout. The command's exit status is returned: its code, or 128+N
 * when signal N killed it; SBX_EXIT_NOEXEC / SBX_EXIT_NOTFOUND when it could
 * not be executed / found. */
#ifndef SANDBOXCTL_JOIN_H
#define SANDBOXCTL_JOIN_H

#include <stdbool.h>

#include "sandboxctl/error.h"
#include "sandboxctl/spec.h"
#include "sandboxctl/state.h"

struct sbx_join_config {
        const struct sbx_sandbox *sb; /* running: init_pid, init_start, cgroup */
        const struct sbx_spec *spec;  /* the sandbox's spec (limits from sb) */
        char *const *argv;
        char *const *envp;
        const char *cwd;
        bool tty;
};

/* ESRCH when the sandbox does not run; other errors when it could not be
 * joined (with where it failed). *ret_exit_code as above; it is also set
 * (126/127) with the error when the command could not be executed. */
int sbx_join_exec(const struct sbx_join_config *cfg, int *ret_exit_code, sbx_error **err);

#endif
