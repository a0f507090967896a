/* caps: capability name checks and the capability sets of a sandboxed
 * process (libcap). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>

#include "sandboxctl/security.h"
#include "sandboxctl/util.h"

/* Resolve a capability name ("net_bind_service", "CAP_NET_BIND_SERVICE",
 * any case, with or without the "cap_" prefix) to its number. */
static int capability_from_name(const char *name, cap_value_t *ret_cap)
{
        char buf[64];
        size_t n = strlen(name);
        const char *prefix = strncasecmp(name, "cap_", 4) == 0 ? "" : "cap_";

        if (n == 0 || n + 5 > sizeof(buf))
                return -EINVAL;
        snprintf(buf, sizeof(buf), "%s%s", prefix, name);
        for (char *p = buf; *p; p++) {
                if (!isalnum((unsigned char)*p) && *p != '_')
                        return -EINVAL;
                *p = (char)tolower((unsigned char)*p);
        }
        cap_value_t cap;
        if (cap_from_name(buf, &cap) < 0)
                return -EINVAL;
        *ret_cap = cap;
        return 0;
}

int sbx_capability_check_name(const char *name, sbx_error **err)
{
        cap_value_t cap;

        if (!name || capability_from_name(name, &cap) < 0)
                return sbx_error_set(err, EINVAL, "unknown capability '%s'", name ? name : "");
        return 0;
}
