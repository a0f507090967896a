/* Unit tests: cgroup host layout (mountinfo, /proc/self/cgroup) and
 * placement, from fixtures in tests/data/cgroup. No root needed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/lib/cgroup_internal.h"

static char *fixture(const char *name)
{
        const char *root = getenv("SBX_SOURCE_ROOT");
        char path[4096];
        snprintf(path, sizeof(path), "%s/tests/data/cgroup/%s", root ? root : ".", name);
        FILE *f = fopen(path, "re");
        cr_assert_not_null(f, "open fixture %s", path);
        char *buf = calloc(1, 65536);
        size_t n = fread(buf, 1, 65535, f);
        fclose(f);
        buf[n] = '\0';
        return buf;
}

static void parse_fixture(const char *mi, const char *self, struct sbx_cg_host *h)
{
        char *m = fixture(mi), *s = fixture(self);
        sbx_error *e = NULL;
        int r = sbx_cg_host_parse(m, s, h, &e);
        cr_assert_eq(r, 0, "parse: %s", e ? e->message : "");
        free(m);
        free(s);
}

Test(cgroup_host, hybrid_is_v1_with_unified_mount)
{
        struct sbx_cg_host h = { 0 };
        parse_fixture("mountinfo-hybrid", "proc-cgroup-hybrid", &h);
        cr_assert_eq(h.v2, false);
        cr_assert_str_eq(h.v2_mount, "/sys/fs/cgroup/unified");
        cr_assert_str_eq(h.v1_mount[SBX_CG_MEMORY], "/sys/fs/cgroup/memory");
        cr_assert_str_eq(h.v1_mount[SBX_CG_PIDS], "/sys/fs/cgroup/pids");
        cr_assert_str_eq(h.v1_mount[SBX_CG_CPU], "/sys/fs/cgroup/cpu");
        cr_assert_str_eq(h.v1_mount[SBX_CG_CPUACCT], "/sys/fs/cgroup/cpuacct");
        cr_assert_str_eq(h.v1_mount[SBX_CG_FREEZER], "/sys/fs/cgroup/freezer");
        cr_assert_str_eq(h.self_v1[SBX_CG_MEMORY], "/process_api/bf2ae97c27309ca92e72c30ebae6a22f");
        cr_assert_str_eq(h.self_v1[SBX_CG_PIDS], "/");
        cr_assert_str_eq(h.self_v2, "/");
        sbx_cg_host_clear(&h);
}

Test(cgroup_host, pure_v2)
{
        struct sbx_cg_host h = { 0 };
        parse_fixture("mountinfo-v2", "proc-cgroup-v2", &h);
        cr_assert_eq(h.v2, true);
        cr_assert_str_eq(h.v2_mount, "/sys/fs/cgroup");
        cr_assert_str_eq(h.v2_root, "/");
        cr_assert_str_eq(h.self_v2,
                         "/user.slice/user-1000.slice/user@1000.service/app.slice/term.scope");
        for (int c = 0; c < SBX_CG_N; c++)
                cr_assert_null(h.v1_mount[c]);
        sbx_cg_host_clear(&h);
}

Test(cgroup_host, pure_v1_comounted_cpu_cpuacct)
{
        struct sbx_cg_host h = { 0 };
        parse_fixture("mountinfo-v1", "proc-cgroup-v1", &h);
        cr_assert_eq(h.v2, false);
        cr_assert_null(h.v2_mount);
        cr_assert_str_eq(h.v1_mount[SBX_CG_CPU], "/sys/fs/cgroup/cpu,cpuacct");
        cr_assert_str_eq(h.v1_mount[SBX_CG_CPUACCT], "/sys/fs/cgroup/cpu,cpuacct");
        cr_assert_str_eq(h.self_v1[SBX_CG_CPU], "/user.slice");
        cr_assert_str_eq(h.self_v1[SBX_CG_CPUACCT], "/user.slice");
        cr_assert_str_eq(h.self_v1[SBX_CG_MEMORY], "/user.slice/user-1000.slice/session-2.scope");
        sbx_cg_host_clear(&h);
}

Test(cgroup_host, escaped_mount_point_and_mount_root)
{
        struct sbx_cg_host h = { 0 };
        parse_fixture("mountinfo-escaped", "proc-cgroup-escaped", &h);
        cr_assert_str_eq(h.v2_mount, "/sys/fs/my cgroup");
        cr_assert_str_eq(h.v2_root, "/docker/abc");
        cr_assert_str_eq(h.v1_root[SBX_CG_MEMORY], "/docker/abc");
        sbx_cg_host_clear(&h);
}

Test(cgroup_host, errors)
{
        struct sbx_cg_host h = { 0 };
        sbx_error *e = NULL;
        int r = sbx_cg_host_parse("22 27 0:21 / /proc rw - proc proc rw\n", "0::/\n", &h, &e);
        cr_assert_eq(r, -ENOENT);
        cr_assert_str_eq(e->message, "no cgroup filesystem is mounted");
        sbx_error_free(e);
        e = NULL;
        r = sbx_cg_host_parse("22 27 0:21 / /proc rw\n", "0::/\n", &h, &e);
        cr_assert_eq(r, -EINVAL);
        cr_assert_str_eq(e->message, "parse mountinfo: malformed line");
        sbx_error_free(e);
        e = NULL;
        r = sbx_cg_host_parse("26 22 0:25 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
                              "1:name=systemd:/\n", &h, &e);
        cr_assert_eq(r, -EINVAL);
        cr_assert_str_eq(e->message, "parse /proc/self/cgroup: no cgroup v2 entry (0::/path)");
        sbx_error_free(e);
}

static void place(const char *mi, const char *self, const char *parent, bool writable,
                  struct sbx_cg_place *p)
{
        struct sbx_cg_host h = { 0 };
        parse_fixture(mi, self, &h);
        sbx_error *e = NULL;
        int r = sbx_cg_place_compute(&h, parent, "sb1", writable, p, &e);
        cr_assert_eq(r, 0, "place: %s", e ? e->message : "");
        sbx_cg_host_clear(&h);
}

Test(cgroup_place, hybrid_memory_nested_under_own_memcg)
{
        struct sbx_cg_place p = { 0 };
        place("mountinfo-hybrid", "proc-cgroup-hybrid", "sandboxctl", true, &p);
        cr_assert_eq(p.v2, false);
        cr_assert_str_eq(p.display, "/sandboxctl/sb1");
        cr_assert_str_eq(p.dir[SBX_CG_PIDS], "/sys/fs/cgroup/pids/sandboxctl/sb1");
        cr_assert_str_eq(p.dir[SBX_CG_CPU], "/sys/fs/cgroup/cpu/sandboxctl/sb1");
        cr_assert_str_eq(p.dir[SBX_CG_CPUACCT], "/sys/fs/cgroup/cpuacct/sandboxctl/sb1");
        cr_assert_str_eq(p.dir[SBX_CG_FREEZER], "/sys/fs/cgroup/freezer/sandboxctl/sb1");
        cr_assert_str_eq(p.dir[SBX_CG_MEMORY], "/sys/fs/cgroup/memory/process_api/"
                                               "bf2ae97c27309ca92e72c30ebae6a22f/sandboxctl/sb1");
        cr_assert_str_eq(p.rel[SBX_CG_MEMORY],
                         "process_api/bf2ae97c27309ca92e72c30ebae6a22f/sandboxctl/sb1");
        cr_assert_str_eq(p.rel[SBX_CG_PIDS], "sandboxctl/sb1");
        cr_assert_null(p.v2_dir, "no cgroup on the unified mount of a hybrid host");
        for (int c = 0; c < SBX_CG_N; c++)
                cr_assert_eq(p.dup[c], false);
        sbx_cg_place_clear(&p);
}

Test(cgroup_place, v1_absolute_parent_not_nested_and_comount_dedup)
{
        struct sbx_cg_place p = { 0 };
        place("mountinfo-v1", "proc-cgroup-v1", "/ci/jobs/", true, &p);
        cr_assert_str_eq(p.display, "/ci/jobs/sb1");
        cr_assert_str_eq(p.dir[SBX_CG_MEMORY], "/sys/fs/cgroup/memory/ci/jobs/sb1");
        cr_assert_str_eq(p.dir[SBX_CG_CPU], "/sys/fs/cgroup/cpu,cpuacct/ci/jobs/sb1");
        cr_assert_eq(p.dup[SBX_CG_CPU], false);
        cr_assert_eq(p.dup[SBX_CG_CPUACCT], true);
        cr_assert_str_eq(p.parent_rel, "ci/jobs");
        sbx_cg_place_clear(&p);
}

Test(cgroup_place, v1_relative_memory_nested_in_session)
{
        struct sbx_cg_place p = { 0 };
        place("mountinfo-v1", "proc-cgroup-v1", "sandboxctl", true, &p);
        cr_assert_str_eq(p.dir[SBX_CG_MEMORY], "/sys/fs/cgroup/memory/user.slice/"
                                               "user-1000.slice/session-2.scope/sandboxctl/sb1");
        cr_assert_str_eq(p.dir[SBX_CG_PIDS], "/sys/fs/cgroup/pids/sandboxctl/sb1");
        sbx_cg_place_clear(&p);
}

Test(cgroup_place, v2_root_or_own_cgroup)
{
        struct sbx_cg_place p = { 0 };
        place("mountinfo-v2", "proc-cgroup-v2", "sandboxctl", true, &p);
        cr_assert_eq(p.v2, true);
        cr_assert_str_eq(p.v2_base, "/sys/fs/cgroup");
        cr_assert_str_eq(p.v2_dir, "/sys/fs/cgroup/sandboxctl/sb1");
        cr_assert_str_eq(p.display, "/sys/fs/cgroup/sandboxctl/sb1");
        sbx_cg_place_clear(&p);
        place("mountinfo-v2", "proc-cgroup-v2", "sandboxctl", false, &p);
        cr_assert_str_eq(p.v2_base, "/sys/fs/cgroup/user.slice/user-1000.slice/"
                                    "user@1000.service/app.slice/term.scope");
        cr_assert_str_eq(p.v2_dir, "/sys/fs/cgroup/user.slice/user-1000.slice/"
                                   "user@1000.service/app.slice/term.scope/sandboxctl/sb1");
        sbx_cg_place_clear(&p);
        place("mountinfo-v2", "proc-cgroup-v2", "/ci.slice/x", false, &p);
        cr_assert_str_eq(p.v2_base, "/sys/fs/cgroup");
        cr_assert_str_eq(p.v2_dir, "/sys/fs/cgroup/ci.slice/x/sb1");
        cr_assert_str_eq(p.parent_rel, "ci.slice/x");
        sbx_cg_place_clear(&p);
}

Test(cgroup_place, v2_container_mount_root)
{
        struct sbx_cg_host h = { 0 };
        sbx_error *e = NULL;
        int r = sbx_cg_host_parse("1 0 0:25 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
                                  "0::/docker/abc/app\n", &h, &e);
        cr_assert_eq(r, 0);
        struct sbx_cg_place p = { 0 };
        r = sbx_cg_place_compute(&h, "sbx", "id9", false, &p, &e);
        cr_assert_eq(r, 0);
        cr_assert_str_eq(p.v2_dir, "/sys/fs/cgroup/app/sbx/id9");
        sbx_cg_place_clear(&p);
        sbx_cg_host_clear(&h);
}

static void place_error(const char *parent, const char *id, const char *msg)
{
        struct sbx_cg_host h = { 0 };
        parse_fixture("mountinfo-v2", "proc-cgroup-v2", &h);
        struct sbx_cg_place p = { 0 };
        sbx_error *e = NULL;
        int r = sbx_cg_place_compute(&h, parent, id, true, &p, &e);
        cr_assert_eq(r, -EINVAL, "%s/%s", parent, id);
        cr_assert_str_eq(e->message, msg);
        sbx_error_free(e);
        sbx_cg_host_clear(&h);
}

Test(cgroup_place, bad_names)
{
        place_error("sandboxctl", "a/b", "bad cgroup name 'a/b': want a plain name");
        place_error("sandboxctl", "..", "bad cgroup name '..': want a plain name");
        place_error("sandboxctl", "", "bad cgroup name '': want a plain name");
        place_error("/", "x", "bad cgroup parent '/': empty");
        place_error("a/../b", "x", "bad cgroup parent 'a/../b': '.' and '..' not allowed");
}

Test(cgroup_place, never_our_own_cgroup_or_its_ancestors)
{
        struct sbx_cg_host h = { 0 };
        parse_fixture("mountinfo-hybrid", "proc-cgroup-hybrid", &h);
        struct sbx_cg_place p = { 0 };
        cr_assert_eq(sbx_cg_place_compute(&h, "/process_api", "bf2ae97c27309ca92e72c30ebae6a22f",
                                          true, &p, NULL),
                     0);
        cr_assert_eq(sbx_cg_place_holds_self(&h, &p), true, "our own memory cgroup");
        sbx_cg_place_clear(&p);
        cr_assert_eq(sbx_cg_place_compute(&h, "/x", "process_api", true, &p, NULL), 0);
        cr_assert_eq(sbx_cg_place_holds_self(&h, &p), false);
        sbx_cg_place_clear(&p);
        cr_assert_eq(sbx_cg_place_compute(&h, "sandboxctl", "sb1", true, &p, NULL), 0);
        cr_assert_eq(sbx_cg_place_holds_self(&h, &p), false);
        sbx_cg_place_clear(&p);
        sbx_cg_host_clear(&h);
        parse_fixture("mountinfo-v2", "proc-cgroup-v2", &h);
        cr_assert_eq(sbx_cg_place_compute(&h, "/user.slice", "user-1000.slice", true, &p, NULL), 0);
        cr_assert_eq(sbx_cg_place_holds_self(&h, &p), true, "an ancestor of our cgroup");
        sbx_cg_place_clear(&p);
        cr_assert_eq(sbx_cg_place_compute(&h, "/user.slice", "user-1000", true, &p, NULL), 0);
        cr_assert_eq(sbx_cg_place_holds_self(&h, &p), false, "a prefix is not an ancestor");
        sbx_cg_place_clear(&p);
        sbx_cg_host_clear(&h);
}
