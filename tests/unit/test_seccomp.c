/* Tests of the seccomp module. */
#include <criterion/criterion.h>
#include <errno.h>

#include "sandboxctl/security.h"

Test(seccomp_names, known_syscalls)
{
        cr_assert_eq(sbx_syscall_check_name("mount", NULL), 0);
        cr_assert_eq(sbx_syscall_check_name("openat", NULL), 0);
        cr_assert_eq(sbx_syscall_check_name("clone3", NULL), 0);
}

Test(seccomp_names, unknown_syscall_rejected)
{
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_syscall_check_name("foo", &e), -EINVAL);
        cr_assert_not_null(e);
        cr_assert_eq(e->code, EINVAL);
        cr_assert_str_eq(e->message, "unknown syscall 'foo'");
        cr_assert_eq(sbx_syscall_check_name("", NULL), -EINVAL);
}
