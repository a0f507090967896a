/* Tests of the profile module against files: the corpus of malformed
 * profiles (tests/data/bad), valid edge cases (tests/data/good), the shipped
 * profiles and their limits, the built-in profile, and JSON/YAML round trips. */
#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "profile_test_util.h"

#define MiB (1024ULL * 1024)

static int compare_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.yaml files of DIR (relative to the source root), sorted. */
static size_t list_yaml(const char *dir, char ***ret)
{
        DIR *d = opendir(dir);
        char **names = NULL;
        size_t n = 0;

        cr_assert_not_null(d, "opendir %s: %s", dir, strerror(errno));
        for (struct dirent *de; (de = readdir(d));) {
                size_t len = strlen(de->d_name);
                if (len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
                        continue;
                names = realloc(names, (n + 1) * sizeof(*names));
                cr_assert_not_null(names);
                cr_assert_eq(asprintf(&names[n++], "%s/%s", dir, de->d_name) > 0, 1);
        }
        closedir(d);
        qsort(names, n, sizeof(*names), compare_names);
        *ret = names;
        return n;
}

static void free_names(char **names, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

/* The first line of a corpus file must be "# expect: LINE". */
static char *expected_line(const char *path)
{
        char *line = NULL;
        size_t cap = 0;
        FILE *f = fopen(path, "re");
        cr_assert_not_null(f);
        ssize_t len = getline(&line, &cap, f);
        fclose(f);
        cr_assert_gt(len, 10, "%s: no first line", path);
        if (line[len - 1] == '\n')
                line[len - 1] = '\0';
        cr_assert_eq(strncmp(line, "# expect: ", 10), 0, "%s: first line is not '# expect: '",
                     path);
        memmove(line, line + 10, strlen(line + 10) + 1);
        return line;
}

Test(profile_corpus, every_bad_profile_fails_with_its_expected_first_line)
{
        char **names;
        enter_source_root();
        size_t n = list_yaml("tests/data/bad", &names);

        cr_assert_geq(n, 35, "only %zu malformed profiles in the corpus", n);
        for (size_t i = 0; i < n; i++) {
                sbx_autofree char *expect = expected_line(names[i]);
                struct sbx_spec *s = NULL;
                sbx_autoerror e = NULL;
                int r = sbx_profile_load(names[i], &s, &e);
                cr_assert_lt(r, 0, "%s: loaded without error", names[i]);
                cr_assert_null(s, "%s: spec set on failure", names[i]);
                cr_assert_not_null(e);
                cr_assert_gt(e->code, 0);
                size_t first = strcspn(e->message, "\n");
                cr_expect(strlen(expect) == first && strncmp(e->message, expect, first) == 0,
                          "%s:\n  expected: %s\n  got:      %.*s", names[i], expect, (int)first,
                          e->message);
        }
        free_names(names, n);
}

Test(profile_corpus, several_errors_are_all_reported_in_file_order)
{
        enter_source_root();
        struct sbx_spec *s = NULL;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_profile_load("tests/data/bad/several-errors.yaml", &s, &e), -EINVAL);
        cr_assert_str_eq(e->message,
                         "tests/data/bad/several-errors.yaml:3:11: limits.memory: invalid size "
                         "'lots': expected a number with an optional unit K, M, G or T\n"
                         "tests/data/bad/several-errors.yaml:4:9: limits.pids: invalid count "
                         "'0': must be between 1 and 4194304\n"
                         "tests/data/bad/several-errors.yaml:5:8: audit: invalid value 'loud' "
                         "(expected full, basic or none)");
}

Test(profile_corpus, every_good_profile_loads)
{
        char **names;
        enter_source_root();
        size_t n = list_yaml("tests/data/good", &names);

        cr_assert_geq(n, 8);
        for (size_t i = 0; i < n; i++) {
                struct sbx_spec *s = NULL;
                sbx_autoerror e = NULL;
                cr_expect_eq(sbx_profile_load(names[i], &s, &e), 0, "%s: %s", names[i],
                             e ? e->message : "");
                cr_expect_eq(s ? sbx_spec_validate(s, NULL) : 0, 0, "%s: invalid spec", names[i]);
                sbx_spec_free(s);
        }
        free_names(names, n);
}

Test(profile_good, all_keys_values)
{
        enter_source_root();
        struct sbx_spec *s = NULL;
        cr_assert_eq(sbx_profile_load("tests/data/good/all-keys.yaml", &s, NULL), 0);
        cr_assert_str_eq(s->name, "all-keys");
        cr_assert_str_eq(s->description, "Every key: set");
        cr_assert_str_eq(s->source, "tests/data/good/all-keys.yaml");
        cr_assert_eq(s->isolation.level, SBX_ISOLATION_STRICT);
        cr_assert_eq(s->isolation.namespaces, SBX_NS_USER | SBX_NS_PID | SBX_NS_MOUNT);
        cr_assert_str_eq(s->isolation.hostname, "box-1.example");
        cr_assert_eq(s->limits.memory, 1536 * MiB);
        cr_assert_eq(s->limits.memory_swap, 64 * MiB);
        cr_assert_eq(s->limits.pids, 4194304);
        cr_assert_eq(s->limits.cpu, 1500);
        cr_assert_eq(s->limits.timeout_ms, 3600000);
        cr_assert_eq(s->limits.file_size, 512 * 1024);
        cr_assert_eq(s->limits.open_files, 16);
        cr_assert_eq(s->limits.best_effort, SBX_LIMIT_MEMORY | SBX_LIMIT_MEMORY_SWAP |
                                                    SBX_LIMIT_PIDS | SBX_LIMIT_CPU);
        cr_assert_str_eq(s->filesystem.rootfs, "/srv/rootfs");
        cr_assert_str_eq(s->filesystem.workspace_path, "/src");
        cr_assert_eq(s->filesystem.workspace_mode, SBX_WORKSPACE_RO);
        cr_assert_eq(s->filesystem.n_tmpfs, 2);
        cr_assert_str_eq(s->filesystem.tmpfs[0].path, "/tmp");
        cr_assert_eq(s->filesystem.tmpfs[0].size, MiB);
        cr_assert_str_eq(s->filesystem.tmpfs[1].path, "/run");
        cr_assert_eq(s->filesystem.tmpfs[1].size, 64 * MiB);
        cr_assert_eq(s->filesystem.n_binds, 2);
        cr_assert_str_eq(s->filesystem.binds[0].source, "/srv/cache");
        cr_assert_str_eq(s->filesystem.binds[0].target, "/cache");
        cr_assert_eq(s->filesystem.binds[0].read_only, false);
        cr_assert_eq(s->filesystem.binds[1].read_only, true);
        cr_assert_eq(s->filesystem.masked.n, 1);
        cr_assert_str_eq(s->filesystem.masked.items[0], "/proc/kcore");
        cr_assert_eq(s->network, SBX_NETWORK_VETH);
        char cwd[PATH_MAX], filter[PATH_MAX + 64];
        cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
        snprintf(filter, sizeof(filter), "%s/tests/data/good/filters/custom.json", cwd);
        cr_assert_eq(s->security.seccomp, SBX_SECCOMP_FILE);
        cr_assert_str_eq(s->security.seccomp_file, filter);
        cr_assert_eq(s->security.seccomp_file[0], '/');
        cr_assert_eq(s->security.syscalls_deny.n, 2);
        cr_assert_str_eq(s->security.syscalls_deny.items[1], "personality");
        cr_assert_str_eq(s->security.syscalls_allow.items[0], "clone3");
        cr_assert_eq(s->security.capabilities.n, 3);
        cr_assert_str_eq(s->security.capabilities.items[0], "net_raw");
        cr_assert_str_eq(s->security.capabilities.items[1], "net_bind_service");
        cr_assert_str_eq(s->security.capabilities.items[2], "chown");
        cr_assert_null(s->security.capabilities.items[3]);
        cr_assert_eq(s->security.no_new_privileges, false);
        cr_assert_eq(s->audit, SBX_AUDIT_FULL);
        cr_assert_eq(s->env.n, 4);
        cr_assert_str_eq(s->env.items[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        cr_assert_str_eq(s->env.items[1], "LANG=C.UTF-8");
        cr_assert_str_eq(s->env.items[2], "EMPTY=");
        cr_assert_str_eq(s->env.items[3], "NUMBER=42");
        cr_assert_eq(s->has_watch, true);
        cr_assert_eq(s->watch.paths.n, 2);
        cr_assert_eq(s->watch.debounce_ms, 250);
        cr_assert_str_eq(s->watch.rebuild, "make -j4");
        cr_assert_eq(s->watch.reload, SBX_RELOAD_SIGNAL);
        cr_assert_eq(s->watch.reload_signal, SIGUSR1);
        cr_assert_eq(s->watch.rebuild_timeout_ms, 600000);
        cr_assert_eq(s->watch.healthy_after_ms, 500);
        cr_assert_str_eq(s->watch.artifacts.items[0], "build/app");
        cr_assert_eq(s->watch.gitignore, false);
        cr_assert_eq(s->checkpoint.keep, 0);
        cr_assert_eq(s->checkpoint.workspace, false);
        sbx_spec_free(s);
}

Test(profile_good, booleans_nulls_and_signals)
{
        enter_source_root();
        struct sbx_spec *s = NULL;
        cr_assert_eq(sbx_profile_load("tests/data/good/booleans.yaml", &s, NULL), 0);
        cr_assert_eq(s->security.no_new_privileges, true);
        cr_assert_eq(s->watch.gitignore, false);
        cr_assert_eq(s->checkpoint.workspace, true);
        cr_assert_str_eq(s->name, "booleans");
        sbx_spec_free(s);

        cr_assert_eq(sbx_profile_load("tests/data/good/empty-sections.yaml", &s, NULL), 0);
        cr_assert_eq(s->isolation.namespaces, SBX_NS_ALL);
        cr_assert_eq(s->limits.memory, 128 * MiB);
        cr_assert_eq(s->filesystem.masked.n, 0);
        cr_assert_eq(s->filesystem.n_tmpfs, 0);
        cr_assert_eq(s->has_watch, true);
        cr_assert_eq(s->watch.reload, SBX_RELOAD_RESTART);
        sbx_spec_free(s);

        cr_assert_eq(sbx_profile_load("tests/data/good/reload-signal.yaml", &s, NULL), 0);
        cr_assert_eq(s->watch.reload, SBX_RELOAD_SIGNAL);
        cr_assert_eq(s->watch.reload_signal, SIGHUP);
        sbx_spec_free(s);
}

struct shipped {
        const char *name;
        uint64_t memory, pids, timeout_ms;
        enum sbx_isolation_level level;
        enum sbx_audit_level audit;
};

Test(profile_shipped, limits_match_the_design_table)
{
        static const struct shipped table[] = {
                { "high", 64 * MiB, 50, 60000, SBX_ISOLATION_STRICT, SBX_AUDIT_FULL },
                { "medium", 128 * MiB, 100, 300000, SBX_ISOLATION_MEDIUM, SBX_AUDIT_BASIC },
                { "low", 256 * MiB, 200, 600000, SBX_ISOLATION_RELAXED, SBX_AUDIT_BASIC },
        };
        enter_source_root();
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                struct sbx_spec *s = NULL;
                sbx_autoerror e = NULL;
                cr_assert_eq(sbx_profile_load(table[i].name, &s, &e), 0, "%s: %s",
                             table[i].name, e ? e->message : "");
                char expect_source[64];
                snprintf(expect_source, sizeof(expect_source), "profiles/%s.yaml",
                         table[i].name);
                cr_assert_str_eq(s->source, expect_source);
                cr_assert_str_eq(s->name, table[i].name);
                cr_assert_eq(s->limits.memory, table[i].memory, "%s memory", table[i].name);
                cr_assert_eq(s->limits.pids, table[i].pids, "%s pids", table[i].name);
                cr_assert_eq(s->limits.timeout_ms, table[i].timeout_ms, "%s timeout",
                             table[i].name);
                cr_assert_eq(s->isolation.level, table[i].level, "%s level", table[i].name);
                cr_assert_eq(s->audit, table[i].audit, "%s audit", table[i].name);
                cr_assert_eq(s->limits.file_size, 10 * MiB, "%s file_size", table[i].name);
                cr_assert_eq(s->limits.cpu, 500, "%s cpu", table[i].name);
                cr_assert_eq(s->security.capabilities.n, 0);
                cr_assert_eq(s->security.no_new_privileges, true);
                sbx_spec_free(s);
        }
}

Test(profile_shipped, ci_and_dev)
{
        enter_source_root();
        struct sbx_spec *s = NULL;
        cr_assert_eq(sbx_profile_load("ci", &s, NULL), 0);
        cr_assert_str_eq(s->name, "ci");
        cr_assert_eq(s->limits.timeout_ms, 30 * 60000);
        cr_assert_eq(s->limits.memory, 128 * MiB);
        cr_assert_eq(s->filesystem.n_tmpfs, 1);
        cr_assert_eq(s->filesystem.tmpfs[0].size, 128 * MiB);
        cr_assert_eq(s->env.n, 2);
        cr_assert_str_eq(s->env.items[1], "CI=true");
        cr_assert_eq(s->has_watch, false);
        sbx_spec_free(s);

        cr_assert_eq(sbx_profile_load("dev", &s, NULL), 0);
        cr_assert_str_eq(s->name, "dev");
        cr_assert_eq(s->limits.memory, 256 * MiB);
        cr_assert_eq(s->network, SBX_NETWORK_HOST);
        cr_assert_eq(s->has_watch, true);
        cr_assert_eq(s->watch.debounce_ms, 100);
        cr_assert_str_eq(s->watch.rebuild, "make");
        cr_assert_eq(s->watch.reload, SBX_RELOAD_RESTART);
        cr_assert_eq(s->watch.include.n, 3);
        cr_assert_str_eq(s->watch.include.items[2], "Makefile");
        cr_assert_eq(s->watch.rebuild_timeout_ms, 300000);
        cr_assert_eq(s->watch.healthy_after_ms, 2000);
        cr_assert_eq(s->watch.gitignore, true);
        sbx_spec_free(s);
}

static char *read_all(const char *path, size_t *ret_len)
{
        FILE *f = fopen(path, "re");
        cr_assert_not_null(f, "%s: %s", path, strerror(errno));
        char *buf = malloc(2 * MiB);
        size_t n = fread(buf, 1, 2 * MiB - 1, f);
        fclose(f);
        buf[n] = '\0';
        *ret_len = n;
        return buf;
}

Test(profile_builtin, text_equals_the_shipped_medium_file)
{
        enter_source_root();
        size_t len;
        sbx_autofree char *file = read_all("profiles/medium.yaml", &len);
        const char *builtin = sbx_profile_builtin_text();
        cr_assert_eq(strlen(builtin), len);
        cr_assert_eq(memcmp(builtin, file, len), 0);
}

Test(profile_builtin, resolves_like_the_file)
{
        enter_source_root();
        struct sbx_spec *a = NULL, *b = NULL;
        cr_assert_eq(sbx_profile_load("profiles/medium.yaml", &a, NULL), 0);
        cr_assert_eq(sbx_profile_load(SBX_PROFILE_BUILTIN_SOURCE, &b, NULL), 0);
        cr_assert_str_eq(b->source, SBX_PROFILE_BUILTIN_SOURCE);
        cr_assert_str_eq(b->name, "medium");
        sbx_autofree char *ja = spec_json(a);
        sbx_autofree char *jb = spec_json(b);
        cr_assert_str_eq(ja, jb);
        sbx_spec_free(a);
        sbx_spec_free(b);
}

Test(profile_builtin, medium_by_name_falls_back_to_builtin)
{
        char *d = tmpdir_make();
        cr_assert_eq(setenv("SANDBOXCTL_PROFILE_PATH", d, 1), 0);
        sbx_autofree char *where = NULL;
        struct sbx_spec *s = NULL;
        /* only when no file is found: /etc and the data dir may hold one */
        cr_assert_eq(sbx_profile_locate("medium", &where, NULL), 0);
        cr_assert_eq(sbx_profile_load("medium", &s, NULL), 0);
        cr_assert_str_eq(s->source, where);
        cr_assert_eq(s->limits.memory, 128 * MiB);
        sbx_spec_free(s);
        tmpdir_remove(d);
}

Test(profile_defaults, a_silent_profile_equals_medium_but_for_its_name)
{
        struct sbx_spec *medium = NULL;
        cr_assert_eq(sbx_profile_load(SBX_PROFILE_BUILTIN_SOURCE, &medium, NULL), 0);
        struct sbx_spec *s = load_text_ok("description: Balanced isolation for everyday jobs "
                                          "(the default)\n", "/nowhere/medium.yaml");
        cr_assert_str_eq(s->name, "medium");
        sbx_autofree char *jm = spec_json(medium);
        sbx_autofree char *js = spec_json(s);
        cr_assert_str_eq(js, jm);
        sbx_spec_free(s);
        sbx_spec_free(medium);
}

/* JSON and YAML output load back to the same spec. */
static void assert_round_trip(const char *path)
{
        struct sbx_spec *s = NULL, *back = NULL;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_profile_load(path, &s, &e), 0, "%s: %s", path, e ? e->message : "");
        sbx_autofree char *json = spec_json(s);
        sbx_autofree char *yaml = NULL;
        cr_assert_eq(sbx_spec_to_yaml(s, &yaml, &e), 0, "%s", e ? e->message : "");
        cr_assert_null(strstr(json, "\"extends\""));
        cr_assert_null(strstr(yaml, "\nextends:"));

        back = load_text_ok(json, "json.yaml");
        sbx_autofree char *json2 = spec_json(back);
        cr_assert_str_eq(json2, json, "%s: JSON round trip", path);
        sbx_spec_free(back);

        back = load_text_ok(yaml, "yaml.yaml");
        sbx_autofree char *json3 = spec_json(back);
        cr_assert_str_eq(json3, json, "%s: YAML round trip\n%s", path, yaml);
        sbx_spec_free(back);

        sbx_autofree char *compact = NULL;
        cr_assert_eq(sbx_spec_to_json(s, false, &compact, NULL), 0);
        cr_assert_null(strchr(compact, '\n'));
        back = load_text_ok(compact, "compact.yaml");
        sbx_autofree char *json4 = spec_json(back);
        cr_assert_str_eq(json4, json, "%s: compact JSON round trip", path);
        sbx_spec_free(back);
        sbx_spec_free(s);
}

Test(profile_round_trip, shipped_and_good_profiles)
{
        static const char *const shipped[] = { "high", "medium", "low", "ci", "dev" };
        char **names;
        enter_source_root();
        for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++)
                assert_round_trip(shipped[i]);
        size_t n = list_yaml("tests/data/good", &names);
        for (size_t i = 0; i < n; i++)
                assert_round_trip(names[i]);
        free_names(names, n);
}

