/* test_lazy: the checkpoint libraries loaded at their first use
 * (src/lib/lazy_*.c): they load where installed, a missing one is an error
 * that names the library, the Debian package and what needed it, and the
 * sha256 through the shim is the real one. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include "sandboxctl/error.h"
#include "src/lib/lazy_criu.h"
#include "src/lib/lazy_crypto.h"
#include "src/lib/lazy_lib.h"

static bool have(const char *soname)
{
        void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
        if (!h)
                h = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
        if (h)
                dlclose(h);
        return h != NULL;
}

Test(lazy, missing_library_names_library_and_package)
{
        static const char *const names[] = { "f" };
        void *fns[1] = { NULL };
        struct sbx_lazy_lib lib = {
                .soname = "libsandboxctl-no-such-lib.so.9",
                .package = "no-such-package",
                .purpose = "the test",
                .symbols = names,
                .fns = fns,
                .n = 1,
        };
        sbx_error *err = NULL;
        cr_assert_eq(sbx_lazy_lib_load(&lib, &err), -ENOENT);
        cr_assert_not_null(err);
        const char *msg = err->message;
        cr_expect(strstr(msg, "the test needs libsandboxctl-no-such-lib.so.9"), "%s", msg);
        cr_expect(strstr(msg, "install the Debian package no-such-package"), "%s", msg);
        cr_expect_null(lib.handle);
        sbx_error_free(err);
}

Test(lazy, missing_symbol_names_it)
{
        cr_assert(have("libc.so.6"));
        static const char *const names[] = { "sbx_no_such_symbol" };
        void *fns[1] = { NULL };
        struct sbx_lazy_lib lib = { .soname = "libc.so.6", .package = "libc6", .purpose = "x",
                                    .symbols = names, .fns = fns, .n = 1 };
        sbx_error *err = NULL;
        cr_assert_eq(sbx_lazy_lib_load(&lib, &err), -ENOEXEC);
        cr_assert_not_null(err);
        cr_expect(strstr(err->message, "sbx_no_such_symbol"), "%s",
                  err->message);
        sbx_error_free(err);
}

Test(lazy, crypto_sha256_of_abc)
{
        if (!have("libcrypto.so.3"))
                cr_skip_test("libcrypto.so.3 is not installed (Debian package libssl3)");
        cr_assert_eq(sbx_lazy_crypto_load(NULL), 0);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        cr_assert_eq(EVP_Digest("abc", 3, md, &len, EVP_sha256(), NULL), 1);
        cr_assert_eq(len, 32);
        static const unsigned char want[4] = { 0xba, 0x78, 0x16, 0xbf };
        cr_expect_eq(memcmp(md, want, sizeof(want)), 0);
}

Test(lazy, criu_loads)
{
        if (!have("libcriu.so.2"))
                cr_skip_test("libcriu.so.2 is not installed (Debian package criu)");
        cr_assert_eq(sbx_lazy_criu_load(NULL), 0);
        criu_opts *o = NULL;
        cr_assert_eq(criu_local_init_opts(&o), 0);
        criu_local_set_pid(o, 1);
        criu_local_free_opts(o);
}
