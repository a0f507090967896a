/* caps: capability name checks and the capability sets of a sandboxed
 * process (libcap). */
#include <ctype.h>
#include <errno.h>
#include <linux/securebits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

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

SBX_DEFINE_CLEANUP(cap_t, cap_free)

static int capability_mask(const struct sbx_strv *names, uint64_t *ret_mask, sbx_error **err)
{
        uint64_t mask = 0;

        for (size_t i = 0; i < names->n; i++) {
                cap_value_t cap;
                if (capability_from_name(names->items[i], &cap) < 0)
                        return sbx_error_set(err, EINVAL, "unknown capability '%s'",
                                             names->items[i]);
                if (cap >= 0 && cap < 64)
                        mask |= UINT64_C(1) << cap;
        }
        *ret_mask = mask;
        return 0;
}

/* "cap_sys_admin", or the number when libcap has no name for it. */
static int capability_error(sbx_error **err, int code, const char *what, cap_value_t cap)
{
        char *name = cap_to_name(cap);
        int r = sbx_error_errno(err, code, "%s %s", what, name ? name : "an unnamed capability");
        cap_free(name);
        return r;
}

/* Root gains nothing from being root, and setuid away from root drops the
 * capabilities (the kernel default, locked so that no one can undo it). */
#define SANDBOX_SECUREBITS                                                                 \
        (SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |              \
         SECBIT_KEEP_CAPS_LOCKED)

static int caps_drop_bounding(uint64_t keep, cap_value_t last, sbx_error **err)
{
        for (cap_value_t cap = 0; cap <= last; cap++) {
                if (cap < 64 && (keep & (UINT64_C(1) << cap)))
                        continue;
                if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0)
                        continue; /* already gone */
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
                        return capability_error(err, errno, "drop from the bounding set", cap);
        }
        return 0;
}

static int caps_set_process(uint64_t keep, cap_value_t last, sbx_error **err)
{
        __attribute__((cleanup(cap_freep))) cap_t caps = cap_init();

        if (!caps)
                return sbx_error_errno(err, errno, "allocate capability state");
        for (cap_value_t cap = 0; cap <= last && cap < 64; cap++) {
                if (!(keep & (UINT64_C(1) << cap)))
                        continue;
                cap_value_t one[1] = { cap };
                if (cap_set_flag(caps, CAP_EFFECTIVE, 1, one, CAP_SET) < 0 ||
                    cap_set_flag(caps, CAP_PERMITTED, 1, one, CAP_SET) < 0 ||
                    cap_set_flag(caps, CAP_INHERITABLE, 1, one, CAP_SET) < 0)
                        return capability_error(err, errno, "set flags of", cap);
        }
        if (cap_set_proc(caps) < 0)
                return sbx_error_errno(err, errno, "set the capability sets");
        return 0;
}

/* Kept capabilities go into the ambient set: with SECBIT_NOROOT that is the
 * only way they survive execve of an ordinary binary. */
static int caps_raise_ambient(uint64_t keep, cap_value_t last, sbx_error **err)
{
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return sbx_error_errno(err, errno, "clear the ambient capability set");
        for (cap_value_t cap = 0; cap <= last && cap < 64; cap++) {
                if (!(keep & (UINT64_C(1) << cap)))
                        continue;
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
                        return capability_error(err, errno, "raise into the ambient set", cap);
        }
        return 0;
}

int sbx_caps_apply(const struct sbx_spec *spec, sbx_error **err)
{
        uint64_t keep = 0;
        int r = capability_mask(&spec->security.capabilities, &keep, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "capabilities");

        cap_value_t last = (cap_value_t)cap_max_bits() - 1;
        if (prctl(PR_GET_SECUREBITS, 0, 0, 0, 0) != SANDBOX_SECUREBITS &&
            prctl(PR_SET_SECUREBITS, SANDBOX_SECUREBITS, 0, 0, 0) < 0)
                return sbx_error_errno(err, errno, "capabilities: set securebits 0x%x",
                                       (unsigned)SANDBOX_SECUREBITS);
        r = caps_drop_bounding(keep, last, err);
        if (r >= 0)
                r = caps_set_process(keep, last, err);
        if (r >= 0)
                r = caps_raise_ambient(keep, last, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "capabilities");
        return 0;
}

int sbx_no_new_privs_set(sbx_error **err)
{
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return sbx_error_errno(err, errno, "set no_new_privs");
        return 0;
}