Test(profile_round_trip, medium_yaml_text)
{
        struct sbx_spec *s = NULL;
        cr_assert_eq(sbx_profile_load(SBX_PROFILE_BUILTIN_SOURCE, &s, NULL), 0);
        sbx_autofree char *yaml = NULL;
        cr_assert_eq(sbx_spec_to_yaml(s, &yaml, NULL), 0);
        cr_assert_not_null(strstr(yaml, "\nlimits:\n  memory: 128M\n  memory_swap: \"0\"\n"
                                         "  pids: 100\n  cpu: 50%\n  timeout: 300s\n"
                                         "  file_size: 10M\n  open_files: 1024\n"
                                         "  best_effort: []\n"), "%s", yaml);
        cr_assert_eq(strncmp(yaml, "name: medium\n", 13), 0, "%s", yaml);
        sbx_spec_free(s);
}

Test(profile_spec, dup_is_deep_and_equal)
{
        enter_source_root();
        struct sbx_spec *s = NULL, *d = NULL;
        cr_assert_eq(sbx_profile_load("tests/data/good/all-keys.yaml", &s, NULL), 0);
        cr_assert_eq(sbx_spec_dup(s, &d, NULL), 0);
        cr_assert_neq(d->name, s->name);
        cr_assert_neq(d->filesystem.binds, s->filesystem.binds);
        cr_assert_neq(d->env.items, s->env.items);
        cr_assert_str_eq(d->source, s->source);
        sbx_autofree char *js = spec_json(s);
        sbx_spec_free(s);
        sbx_autofree char *jd = spec_json(d);
        cr_assert_str_eq(jd, js);
        sbx_spec_free(d);
        sbx_spec_free(NULL);
}

