/* spec_validate: the rules a spec must satisfy whatever made it (a profile,
 * command-line overrides): names, paths and ranges. */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <strings.h>

#include "sandboxctl/spec.h"
#include "sandboxctl/util.h"

#include "profile_internal.h"

bool sbx_hostname_is_valid(const char *s)
{
        size_t len = strlen(s), label = 0;

        if (len == 0 || len > 64 || s[0] == '.' || s[len - 1] == '.')
                return false;
        for (size_t i = 0; i < len; i++) {
                char ch = s[i];
                if (ch == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!isalnum((unsigned char)ch) && ch != '-')
                        return false;
                if (ch == '-' && label == 0)
                        return false;
                if (++label > 63)
                        return false;
        }
        return s[len - 1] != '-';
}

bool sbx_env_name_is_valid(const char *s, size_t len)
{
        if (len == 0 || isdigit((unsigned char)s[0]))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isalnum((unsigned char)s[i]) && s[i] != '_')
                        return false;
        return true;
}

bool sbx_profile_name_is_valid(const char *s)
{
        size_t len = strlen(s);
        if (len == 0 || len > 64)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
                        return false;
        return true;
}

int sbx_signal_from_name(const char *name, int *ret)
{
        if (strncasecmp(name, "SIG", 3) == 0)
                name += 3;
        for (int sig = 1; sig < SIGRTMIN; sig++) {
                const char *abbrev = sigabbrev_np(sig);
                if (abbrev && *name && strcasecmp(name, abbrev) == 0) {
                        *ret = sig;
                        return 0;
                }
        }
        return -EINVAL;
}

const char *sbx_signal_to_name(int sig)
{
        return sig > 0 && sig < SIGRTMIN ? sigabbrev_np(sig) : NULL;
}

static int check_path(const char *what, const char *path, sbx_error **err)
{
        if (!path || path[0] != '/')
                return sbx_error_set(err, EINVAL, "%s: expected an absolute path, got '%s'", what,
                                     path ? path : "");
        return 0;
}

static int validate_filesystem(const struct sbx_filesystem *fs, sbx_error **err)
{
        int r = 0;
        if (fs->rootfs)
                r = check_path("filesystem.rootfs", fs->rootfs, err);
        if (r >= 0)
                r = check_path("filesystem.workspace.path", fs->workspace_path, err);
        for (size_t i = 0; r >= 0 && i < fs->n_tmpfs; i++)
                r = check_path("filesystem.tmpfs.path", fs->tmpfs[i].path, err);
        for (size_t i = 0; r >= 0 && i < fs->n_binds; i++) {
                r = check_path("filesystem.binds.source", fs->binds[i].source, err);
                if (r >= 0)
                        r = check_path("filesystem.binds.target", fs->binds[i].target, err);
        }
        for (size_t i = 0; r >= 0 && i < fs->masked.n; i++)
                r = check_path("filesystem.masked", fs->masked.items[i], err);
        return r;
}

static int validate_env(const struct sbx_strv *env, sbx_error **err)
{
        for (size_t i = 0; i < env->n; i++) {
                const char *eq = strchr(env->items[i], '=');
                size_t len = eq ? (size_t)(eq - env->items[i]) : 0;
                if (!eq || !sbx_env_name_is_valid(env->items[i], len))
                        return sbx_error_set(err, EINVAL, "env: invalid entry '%s' "
                                             "(expected NAME=VALUE)", env->items[i]);
                for (size_t j = 0; j < i; j++)
                        if (strncmp(env->items[j], env->items[i], len + 1) == 0)
                                return sbx_error_set(err, EINVAL,
                                                     "env: variable '%.*s' set twice", (int)len,
                                                     env->items[i]);
        }
        return 0;
}

static int validate_security(const struct sbx_security *sec, sbx_error **err)
{
        if ((sec->seccomp == SBX_SECCOMP_FILE) != (sec->seccomp_file != NULL))
                return sbx_error_set(err, EINVAL, "security.seccomp: a filter file must be set "
                                     "exactly when the mode is a file");
        if (sec->seccomp_file && sec->seccomp_file[0] != '/')
                return check_path("security.seccomp", sec->seccomp_file, err);
        return 0;
}

int sbx_spec_validate(const struct sbx_spec *spec, sbx_error **err)
{
        const struct sbx_limits *l = &spec->limits;

        if (!spec->name || !sbx_profile_name_is_valid(spec->name))
                return sbx_error_set(err, EINVAL, "name: invalid name '%s'",
                                     spec->name ? spec->name : "");
        if (!spec->isolation.hostname || !sbx_hostname_is_valid(spec->isolation.hostname))
                return sbx_error_set(err, EINVAL, "isolation.hostname: invalid hostname '%s'",
                                     spec->isolation.hostname ? spec->isolation.hostname : "");
        if (spec->isolation.namespaces & ~(unsigned)SBX_NS_ALL)
                return sbx_error_set(err, EINVAL, "isolation.namespaces: unknown namespace bits");
        if (l->pids > SBX_PIDS_MAX)
                return sbx_error_set(err, EINVAL, "limits.pids: must be at most %d",
                                     SBX_PIDS_MAX);
        if (l->cpu > 1000000)
                return sbx_error_set(err, EINVAL, "limits.cpu: must be at most 1000 CPUs");
        if (l->open_files < SBX_OPEN_FILES_MIN || l->open_files > SBX_OPEN_FILES_MAX)
                return sbx_error_set(err, EINVAL, "limits.open_files: must be between %d and %d",
                                     SBX_OPEN_FILES_MIN, SBX_OPEN_FILES_MAX);
        int r = validate_filesystem(&spec->filesystem, err);
        if (r >= 0)
                r = validate_security(&spec->security, err);
        if (r >= 0)
                r = validate_env(&spec->env, err);
        if (r >= 0 && spec->has_watch && spec->watch.reload == SBX_RELOAD_SIGNAL &&
            !sbx_signal_to_name(spec->watch.reload_signal))
                r = sbx_error_set(err, EINVAL, "watch.reload: invalid signal %d",
                                  spec->watch.reload_signal);
        return r;
}
