/* cli_sandbox: lookups, exit codes and control requests for the commands
 * on existing sandboxes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli_sandbox.h"
#include "sandboxctl/control.h"
#include "sandboxctl/runtime.h"
#include "sandboxctl/util.h"

const char *cli_state_dir(const char *opt)
{
        return opt && *opt ? opt : sbx_state_dir_default();
}

static int exit_for_errno(int code)
{
        switch (code) {
        case ENOENT: return CLI_EXIT_NOT_FOUND;
        case ENOTUNIQ: return CLI_EXIT_AMBIGUOUS;
        case EEXIST:
        case EALREADY: return CLI_EXIT_CONFLICT;
        case ESRCH: return CLI_EXIT_NOT_RUNNING;
        default: return CLI_EXIT_FAILURE;
        }
}

int cli_fail(const sbx_error *e, const char *what)
{
        const char *msg = e && e->message ? e->message : "unknown error";

        if (what)
                sbx_log_error("%s: %s", what, msg);
        else
                sbx_log_error("%s", msg);
        return exit_for_errno(e ? e->code : EIO);
}

int cli_lookup(const char *state_dir, const char *ref, struct sbx_sandbox **ret)
{
        sbx_autoerror e = NULL;
        char id[SBX_ID_LEN + 1];

        if (sbx_registry_resolve(state_dir, ref, id, &e) < 0)
                return cli_fail(e, NULL);
        if (sbx_registry_read(state_dir, id, ret, &e) < 0) {
                /* Destroyed meanwhile: as if it never existed. */
                if (e && e->code == ENOENT) {
                        sbx_log_error("no such sandbox: '%s'", ref);
                        return CLI_EXIT_NOT_FOUND;
                }
                return cli_fail(e, NULL);
        }
        return CLI_EXIT_OK;
}

int cli_control(const char *state_dir, const struct sbx_sandbox *sb, void *req, int timeout_ms,
                void **ret, sbx_error **err)
{
        if (sb->broken)
                return sbx_error_set(err, EBADMSG, "sandbox %s: %s", sb->id, sb->broken);
        if (!sb->long_lived)
                return sbx_error_set(err, EOPNOTSUPP,
                                     "sandbox %s belongs to 'sandboxctl run' (pid %d)", sb->id,
                                     (int)sb->supervisor_pid);
        if (sb->supervisor_dead)
                return sbx_error_set(err, ESRCH,
                                     "sandbox %s: supervisor died (run 'sandboxctl gc')", sb->id);
        sbx_autofree char *path = sbx_registry_path(state_dir, sb->id, SBX_CONTROL_SOCKET);
        if (!path)
                return sbx_error_errno(err, ENOMEM, "control socket");
        return sbx_control_call(path, req, timeout_ms, ret, err);
}

void cli_format_age(uint64_t ms, char *buf, size_t len)
{
        uint64_t s = ms / 1000;

        if (s >= 86400)
                snprintf(buf, len, "%llud%lluh", (unsigned long long)(s / 86400),
                         (unsigned long long)(s % 86400 / 3600));
        else if (s >= 3600)
                snprintf(buf, len, "%lluh%llum", (unsigned long long)(s / 3600),
                         (unsigned long long)(s % 3600 / 60));
        else if (s >= 60)
                snprintf(buf, len, "%llum%llus", (unsigned long long)(s / 60),
                         (unsigned long long)(s % 60));
        else
                snprintf(buf, len, "%llus", (unsigned long long)s);
}

uint64_t cli_age_ms(const char *iso)
{
        struct tm tm = { 0 };
        int ms = 0;

        if (!iso || !strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm))
                return 0;
        const char *dot = strchr(iso, '.');
        if (dot)
                ms = atoi(dot + 1);
        time_t t = timegm(&tm);
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t d = ((int64_t)now.tv_sec - t) * 1000 + now.tv_nsec / 1000000 - ms;
        return d > 0 ? (uint64_t)d : 0;
}