Test(profile_spec, validate_rejects_broken_overrides)
{
        struct sbx_spec *s = NULL;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_profile_load(SBX_PROFILE_BUILTIN_SOURCE, &s, NULL), 0);
        cr_assert_eq(sbx_spec_validate(s, NULL), 0);

        free(s->isolation.hostname);
        s->isolation.hostname = strdup("-bad");
        cr_assert_eq(sbx_spec_validate(s, &e), -EINVAL);
        cr_assert_str_eq(e->message, "isolation.hostname: invalid hostname '-bad'");
        sbx_error_freep(&e);
        free(s->isolation.hostname);
        s->isolation.hostname = strdup("ok");

        cr_assert_eq(sbx_strv_push(&s->env, "PATH=/bin"), 0);
        cr_assert_eq(sbx_spec_validate(s, &e), -EINVAL);
        cr_assert_str_eq(e->message, "env: variable 'PATH' set twice");
        sbx_error_freep(&e);
        free(s->env.items[--s->env.n]);
        s->env.items[s->env.n] = NULL;

        s->security.seccomp = SBX_SECCOMP_FILE;
        cr_assert_eq(sbx_spec_validate(s, &e), -EINVAL);
        cr_assert_str_eq(e->message, "security.seccomp: a filter file must be set exactly when "
                                     "the mode is a file");
        sbx_error_freep(&e);
        s->security.seccomp = SBX_SECCOMP_DEFAULT;

        free(s->filesystem.workspace_path);
        s->filesystem.workspace_path = strdup("rel");
        cr_assert_eq(sbx_spec_validate(s, &e), -EINVAL);
        cr_assert_str_eq(e->message,
                         "filesystem.workspace.path: expected an absolute path, got 'rel'");
        sbx_spec_free(s);
}

