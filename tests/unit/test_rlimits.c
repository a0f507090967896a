/* Tests of the rlimits part of the security module: limits are applied in
 * a forked child, which reports what it sees. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>

#include "sandboxctl/security.h"
#include "sec_child.h"

static int child_apply(const struct sbx_spec *spec)
{
        sbx_error *e = NULL;
        if (sbx_rlimits_apply(spec, &e) < 0) {
                sec_report("apply failed: %s", e ? e->message : "?");
                return -1;
        }
        return 0;
}

static void report_limit(const char *name, int resource)
{
        struct rlimit rl;
        getrlimit(resource, &rl);
        sec_report("%s %llu %llu", name, (unsigned long long)rl.rlim_cur,
                   (unsigned long long)rl.rlim_max);
}

static int child_read_back(void *arg)
{
        if (child_apply(arg) < 0)
                return 100;
        report_limit("fsize", RLIMIT_FSIZE);
        report_limit("nofile", RLIMIT_NOFILE);
        report_limit("core", RLIMIT_CORE);
        return 0;
}

static void assert_ok(const struct sec_child_result *res)
{
        cr_assert_neq(res->status, -1, "child timed out");
        cr_assert(WIFEXITED(res->status) && WEXITSTATUS(res->status) == 0,
                  "child status 0x%x: %s", res->status, res->out);
}

Test(rlimits, values_read_back)
{
        struct sbx_spec spec = { 0 };
        spec.limits.file_size = 10 << 20;
        spec.limits.open_files = 64;
        struct sec_child_result res;
        sec_run_child(child_read_back, &spec, &res);
        assert_ok(&res);
        cr_assert_str_eq(res.out, "fsize 10485760 10485760\nnofile 64 64\ncore 0 0\n");
}

static int child_zero_leaves(void *arg)
{
        struct rlimit fs, nf;
        getrlimit(RLIMIT_FSIZE, &fs);
        getrlimit(RLIMIT_NOFILE, &nf);
        if (child_apply(arg) < 0)
                return 100;
        struct rlimit fs2, nf2;
        getrlimit(RLIMIT_FSIZE, &fs2);
        getrlimit(RLIMIT_NOFILE, &nf2);
        sec_report("fsize %s", memcmp(&fs, &fs2, sizeof(fs)) ? "changed" : "same");
        sec_report("nofile %s", memcmp(&nf, &nf2, sizeof(nf)) ? "changed" : "same");
        report_limit("core", RLIMIT_CORE);
        return 0;
}

Test(rlimits, zero_leaves_the_limit_alone)
{
        struct sbx_spec spec = { 0 };
        struct sec_child_result res;
        sec_run_child(child_zero_leaves, &spec, &res);
        assert_ok(&res);
        cr_assert_str_eq(res.out, "fsize same\nnofile same\ncore 0 0\n");
}

static int child_write_past(void *arg)
{
        char path[] = "/tmp/sbx-rlimit-XXXXXX";
        int fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0)
                return 101;
        unlink(path);
        signal(SIGXFSZ, SIG_IGN);
        if (child_apply(arg) < 0)
                return 100;
        char buf[4096] = { 0 };
        sec_report("first %zd", write(fd, buf, sizeof(buf)));
        sec_report_call("second", write(fd, buf, 1));
        return 0;
}

Test(rlimits, writing_past_file_size_gives_efbig)
{
        struct sbx_spec spec = { 0 };
        spec.limits.file_size = 4096;
        struct sec_child_result res;
        sec_run_child(child_write_past, &spec, &res);
        assert_ok(&res);
        cr_assert_str_eq(res.out, "first 4096\nsecond EFBIG\n");
}

static int child_open_past(void *arg)
{
        if (child_apply(arg) < 0)
                return 100;
        int last = -1, fd;
        while ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
                last = fd;
        sec_report("open %s, last fd %d", strerrorname_np(errno), last);
        sec_report_call("dup2-15", dup2(0, 15));
        sec_report_call("dup2-16", dup2(0, 16));
        return 0;
}

Test(rlimits, opening_past_open_files_gives_emfile)
{
        struct sbx_spec spec = { 0 };
        spec.limits.open_files = 16;
        struct sec_child_result res;
        sec_run_child(child_open_past, &spec, &res);
        assert_ok(&res);
        cr_assert_str_eq(res.out, "open EMFILE, last fd 15\ndup2-15 ok\ndup2-16 EBADF\n");
}

static int child_error(void *arg)
{
        sbx_error *e = NULL;
        int r = sbx_rlimits_apply(arg, &e);
        sec_report("%d %s", r, e ? e->message : "");
        return 0;
}

Test(rlimits, error_names_limit_and_value)
{
        /* above fs.nr_open: refused even to root */
        FILE *f = fopen("/proc/sys/fs/nr_open", "re");
        cr_assert_not_null(f);
        uint64_t nr_open = 0;
        cr_assert_eq(fscanf(f, "%" SCNu64, &nr_open), 1);
        fclose(f);

        struct sbx_spec spec = { 0 };
        spec.limits.open_files = nr_open + 1;
        struct sec_child_result res;
        sec_run_child(child_error, &spec, &res);
        assert_ok(&res);
        char expected[128];
        snprintf(expected, sizeof(expected),
                 "-1 rlimits: set RLIMIT_NOFILE to %" PRIu64 ": Operation not permitted\n",
                 nr_open + 1);
        cr_assert_str_eq(res.out, expected);
}
