/* test_valgrind: the command line under valgrind's memcheck. Every command
 * that runs in the CLI process (help, profiles, usage and lookup errors, and
 * the commands that read or change a live sandbox through its supervisor)
 * must end with its usual exit status and without a single memcheck error:
 * no invalid read or write, no use of uninitialised memory, no definite or
 * indirect leak.
 *
 * The sandbox itself is not run under valgrind: the set-up inside it
 * (seccomp, open_tree, mount_setattr, ...) uses system calls memcheck does
 * not emulate. It is created and left to its supervisor as usual; only the
 * CLI processes that talk to it are checked. Not built in sanitizer builds,
 * where valgrind cannot run the binary. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "lifecycle_helpers.h"

SBX_TEST_MAIN(SBX_NEED_ROOT)

#define VG_ERROR_EXIT 99
#define NAME "vg-live"

static const char *valgrind_path(void)
{
        static const char *const dirs[] = { "/usr/bin/valgrind", "/usr/local/bin/valgrind" };
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
                if (access(dirs[i], X_OK) == 0)
                        return dirs[i];
        return NULL;
}

/* Runs sandboxctl ARGS... under memcheck; fails the test on any memcheck
 * report, and returns the command's exit code. */
static int memcheck(const char *first, ...)
{
        const char *vg = valgrind_path();
        char *argv[48];
        size_t n = 0;
        char exit_opt[32];
        struct run_result r;

        SBX_TEST_SKIP_IF(!vg, "valgrind is not installed (apt-get install valgrind)");
        snprintf(exit_opt, sizeof(exit_opt), "--error-exitcode=%d", VG_ERROR_EXIT);
        argv[n++] = (char *)vg;
        argv[n++] = (char *)"-q";
        argv[n++] = exit_opt;
        argv[n++] = (char *)"--leak-check=full";
        argv[n++] = (char *)"--show-leak-kinds=definite,indirect";
        argv[n++] = (char *)"--errors-for-leak-kinds=definite,indirect";
        argv[n++] = (char *)sbx_test_binary();
        va_list ap;
        va_start(ap, first);
        for (const char *a = first; a && n < 47; a = va_arg(ap, const char *))
                argv[n++] = (char *)a;
        va_end(ap);
        argv[n] = NULL;
        cr_assert_eq(sbx_test_run(argv, NULL, 60.0 * sbx_test_time_scale(), &r), 0,
                     "could not start valgrind");
        cr_assert(!r.timed_out, "%s %s: timed out under valgrind", argv[7], first);
        cr_assert(r.exit_code != VG_ERROR_EXIT && !strstr(r.err, "=="),
                  "sandboxctl %s: memcheck found errors:\n%s", first, r.err);
        int code = r.exit_code;
        sbx_test_result_free(&r);
        return code;
}

#define EXPECT(code, ...)                                                                  \
        do {                                                                               \
                int got_ = memcheck(__VA_ARGS__, NULL);                                    \
                cr_expect_eq(got_, (code), "sandboxctl %s: exit %d, expected %d", #__VA_ARGS__, \
                             got_, (code));                                                \
        } while (0)

Test(valgrind, commands_without_a_sandbox)
{
        EXPECT(0, "help");
        EXPECT(0, "help", "run");
        EXPECT(0, "version", "--json");
        EXPECT(0, "profile", "list", "--json");
        EXPECT(0, "profile", "show", "medium", "--json");
        EXPECT(0, "profile", "show", "dev");
        EXPECT(0, "run", "--help");
        EXPECT(0, "create", "--help");
        EXPECT(0, "list", "--json");
        EXPECT(0, "gc", "--dry-run", "--json");
        EXPECT(2, "no-such-command");
        EXPECT(2, "run");
        EXPECT(2, "run", "--memory", "12Q", "--", "true");
        EXPECT(2, "list", "--no-such-option");
}

Test(valgrind, profile_errors)
{
        char bad[4096], good[4096];

        snprintf(bad, sizeof(bad), "%s", sbx_test_source_path("tests/data/bad/unknown-key.yaml"));
        snprintf(good, sizeof(good), "%s", sbx_test_source_path("profiles/high.yaml"));
        EXPECT(0, "profile", "validate", good);
        EXPECT(1, "profile", "validate", bad);
        EXPECT(1, "profile", "show", bad);
        EXPECT(125, "run", "--profile", bad, "--", "true");
}

/* A sandbox created the usual way, then read and driven from CLI processes
 * under memcheck, and destroyed by one. */
Test(valgrind, commands_on_a_live_sandbox, .init = lc_setup, .fini = lc_teardown)
{
        struct run_result r;

        cr_assert_eq(sbx_test_run_sbx(30.0 * sbx_test_time_scale(), &r, "create", "--name", NAME,
                                      "--", "sleep", "600", NULL),
                     0);
        cr_assert_eq(r.exit_code, 0, "create: %s", r.err);
        sbx_test_result_free(&r);

        EXPECT(0, "list", "--json");
        EXPECT(0, "list", "--all");
        EXPECT(0, "info", NAME, "--json");
        EXPECT(0, "info", NAME);
        EXPECT(0, "stats", NAME, "--json");
        EXPECT(0, "ps", NAME, "--json");
        EXPECT(0, "logs", NAME);
        EXPECT(0, "events", NAME, "--json");
        EXPECT(0, "watch", NAME);
        EXPECT(0, "checkpoint", NAME, "--fs-only", "--name", "vg");
        EXPECT(0, "snapshots", NAME, "--json");
        EXPECT(0, "stop", NAME);
        EXPECT(0, "start", NAME);
        EXPECT(3, "info", "no-such-sandbox");
        EXPECT(0, "destroy", NAME);
        EXPECT(3, "destroy", NAME);
}
