/* mount_sandbox: run sbx_mount_setup() in a real sandbox for the mount
 * tests. A child unshares user, mount, pid, net, uts and ipc namespaces;
 * the parent writes its id maps ("0 <uid> 1", setgroups deny, "0 <gid> 1")
 * through a sync pipe; the child forks the sandbox's pid 1, which sets the
 * filesystem up and runs a check function inside. Every wait is bounded. */
#ifndef SBX_TEST_MOUNT_SANDBOX_H
#define SBX_TEST_MOUNT_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandboxctl/spec.h"

/* Runs inside the sandbox after set-up: returns 0, or -1 after putting
 * what went wrong in msg. */
typedef int (*sandbox_check_fn)(const void *arg, char *msg, size_t size);

struct sandbox_result {
        int exit_code; /* 0 check passed, 1 check failed, 2 set-up failed, 128+N signal */
        char msg[4096]; /* the check's or set-up's message */
};

/* Run `check` in a sandbox made from `spec` with `workspace` (may be NULL)
 * and a fresh scratch dir. Asserts (Criterion) that the host's mount table
 * is the same afterwards and that the scratch dir is left empty. */
void sandbox_run(const struct sbx_spec *spec, const char *workspace, sandbox_check_fn check,
                 const void *arg, struct sandbox_result *ret);

/* The medium profile's spec (sbx_profile_load("medium")), and spec edits
 * that sbx_spec_free() undoes. */
struct sbx_spec *sandbox_medium_spec(void);
void sandbox_spec_free(struct sbx_spec *spec);
void sandbox_spec_add_bind(struct sbx_spec *spec, const char *src, const char *dst, bool ro);
void sandbox_spec_set_rootfs(struct sbx_spec *spec, const char *dir);

/* printf into msg; returns -1, for `return fail(msg, size, ...)`. */
int fail(char *msg, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A temp dir /tmp/sbx-mount-<what>-XXXXXX (static buffer per call site) and
 * its recursive removal. */
void tmpdir_make(char *buf, size_t size, const char *what);
void tmpdir_remove(const char *dir);

#endif
