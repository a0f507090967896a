/* rlimits: resource limits of a sandboxed process, from spec->limits. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <sys/resource.h>

#include "sandboxctl/security.h"
#include "sandboxctl/util.h"

/* Soft and hard limit both: the sandbox may not raise it again. */
static int rlimit_set(int resource, const char *name, uint64_t value, sbx_error **err)
{
        struct rlimit rl = { .rlim_cur = (rlim_t)value, .rlim_max = (rlim_t)value };

        if (setrlimit(resource, &rl) < 0)
                return sbx_error_errno(err, errno, "set %s to %" PRIu64, name, value);
        return 0;
}

int sbx_rlimits_apply(const struct sbx_spec *spec, sbx_error **err)
{
        const struct sbx_limits *l = &spec->limits;
        int r = 0;

        if (l->file_size > 0)
                r = rlimit_set(RLIMIT_FSIZE, "RLIMIT_FSIZE", l->file_size, err);
        if (r >= 0 && l->open_files > 0)
                r = rlimit_set(RLIMIT_NOFILE, "RLIMIT_NOFILE", l->open_files, err);
        if (r >= 0)
                r = rlimit_set(RLIMIT_CORE, "RLIMIT_CORE", 0, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "rlimits");
        return 0;
}
