/* seccomp: the syscall filter of a sandboxed process (libseccomp). */
#include <errno.h>
#include <seccomp.h>

#include "sandboxctl/security.h"
#include "sandboxctl/util.h"

int sbx_syscall_check_name(const char *name, sbx_error **err)
{
        if (!name || !*name || seccomp_syscall_resolve_name(name) == __NR_SCMP_ERROR)
                return sbx_error_set(err, EINVAL, "unknown syscall '%s'", name ? name : "");
        return 0;
}