Test(profile_spec, enum_names)
{
        enum sbx_network_mode m;
        cr_assert_str_eq(sbx_isolation_level_to_string(SBX_ISOLATION_RELAXED), "relaxed");
        cr_assert_str_eq(sbx_workspace_mode_to_string(SBX_WORKSPACE_OVERLAY), "overlay");
        cr_assert_str_eq(sbx_network_mode_to_string(SBX_NETWORK_VETH), "veth");
        cr_assert_str_eq(sbx_seccomp_mode_to_string(SBX_SECCOMP_STRICT), "strict");
        cr_assert_str_eq(sbx_audit_level_to_string(SBX_AUDIT_NONE), "none");
        cr_assert_str_eq(sbx_namespace_to_string(SBX_NS_CGROUP), "cgroup");
        cr_assert_null(sbx_namespace_to_string(SBX_NS_ALL));
        cr_assert_eq(sbx_network_mode_from_string("host", &m), 0);
        cr_assert_eq(m, SBX_NETWORK_HOST);
        cr_assert_eq(sbx_network_mode_from_string("bridge", &m), -EINVAL);
}

Test(profile_docs, every_yaml_example_in_the_reference_loads)
{
        enter_source_root();
        size_t len, count = 0;
        sbx_autofree char *doc = read_all("docs/profiles.md", &len);
        const char *open_mark = "```yaml\n";
        for (char *p = strstr(doc, open_mark); p; p = strstr(p, open_mark)) {
                p += strlen(open_mark);
                char *end = strstr(p, "```");
                cr_assert_not_null(end);
                struct sbx_spec *s = NULL;
                sbx_autoerror e = NULL;
                cr_expect_eq(sbx_profile_load_string(p, (size_t)(end - p), "docs/profiles.md",
                                                     &s, &e), 0, "example %zu: %s\n%.*s", count,
                             e ? e->message : "", (int)(end - p), p);
                sbx_spec_free(s);
                count++;
                p = end + 3;
        }
        cr_assert_geq(count, 12);
}
