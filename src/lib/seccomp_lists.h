/* seccomp_lists: the built-in syscall tables of the seccomp module, shared
 * by seccomp.c only (not a public header). Names are those of libseccomp;
 * a name this host's libseccomp does not know, or that does not exist on
 * the native architecture, is skipped. */
#ifndef SANDBOXCTL_SECCOMP_LISTS_H
#define SANDBOXCTL_SECCOMP_LISTS_H

#include <stddef.h>

/* Denied (EPERM) by the `default` mode. */
extern const char *const sbx_seccomp_default_deny[];
extern const size_t sbx_seccomp_default_deny_n;

/* Denied (EPERM) on top of `default` when isolation.level is strict. */
extern const char *const sbx_seccomp_strict_extra_deny[];
extern const size_t sbx_seccomp_strict_extra_deny_n;

/* Allowed without conditions by the `strict` mode (its default is EPERM).
 * ioctl, socket, clone, clone3 and personality are handled apart. */
extern const char *const sbx_seccomp_strict_allow[];
extern const size_t sbx_seccomp_strict_allow_n;

#endif
