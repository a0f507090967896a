/* Tests of the capability module. */
#include <criterion/criterion.h>
#include <errno.h>

#include "sandboxctl/security.h"

Test(caps_names, known_names_any_case_and_prefix)
{
        cr_assert_eq(sbx_capability_check_name("net_bind_service", NULL), 0);
        cr_assert_eq(sbx_capability_check_name("CAP_NET_BIND_SERVICE", NULL), 0);
        cr_assert_eq(sbx_capability_check_name("Cap_Sys_Admin", NULL), 0);
        cr_assert_eq(sbx_capability_check_name("chown", NULL), 0);
}

Test(caps_names, unknown_name_rejected)
{
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_capability_check_name("foo", &e), -EINVAL);
        cr_assert_not_null(e);
        cr_assert_eq(e->code, EINVAL);
        cr_assert_str_eq(e->message, "unknown capability 'foo'");
}

Test(caps_names, empty_and_odd_names_rejected)
{
        cr_assert_eq(sbx_capability_check_name("", NULL), -EINVAL);
        cr_assert_eq(sbx_capability_check_name("cap_", NULL), -EINVAL);
        cr_assert_eq(sbx_capability_check_name("net_bind_service,chown", NULL), -EINVAL);
        cr_assert_eq(sbx_capability_check_name("all", NULL), -EINVAL);
}
