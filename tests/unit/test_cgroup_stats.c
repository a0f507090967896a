/* Unit tests: cgroup stat file parsing, file helpers, limit checks and the
 * v2 parent preparation over a fake tree. No root needed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/lib/cgroup_internal.h"

static const char *data_dir(void)
{
        static char buf[4096];
        const char *root = getenv("SBX_SOURCE_ROOT");
        snprintf(buf, sizeof(buf), "%s/tests/data/cgroup", root ? root : ".");
        return buf;
}

static uint64_t keyed(const char *file, const char *key)
{
        uint64_t v = 0;
        sbx_error *e = NULL;
        int r = sbx_cg_read_keyed(data_dir(), file, key, &v, &e);
        cr_assert_eq(r, 0, "%s %s: %s", file, key, e ? e->message : "");
        return v;
}

Test(cgroup_stats, keyed_files)
{
        cr_assert_eq(keyed("cpu.stat-v2", "usage_usec"), 1234567);
        cr_assert_eq(keyed("cpu.stat-v2", "throttled_usec"), 2400123);
        cr_assert_eq(keyed("cpu.stat-v1", "throttled_time"), 2400123456ull);
        cr_assert_eq(keyed("memory.events", "oom_kill"), 2);
        cr_assert_eq(keyed("memory.events", "oom"), 3, "'oom' is not 'oom_kill'");
        cr_assert_eq(keyed("memory.events", "max"), 152);
        cr_assert_eq(keyed("pids.events", "max"), 17);
        cr_assert_eq(keyed("memory.oom_control", "oom_kill"), 1);
}

Test(cgroup_stats, keyed_errors)
{
        uint64_t v = 7;
        cr_assert_eq(sbx_cg_parse_keyed("usage_usec 1\n", "usage", &v), -ENOENT);
        cr_assert_eq(sbx_cg_parse_keyed("a 1\nb x\n", "b", &v), -EINVAL);
        cr_assert_eq(sbx_cg_parse_keyed("a 1\nb 99999999999999999999999\n", "b", &v), -ERANGE);
        cr_assert_eq(v, 7, "untouched on failure");
        sbx_error *e = NULL;
        int r = sbx_cg_read_keyed(data_dir(), "pids.events", "nope", &v, &e);
        cr_assert_eq(r, -ENOENT);
        char want[4200];
        snprintf(want, sizeof(want), "parse %s/pids.events: no key 'nope'", data_dir());
        cr_assert_str_eq(e->message, want);
        sbx_error_free(e);
        e = NULL;
        r = sbx_cg_read_keyed(data_dir(), "absent.events", "max", &v, &e);
        cr_assert_eq(r, -ENOENT);
        snprintf(want, sizeof(want), "open %s/absent.events: No such file or directory",
                 data_dir());
        cr_assert_str_eq(e->message, want);
        sbx_error_free(e);
}

Test(cgroup_stats, numbers)
{
        uint64_t v = 0;
        cr_assert_eq(sbx_cg_parse_u64("max\n", &v), 0);
        cr_assert_eq(v, UINT64_MAX);
        cr_assert_eq(sbx_cg_parse_u64("67108864\n", &v), 0);
        cr_assert_eq(v, 67108864);
        cr_assert_eq(sbx_cg_parse_u64("-1\n", &v), -EINVAL);
        cr_assert_eq(sbx_cg_parse_u64("12abc", &v), -EINVAL);
        cr_assert_eq(sbx_cg_parse_u64("", &v), -EINVAL);
        cr_assert_eq(sbx_cg_parse_u64("maximal", &v), -EINVAL);
}

Test(cgroup_stats, controller_lists)
{
        cr_assert_eq(sbx_cg_parse_controller_list("cpuset cpu io memory hugetlb pids rdma\n"),
                     (1u << SBX_CG_CPU) | (1u << SBX_CG_MEMORY) | (1u << SBX_CG_PIDS));
        cr_assert_eq(sbx_cg_parse_controller_list("rw,cpu,cpuacct"),
                     (1u << SBX_CG_CPU) | (1u << SBX_CG_CPUACCT));
        cr_assert_eq(sbx_cg_parse_controller_list("rw,name=systemd"), 0);
        cr_assert_eq(sbx_cg_parse_controller_list(""), 0);
}

static char tmp_template[] = "/tmp/sbx-cgroup-unit-XXXXXX";

static const char *make_tmp(void)
{
        strcpy(tmp_template, "/tmp/sbx-cgroup-unit-XXXXXX");
        cr_assert_not_null(mkdtemp(tmp_template));
        return tmp_template;
}

static void put(const char *dir, const char *file, const char *text)
{
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        FILE *f = fopen(path, "we");
        cr_assert_not_null(f, "create %s", path);
        fputs(text, f);
        fclose(f);
}

static char *get(const char *dir, const char *file)
{
        char *text = NULL;
        sbx_error *e = NULL;
        cr_assert_eq(sbx_cg_read_file(dir, file, &text, &e), 0, "%s", e ? e->message : "");
        return text;
}

Test(cgroup_files, pids_and_write)
{
        const char *d = make_tmp();
        put(d, "cgroup.procs", "12\n345\n6789\n");
        pid_t *pids = NULL;
        size_t n = 0;
        cr_assert_eq(sbx_cg_read_pids(d, &pids, &n, NULL), 0);
        cr_assert_eq(n, 3);
        cr_assert_eq(pids[0], 12);
        cr_assert_eq(pids[2], 6789);
        free(pids);
        put(d, "cgroup.procs", "");
        pids = (pid_t *)1;
        cr_assert_eq(sbx_cg_read_pids(d, &pids, &n, NULL), 0);
        cr_assert_eq(n, 0);
        cr_assert_null(pids);
        cr_assert_eq(sbx_cg_write_pid(d, 4242, NULL), 0);
        char *text = get(d, "cgroup.procs");
        cr_assert_str_eq(text, "4242");
        free(text);
        sbx_error *e = NULL;
        cr_assert_eq(sbx_cg_write_file(d, "missing.max", "1", &e), -ENOENT);
        char want[4200];
        snprintf(want, sizeof(want), "open %s/missing.max: No such file or directory", d);
        cr_assert_str_eq(e->message, want);
        sbx_error_free(e);
        unlink(strcat(strcpy(want, d), "/cgroup.procs"));
        cr_assert_eq(sbx_cg_rmdir(d, NULL), 0);
        cr_assert_eq(sbx_cg_rmdir(d, NULL), 0, "ENOENT is success");
}

static const struct sbx_limits limits_all = {
        .memory = 64ull << 20,
        .memory_swap = 0,
        .pids = 50,
        .cpu = 200,
};

Test(cgroup_limits, all_available)
{
        char **w = NULL;
        unsigned apply = 0;
        unsigned avail = (1u << SBX_CG_MEMORY) | (1u << SBX_CG_PIDS) | (1u << SBX_CG_CPU);
        int r = sbx_cg_check_limits(&limits_all, avail, false, true, "cgroup v1", &w, &apply, NULL);
        cr_assert_eq(r, 0);
        cr_assert_eq(apply,
                     SBX_LIMIT_MEMORY | SBX_LIMIT_MEMORY_SWAP | SBX_LIMIT_PIDS | SBX_LIMIT_CPU);
        cr_assert_null(w);
        struct sbx_limits none = { 0 };
        r = sbx_cg_check_limits(&none, 0, true, false, "/x", &w, &apply, NULL);
        cr_assert_eq(r, 0);
        cr_assert_eq(apply, 0, "no limits, no controllers needed");
}

Test(cgroup_limits, missing_controller_is_an_error_v1)
{
        char **w = NULL;
        unsigned apply = 99;
        sbx_error *e = NULL;
        unsigned avail = (1u << SBX_CG_MEMORY) | (1u << SBX_CG_CPU);
        int r = sbx_cg_check_limits(&limits_all, avail, false, true, "cgroup v1", &w, &apply, &e);
        cr_assert_eq(r, -EOPNOTSUPP);
        cr_assert_eq(apply, 99);
        cr_assert_str_eq(e->message,
                         "pids limit: the pids controller is not mounted (cgroup v1; fix: mount "
                         "it at /sys/fs/cgroup/pids, or mark the limit best_effort)");
        sbx_error_free(e);
}

Test(cgroup_limits, missing_controller_is_an_error_v2)
{
        sbx_error *e = NULL;
        unsigned apply = 0;
        char **w = NULL;
        unsigned avail = (1u << SBX_CG_PIDS) | (1u << SBX_CG_CPU);
        int r = sbx_cg_check_limits(&limits_all, avail, true, true, "/sys/fs/cgroup", &w, &apply,
                                    &e);
        cr_assert_eq(r, -EOPNOTSUPP);
        cr_assert_str_eq(e->message,
                         "memory limit: the memory controller is not available below "
                         "/sys/fs/cgroup (fix: echo +memory > /sys/fs/cgroup/cgroup."
                         "subtree_control as its owner, use a --cgroup-parent where memory is "
                         "delegated, or mark the limit best_effort)");
        sbx_error_free(e);
}

Test(cgroup_limits, best_effort_warns)
{
        struct sbx_limits lim = limits_all;
        lim.best_effort = SBX_LIMIT_MEMORY | SBX_LIMIT_CPU;
        char **w = NULL;
        unsigned apply = 0;
        int r = sbx_cg_check_limits(&lim, 1u << SBX_CG_PIDS, false, true, "cgroup v1", &w, &apply,
                                    NULL);
        cr_assert_eq(r, 0);
        cr_assert_eq(apply, SBX_LIMIT_PIDS);
        cr_assert_str_eq(w[0], "memory limit not enforced: the memory controller is not "
                               "available (best_effort)");
        cr_assert_str_eq(w[1], "cpu limit not enforced: the cpu controller is not available "
                               "(best_effort)");
        cr_assert_null(w[2]);
        sbx_cg_strv_free(w);
}

Test(cgroup_limits, swap_accounting)
{
        char **w = NULL;
        unsigned apply = 0;
        sbx_error *e = NULL;
        unsigned avail = (1u << SBX_CG_MEMORY) | (1u << SBX_CG_PIDS) | (1u << SBX_CG_CPU);
        int r = sbx_cg_check_limits(&limits_all, avail, true, false, "/sys/fs/cgroup", &w, &apply,
                                    &e);
        cr_assert_eq(r, -EOPNOTSUPP);
        cr_assert_str_eq(e->message, "memory_swap limit: the kernel has no swap accounting "
                                     "(memory.swap.max is missing; fix: boot with "
                                     "swapaccount=1, or mark memory_swap best_effort)");
        sbx_error_free(e);
        struct sbx_limits lim = limits_all;
        lim.best_effort = SBX_LIMIT_MEMORY_SWAP;
        r = sbx_cg_check_limits(&lim, avail, false, false, "cgroup v1", &w, &apply, NULL);
        cr_assert_eq(r, 0);
        cr_assert_eq(apply, SBX_LIMIT_MEMORY | SBX_LIMIT_PIDS | SBX_LIMIT_CPU);
        cr_assert_str_eq(w[0], "memory_swap limit not enforced: no swap accounting "
                               "(memory.memsw.limit_in_bytes is missing) (best_effort)");
        sbx_cg_strv_free(w);
}

/* A fake v2 tree: base/ with a pre-made parent whose cgroup.controllers
 * lacks memory. prepare enables what is there, never touches the base. */
