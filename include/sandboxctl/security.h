/* security: what a sandboxed process may do once it runs: the seccomp
 * filter (libseccomp), the capability sets (libcap), no_new_privs and
 * rlimits. Each function acts on the calling process and is meant to be
 * called in the sandbox's child just before exec, in this order:
 * sbx_rlimits_apply, sbx_caps_apply, sbx_no_new_privs_set,
 * sbx_seccomp_load (the filter goes last: it blocks calls the others need). */
#ifndef SANDBOXCTL_SECURITY_H
#define SANDBOXCTL_SECURITY_H

#include "sandboxctl/error.h"
#include "sandboxctl/spec.h"

/* RLIMIT_FSIZE = file_size, RLIMIT_NOFILE = open_files, RLIMIT_CORE = 0. */
int sbx_rlimits_apply(const struct sbx_spec *spec, sbx_error **err);

/* Keep only spec->security.capabilities: drop the rest from the bounding
 * set, set effective = permitted = inheritable = ambient = kept (so that kept
 * ones, and only those, survive execve), and lock SECBIT_NOROOT so that uid 0
 * regains nothing on execve. Needs CAP_SETPCAP (uid 0 in the sandbox's user
 * namespace has it). */
int sbx_caps_apply(const struct sbx_spec *spec, sbx_error **err);

/* prctl(PR_SET_NO_NEW_PRIVS, 1). */
int sbx_no_new_privs_set(sbx_error **err);

/* Build the filter of spec->security (default, strict, none or a file, plus
 * syscalls.deny / syscalls.allow) and load it into the calling process.
 * Blocked calls fail with EPERM; foreign architectures are rejected. */
int sbx_seccomp_load(const struct sbx_spec *spec, sbx_error **err);

/* The filter sbx_seccomp_load() would load, compiled once ahead of time
 * (e.g. while other set-up runs) and loaded later with the raw seccomp()
 * call: same program, same flags (none: no TSYNC, which a single-threaded
 * child does not need), no_new_privs set first as libseccomp does. */
struct sock_filter;
struct sbx_seccomp_prog {
        size_t len; /* instructions; 0: nothing to load (mode none) */
        struct sock_filter *insns;
};
int sbx_seccomp_prepare(const struct sbx_spec *spec, struct sbx_seccomp_prog *ret,
                        sbx_error **err);
int sbx_seccomp_load_prog(const struct sbx_seccomp_prog *prog, sbx_error **err);
void sbx_seccomp_prog_clear(struct sbx_seccomp_prog *prog);

/* Write the filter sbx_seccomp_load() would load to fd, as raw BPF
 * (seccomp_export_bpf) or, when pfc, as libseccomp's readable pseudo filter
 * code. Mode `none` writes nothing. */
int sbx_seccomp_export(const struct sbx_spec *spec, int fd, bool pfc, sbx_error **err);

/* Check that a capability or syscall name is known on this host; used by
 * profile validation. Return 0 if known, -EINVAL (with err) if not. */
int sbx_capability_check_name(const char *name, sbx_error **err);
int sbx_syscall_check_name(const char *name, sbx_error **err);

#endif
