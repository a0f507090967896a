/* Tests of `extends`: merging, multi-level chains, relative paths, cycles,
 * missing parents, and the lookup path. */
#include "profile_test_util.h"

#define MiB (1024ULL * 1024)

static char *dir;

static void setup(void)
{
        dir = tmpdir_make();
        cr_assert_eq(setenv("SANDBOXCTL_PROFILE_PATH", dir, 1), 0);
}

static void teardown(void)
{
        tmpdir_remove(dir);
        dir = NULL;
}

static struct sbx_spec *load_ok(const char *name)
{
        struct sbx_spec *s = NULL;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_profile_load(name, &s, &e), 0, "%s: %s", name, e ? e->message : "");
        return s;
}

static char *load_err(const char *name, int code)
{
        struct sbx_spec *s = NULL;
        sbx_error *e = NULL;
        cr_assert_eq(sbx_profile_load(name, &s, &e), -code, "%s: %s", name,
                     e ? e->message : "loaded");
        cr_assert_null(s);
        char *m = e->message;
        e->message = NULL;
        sbx_error_free(e);
        return m;
}

TestSuite(profile_extends, .init = setup, .fini = teardown);
TestSuite(profile_lookup, .init = setup, .fini = teardown);

Test(profile_extends, child_wins_nested_maps_merge_lists_replace)
{
        write_file(dir, "base.yaml",
                   "description: base\n"
                   "isolation:\n  level: strict\n  hostname: basehost\n"
                   "limits:\n  memory: 64M\n  pids: 10\n"
                   "filesystem:\n  tmpfs:\n    - path: /tmp\n      size: 1M\n"
                   "    - path: /run\n      size: 2M\n"
                   "  workspace:\n    path: /base\n    mode: ro\n"
                   "env:\n  A: base-a\n  B: base-b\n"
                   "watch:\n  paths: [a, b]\n  debounce: 1s\n");
        write_file(dir, "child.yaml",
                   "extends: base\n"
                   "limits:\n  pids: 20\n"
                   "filesystem:\n  tmpfs:\n    - path: /scratch\n"
                   "  workspace:\n    mode: overlay\n"
                   "env:\n  B: child-b\n  C: child-c\n"
                   "watch:\n  paths: [c]\n");
        struct sbx_spec *s = load_ok("child");
        cr_assert_str_eq(s->name, "child"); /* the name is not inherited */
        cr_assert_str_eq(s->description, "base");
        cr_assert_eq(s->isolation.level, SBX_ISOLATION_STRICT);
        cr_assert_str_eq(s->isolation.hostname, "basehost");
        cr_assert_eq(s->limits.memory, 64 * MiB);
        cr_assert_eq(s->limits.pids, 20);
        cr_assert_eq(s->filesystem.n_tmpfs, 1);
        cr_assert_str_eq(s->filesystem.tmpfs[0].path, "/scratch");
        cr_assert_eq(s->filesystem.tmpfs[0].size, 64 * MiB);
        cr_assert_str_eq(s->filesystem.workspace_path, "/base");
        cr_assert_eq(s->filesystem.workspace_mode, SBX_WORKSPACE_OVERLAY);
        cr_assert_eq(s->env.n, 4);
        cr_assert_str_eq(s->env.items[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        cr_assert_str_eq(s->env.items[1], "A=base-a");
        cr_assert_str_eq(s->env.items[2], "B=child-b");
        cr_assert_str_eq(s->env.items[3], "C=child-c");
        cr_assert_eq(s->has_watch, true);
        cr_assert_eq(s->watch.paths.n, 1);
        cr_assert_str_eq(s->watch.paths.items[0], "c");
        cr_assert_eq(s->watch.debounce_ms, 1000);
        sbx_spec_free(s);
}

Test(profile_extends, multi_level_chain)
{
        write_file(dir, "a.yaml", "limits:\n  memory: 1G\n  pids: 1\n  cpu: 10%\n");
        write_file(dir, "b.yaml", "extends: a\nlimits:\n  pids: 2\n");
        write_file(dir, "c.yaml", "extends: b\nlimits:\n  cpu: 2\naudit: none\n");
        struct sbx_spec *s = load_ok("c");
        cr_assert_str_eq(s->name, "c");
        cr_assert_eq(s->limits.memory, 1024 * MiB);
        cr_assert_eq(s->limits.pids, 2);
        cr_assert_eq(s->limits.cpu, 2000);
        cr_assert_eq(s->audit, SBX_AUDIT_NONE);
        sbx_spec_free(s);
}

Test(profile_extends, relative_path_is_relative_to_the_extending_file)
{
        char sub[PATH_MAX], child[PATH_MAX + 16];
        snprintf(sub, sizeof(sub), "%s/sub", dir);
        cr_assert_eq(mkdir(sub, 0755), 0);
        write_file(dir, "parent.yaml", "limits:\n  pids: 7\nsecurity:\n  seccomp: f/x.json\n");
        write_file(sub, "kid.yaml", "extends: ../parent.yaml\n");
        cr_assert_eq(chdir("/"), 0);
        snprintf(child, sizeof(child), "%s/kid.yaml", sub);
        struct sbx_spec *s = load_ok(child);
        cr_assert_eq(s->limits.pids, 7);
        cr_assert_str_eq(s->name, "kid");
        /* a relative seccomp file is resolved against the file that names it */
        char filter[PATH_MAX + 16];
        snprintf(filter, sizeof(filter), "%s/f/x.json", dir);
        cr_assert_str_eq(s->security.seccomp_file, filter);
        sbx_spec_free(s);
}

Test(profile_extends, extends_the_builtin_medium)
{
        write_file(dir, "m.yaml", "extends: medium\nlimits:\n  pids: 3\n");
        struct sbx_spec *s = load_ok("m");
        cr_assert_eq(s->limits.pids, 3);
        cr_assert_eq(s->limits.memory, 128 * MiB);
        cr_assert_str_eq(s->description, "Balanced isolation for everyday jobs (the default)");
        sbx_spec_free(s);
}

Test(profile_extends, two_long_cycle)
{
        write_file(dir, "a.yaml", "extends: b\n");
        write_file(dir, "b.yaml", "name: b\nextends: a\n");
        sbx_autofree char *m = load_err("a", ELOOP);
        sbx_autofree char *expect = NULL;
        cr_assert_eq(asprintf(&expect, "%s/b.yaml:2:10: extends: cycle a -> b -> a", dir) > 0, 1);
        cr_assert_str_eq(m, expect);
}

Test(profile_extends, three_long_cycle)
{
        write_file(dir, "a.yaml", "extends: b\n");
        write_file(dir, "b.yaml", "extends: c\n");
        write_file(dir, "c.yaml", "extends: a.yaml\n");
        char a[PATH_MAX];
        snprintf(a, sizeof(a), "%s/a.yaml", dir);
        sbx_autofree char *m = load_err(a, ELOOP);
        sbx_autofree char *expect = NULL;
        cr_assert_eq(asprintf(&expect, "%s/c.yaml:1:10: extends: cycle a -> b -> c -> a", dir) >
                             0, 1);
        cr_assert_str_eq(m, expect);
}

Test(profile_extends, self_cycle)
{
        write_file(dir, "self.yaml", "extends: self\n");
        sbx_autofree char *m = load_err("self", ELOOP);
        sbx_autofree char *expect = NULL;
        cr_assert_eq(asprintf(&expect, "%s/self.yaml:1:10: extends: cycle self -> self", dir) > 0,
                     1);
        cr_assert_str_eq(m, expect);
}

Test(profile_extends, missing_parent_by_name_lists_the_directories)
{
        write_file(dir, "orphan.yaml", "name: orphan\nextends: nope\n");
        sbx_autofree char *m = load_err("orphan", ENOENT);
        sbx_autofree char *expect = NULL;
        cr_assert_eq(asprintf(&expect,
                              "%s/orphan.yaml:2:10: extends: profile 'nope' not found (searched: "
                              "%s, /etc/sandboxctl/profiles, %s)",
                              dir, dir, SBX_PROFILES_DATADIR) > 0, 1);
        cr_assert_str_eq(m, expect);
}

Test(profile_extends, missing_profile_by_name)
{
        char path[2 * PATH_MAX];
        snprintf(path, sizeof(path), "%s:%s/none", dir, dir);
        cr_assert_eq(setenv("SANDBOXCTL_PROFILE_PATH", path, 1), 0);
        sbx_autofree char *m = load_err("ghost", ENOENT);
        sbx_autofree char *expect = NULL;
        cr_assert_eq(asprintf(&expect, "profile 'ghost' not found (searched: %s, %s/none, "
                              "/etc/sandboxctl/profiles, %s)", dir, dir, SBX_PROFILES_DATADIR) > 0,
                     1);
        cr_assert_str_eq(m, expect);
}

Test(profile_extends, errors_of_a_parent_point_into_the_parent)
{
        write_file(dir, "bad-parent.yaml", "limits:\n  memory: 1X\n");
        write_file(dir, "kid.yaml", "extends: bad-parent\nlimits:\n  pids: 5\n");
        sbx_autofree char *m = load_err("kid", EINVAL);
        sbx_autofree char *expect = NULL;
        cr_assert_eq(asprintf(&expect, "%s/bad-parent.yaml:2:11: limits.memory: invalid size "
                              "'1X': unknown unit 'X' (use K, M, G or T)", dir) > 0, 1);
        cr_assert_str_eq(m, expect);
}

Test(profile_extends, a_child_error_stops_before_the_parent_is_read)
{
        write_file(dir, "kid.yaml", "extends: nope\nlimits:\n  pids: x\n");
        sbx_autofree char *m = load_err("kid", EINVAL);
        sbx_autofree char *expect = NULL;
        cr_assert_eq(asprintf(&expect, "%s/kid.yaml:3:9: limits.pids: invalid count 'x': "
                              "expected a whole number", dir) > 0, 1);
        cr_assert_str_eq(m, expect);
}

Test(profile_extends, chain_too_long)
{
        char name[32], text[64];
        for (int i = 0; i < 40; i++) {
                snprintf(name, sizeof(name), "p%d.yaml", i);
                snprintf(text, sizeof(text), "extends: p%d\n", i + 1);
                write_file(dir, name, text);
        }
        write_file(dir, "p40.yaml", "name: end\n");
        sbx_autofree char *m = load_err("p0", ELOOP);
        sbx_autofree char *expect = NULL;
        cr_assert_eq(asprintf(&expect, "%s/p31.yaml:1:10: extends: more than 32 levels of extends",
                              dir) > 0, 1);
        cr_assert_str_eq(m, expect);
}

Test(profile_lookup, order_locate_and_list)
{
        char first[PATH_MAX], second[PATH_MAX], path[2 * PATH_MAX + 2];
        snprintf(first, sizeof(first), "%s/one", dir);
        snprintf(second, sizeof(second), "%s/two", dir);
        cr_assert_eq(mkdir(first, 0755), 0);
        cr_assert_eq(mkdir(second, 0755), 0);
        write_file(first, "x.yaml", "description: first x\n");
        write_file(second, "x.yaml", "description: second x\n");
        write_file(second, "b.yaml", "description: b\n");
        write_file(second, "broken.yaml", "limits: [\n");
        write_file(second, "medium.yaml", "description: my medium\n");
        snprintf(path, sizeof(path), "%s::%s", first, second);
        cr_assert_eq(setenv("SANDBOXCTL_PROFILE_PATH", path, 1), 0);

        sbx_autofree char *where = NULL;
        cr_assert_eq(sbx_profile_locate("x", &where, NULL), 0);
        char expect[PATH_MAX + 16];
        snprintf(expect, sizeof(expect), "%s/x.yaml", first);
        cr_assert_str_eq(where, expect);
        sbx_autofree char *as_path = NULL;
        cr_assert_eq(sbx_profile_locate("some/where", &as_path, NULL), 0);
        cr_assert_str_eq(as_path, "some/where");
        sbx_autofree char *yaml_name = NULL;
        cr_assert_eq(sbx_profile_locate("x.yaml", &yaml_name, NULL), 0);
        cr_assert_str_eq(yaml_name, "x.yaml");

        struct sbx_profile_entry *list = NULL;
        size_t n = 0;
        cr_assert_eq(sbx_profile_list(&list, &n, NULL), 0);
        cr_assert_geq(n, 6);
        cr_assert_str_eq(list[0].name, "x");
        cr_assert_str_eq(list[0].description, "first x");
        cr_assert_eq(list[0].shadowed, false);
        cr_assert_str_eq(list[1].name, "b");
        cr_assert_str_eq(list[2].name, "broken");
        cr_assert_null(list[2].description);
        cr_assert_str_eq(list[3].name, "medium");
        cr_assert_str_eq(list[3].description, "my medium");
        cr_assert_str_eq(list[4].name, "x");
        cr_assert_eq(list[4].shadowed, true);
        cr_assert_str_eq(list[n - 1].name, "medium");
        cr_assert_str_eq(list[n - 1].path, SBX_PROFILE_BUILTIN_SOURCE);
        cr_assert_eq(list[n - 1].shadowed, true);
        cr_assert_str_eq(list[n - 1].description,
                         "Balanced isolation for everyday jobs (the default)");
        sbx_profile_entries_free(list, n);
}

Test(profile_lookup, empty_name)
{
        sbx_autofree char *where = NULL;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_profile_locate("", &where, &e), -EINVAL);
        cr_assert_str_eq(e->message, "empty profile name");
        cr_assert_null(where);
}

Test(profile_lookup, unreadable_paths)
{
        sbx_autofree char *m = load_err("/nonexistent/x.yaml", ENOENT);
        cr_assert_str_eq(m, "open /nonexistent/x.yaml: No such file or directory");
        sbx_autofree char *m2 = load_err(dir, EINVAL);
        sbx_autofree char *expect = NULL;
        cr_assert_eq(asprintf(&expect, "%s: not a regular file", dir) > 0, 1);
        cr_assert_str_eq(m2, expect);
}
