/* harness: helpers for integration tests that run the real sandboxctl binary.
 *
 * Each integration test binary defines its Criterion tests and uses
 * SBX_TEST_MAIN(requirement) as its main(): it checks what the binary needs
 * (root, ...) and exits 77 (meson: SKIP) with a one-line reason when the host
 * lacks it, unless SBX_TESTS_MUST_RUN=1 is set, in which case the missing
 * requirement is a failure. */
#ifndef SBX_TEST_HARNESS_H
#define SBX_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct run_result {
        int status;      /* raw wait status */
        int exit_code;   /* WEXITSTATUS, or 128+signal, or -1 on timeout */
        bool timed_out;  /* the harness killed it after the timeout */
        char *out;       /* stdout, NUL-terminated */
        char *err;       /* stderr, NUL-terminated */
        double seconds;  /* wall time */
};

/* Path of the sandboxctl binary under test ($SANDBOXCTL, set by meson). */
const char *sbx_test_binary(void);
/* Path inside the source tree ($SBX_SOURCE_ROOT/rel). Static buffer. */
const char *sbx_test_source_path(const char *rel);

/* Run argv (argv[0] is looked up in PATH unless it has a '/'), feeding
 * `input` (may be NULL) on stdin, with a timeout in seconds after which the
 * process group is SIGKILLed. Extra fds are not inherited. Returns 0 or
 * -errno if it could not be started. */
int sbx_test_run(char *const argv[], const char *input, double timeout_s, struct run_result *ret);
/* Shorthand: sandboxctl with args, NULL-terminated. */
int sbx_test_run_sbx(double timeout_s, struct run_result *ret, ...) __attribute__((sentinel));
void sbx_test_result_free(struct run_result *r);

/* Requirements that a test binary declares. */
enum sbx_test_need {
        SBX_NEED_NOTHING = 0,
        SBX_NEED_ROOT = 1 << 0,
};

/* Exit 77 (or 1 when SBX_TESTS_MUST_RUN=1) with `reason` if `missing`. */
void sbx_test_require(bool missing, const char *reason);
/* Skip the current Criterion test with a reason unless must-run is set,
 * in which case it fails. */
#define SBX_TEST_SKIP_IF(cond, ...)                                      \
        do {                                                             \
                if (cond) {                                              \
                        if (sbx_test_must_run())                         \
                                cr_assert_fail(__VA_ARGS__);             \
                        else                                             \
                                cr_skip_test(__VA_ARGS__);               \
                }                                                        \
        } while (0)
bool sbx_test_must_run(void);
/* Factor for wall-clock bounds that include process start-up, from
 * $SBX_TEST_TIME_SCALE (default 1; the VM lane's emulation sets 4). Bounds
 * enforced by the kernel or measured by sandboxctl itself are not scaled. */
double sbx_test_time_scale(void);

/* Remove the cgroup parent `name` in every hierarchy (the v2 root, each v1
 * controller, and v1 memory under the caller's memory cgroup); true when no
 * sandbox cgroup was left in it. */
bool sbx_test_cgroup_parent_remove(const char *name);

/* Runs the tests with SANDBOXCTL_CGROUP_PARENT set to a parent of this
 * binary's own (unless already set), removed again at the end, so that no
 * test leaves the default `sandboxctl` parent behind. */
int sbx_test_main(int argc, char **argv, unsigned needs);
/* A check in a suite's .fini failed: Criterion prints a failed assertion
 * there but still counts the test as passed, so this records it and
 * sbx_test_main() fails the binary. */
void sbx_test_fini_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define sbx_test_fini_expect(cond, ...)                   \
        do {                                              \
                if (!(cond))                              \
                        sbx_test_fini_failed(__VA_ARGS__); \
        } while (0)

#define SBX_TEST_MAIN(needs)                           \
        int main(int argc, char **argv)                \
        {                                              \
                return sbx_test_main(argc, argv, (needs)); \
        }

#endif