Test(cgroup_v2, prepare_parent_enables_only_below_base)
{
        const char *base = make_tmp();
        char dir[4200];
        snprintf(dir, sizeof(dir), "%s/sbx", base);
        cr_assert_eq(mkdir(dir, 0755), 0);
        put(base, "cgroup.subtree_control", "cpu pids\n");
        put(dir, "cgroup.controllers", "cpu pids\n");
        put(dir, "cgroup.subtree_control", "\n");
        struct sbx_cgroup cg = { .v2_fd = -1 };
        cg.place.v2 = true;
        cg.place.v2_base = (char *)base;
        cg.place.parent_rel = (char *)"sbx";
        unsigned avail = 0;
        sbx_error *e = NULL;
        int r = sbx_cg_v2_prepare_parent(&cg, &avail, &e);
        cr_assert_eq(r, 0, "%s", e ? e->message : "");
        cr_assert_eq(avail, (1u << SBX_CG_CPUACCT) | (1u << SBX_CG_FREEZER),
                     "a plain file keeps '+pids +cpu', which enables nothing");
        char *text = get(dir, "cgroup.subtree_control");
        cr_assert_str_eq(text, "+pids +cpu");
        free(text);
        text = get(base, "cgroup.subtree_control");
        cr_assert_str_eq(text, "cpu pids\n", "base untouched");
        free(text);
        /* as the kernel would show it after the write */
        put(dir, "cgroup.subtree_control", "cpu pids\n");
        r = sbx_cg_v2_prepare_parent(&cg, &avail, NULL);
        cr_assert_eq(r, 0);
        cr_assert_eq(avail, (1u << SBX_CG_CPU) | (1u << SBX_CG_PIDS) | (1u << SBX_CG_CPUACCT) |
                                    (1u << SBX_CG_FREEZER));
        char **w = NULL;
        unsigned apply = 0;
        r = sbx_cg_check_limits(&limits_all, avail, true, true, base, &w, &apply, &e);
        cr_assert_eq(r, -EOPNOTSUPP);
        cr_assert(strstr(e->message, "memory limit: the memory controller is not available "
                                     "below /tmp/sbx-cgroup-unit-"));
        sbx_error_free(e);
        char path[4300];
        const char *files[] = { "cgroup.controllers", "cgroup.subtree_control" };
        for (size_t i = 0; i < 2; i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
                unlink(path);
        }
        snprintf(path, sizeof(path), "%s/cgroup.subtree_control", base);
        unlink(path);
        rmdir(dir);
        rmdir(base);
}
