/* test_run_maps: what a throwaway sandbox costs in memory. `sandboxctl run`
 * loads the checkpoint libraries (libcriu, libprotobuf-c, libcrypto) only
 * when a checkpoint or checksum needs them (src/lib/lazy_*.c): neither the
 * run process nor the sandbox's init maps them while the command runs. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "run_helpers.h"

TestSuite(maps, .init = rt_setup, .fini = rt_teardown, .timeout = 60);

static const char *const lazy_libs[] = { "libcriu.so", "libprotobuf-c.so", "libcrypto.so" };

static void expect_unmapped(pid_t pid, const char *who)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
        char *maps = rt_read_file(path);
        cr_assert(maps && *maps, "no %s for %s", path, who);
        cr_expect(strstr(maps, "libc.so"), "%s: the maps of %s look wrong:\n%s", path,
                  who, maps);
        for (size_t i = 0; i < sizeof(lazy_libs) / sizeof(lazy_libs[0]); i++)
                cr_expect(!strstr(maps, lazy_libs[i]), "%s maps %s", who, lazy_libs[i]);
        free(maps);
}

/* The first child of pid (the sandbox's init, for the run process). */
static pid_t first_child(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
        char *text = rt_read_file(path);
        pid_t child = text ? (pid_t)atoi(text) : 0;
        free(text);
        return child;
}

Test(maps, run_maps_no_checkpoint_library)
{
        char *argv[] = { (char *)sbx_test_binary(), "run", "--", "sh", "-c",
                         "echo ready; exec sleep 30", NULL };
        int out;
        pid_t pid = rt_spawn(argv, -1, &out);
        char buf[256] = "";
        bool ready = rt_read_until(out, "ready\n", buf, sizeof(buf), 20 * sbx_test_time_scale());
        if (ready) {
                expect_unmapped(pid, "the run process");
                pid_t init = first_child(pid);
                cr_expect_gt(init, 0, "the run process has no child");
                if (init > 0)
                        expect_unmapped(init, "the sandbox's init");
        }
        kill(pid, SIGTERM);
        int status;
        cr_expect(rt_wait_pid(pid, 10 * sbx_test_time_scale(), &status),
                  "sandboxctl did not exit after SIGTERM");
        close(out);
        cr_assert(ready, "no ready: %s", buf);
}

SBX_TEST_MAIN(SBX_NEED_ROOT)
