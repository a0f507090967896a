/* run_helpers: shared by the `run` integration tests (test_run.c,
 * test_attacks.c, test_cleanup.c): a private state dir per test, a
 * workspace, spawning sandboxctl in the background with bounded waits. */
#ifndef SBX_RUN_HELPERS_H
#define SBX_RUN_HELPERS_H

#include <stdbool.h>
#include <sys/types.h>

#include "harness.h"

/* Per-test fixture: a fresh $SANDBOXCTL_STATE_DIR and a workspace dir;
 * teardown asserts the state dir is empty, then removes both. */
void rt_setup(void);
void rt_teardown(void);
const char *rt_state_dir(void);
const char *rt_workspace(void);
/* Is the state dir empty? */
bool rt_state_dir_empty(void);

/* Copy the `attack` helper program into the workspace (as ./attack) with
 * `mode`. */
void rt_install_attack(const char *name, unsigned mode);

/* sandboxctl run [opts...] -- sh -c script; opts NULL-terminated. */
int rt_run_sh(struct run_result *r, const char *script, ...) __attribute__((sentinel));

/* Start argv in the background with stdout on a pipe (*ret_out) and stdin
 * from stdin_fd (-1: /dev/null). Returns the pid. */
pid_t rt_spawn(char *const argv[], int stdin_fd, int *ret_out);
/* Read from fd until `want` has been seen or timeout_s passed; the text
 * read is appended to buf (size len). Returns true if seen. */
bool rt_read_until(int fd, const char *want, char *buf, size_t len, double timeout_s);
/* Wait for pid with a timeout; SIGKILL it if it does not exit in time.
 * Returns true and *ret_status if it exited in time. */
bool rt_wait_pid(pid_t pid, double timeout_s, int *ret_status);
/* Is any host process's command line containing `needle` alive? */
bool rt_process_with_arg(const char *needle);
/* Poll until no such process is left (bounded); true if gone. */
bool rt_wait_no_process_with_arg(const char *needle, double timeout_s);
/* Does any host process use the namespace "net:[INODE]"? */
bool rt_netns_in_use(const char *ns_link);
/* The text of a file, malloc'd ("" if unreadable). */
char *rt_read_file(const char *path);

/* How many directories named `name` exist in all the host's cgroup
 * hierarchies (every cgroup and cgroup2 mount), searched whole. */
int rt_cgroup_dirs_named(const char *name);
/* The "id" of a JSON report file, malloc'd (asserts that it is there). */
char *rt_report_id(const char *report_path);

#endif
