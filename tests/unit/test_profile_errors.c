/* Tests of YAML parsing and validation errors, from profile text in memory:
 * exact messages with file:line:column and key paths. */
#include "profile_test_util.h"

Test(profile_yaml, positions_are_one_based_line_and_column)
{
        assert_load_error("limits:\n  memory: 12Q\n",
                          "p.yaml:2:11: limits.memory: invalid size '12Q': unknown unit 'Q' "
                          "(use K, M, G or T)");
        assert_load_error("limits: {memory: 1M, pids: many}\n",
                          "p.yaml:1:28: limits.pids: invalid count 'many': expected a whole "
                          "number");
        assert_load_error("filesystem:\n  tmpfs:\n    - path: /tmp\n    - path: /x\n"
                          "      size: 0\n",
                          "p.yaml:5:13: filesystem.tmpfs[1].size: must be greater than 0");
}

Test(profile_yaml, every_error_of_a_file_one_per_line)
{
        assert_load_error("nme: x\nlimits:\n  memory: 1M\n  memory: 2M\n  cpu: 0\n"
                          "isolation: []\nenv:\n  A-B: 1\n",
                          "p.yaml:1:1: nme: unknown key 'nme' (did you mean 'name'?)\n"
                          "p.yaml:4:3: limits.memory: duplicate key 'memory' (first at line 3)\n"
                          "p.yaml:5:8: limits.cpu: invalid CPU '0': must be between 1% and "
                          "100000% (0.01 to 1000 CPUs)\n"
                          "p.yaml:6:12: isolation: expected a mapping\n"
                          "p.yaml:8:3: env.A-B: invalid variable name 'A-B' (letters, digits "
                          "and '_', not starting with a digit)");
}

Test(profile_yaml, did_you_mean)
{
        assert_load_error("limits:\n  timout: 5s\n",
                          "p.yaml:2:3: limits.timout: unknown key 'timout' (did you mean "
                          "'timeout'?)");
        assert_load_error("isolation:\n  NameSpaces: [pid]\n",
                          "p.yaml:2:3: isolation.NameSpaces: unknown key 'NameSpaces' (did you "
                          "mean 'namespaces'?)");
        assert_load_error("checkpoint:\n  kep: 1\n",
                          "p.yaml:2:3: checkpoint.kep: unknown key 'kep' (did you mean 'keep'?)");
        assert_load_error("zzz: 1\n", "p.yaml:1:1: zzz: unknown key 'zzz'");
        assert_load_error("xy: 1\n", "p.yaml:1:1: xy: unknown key 'xy'");
}

Test(profile_yaml, syntax_errors_stop_with_the_libyaml_mark)
{
        assert_load_error("limits:\n  memory: 64M\n pids: 1\n",
                          "p.yaml:3:2: invalid YAML: did not find expected key (while parsing a "
                          "block mapping at line 1, column 1)");
        assert_load_error("name: \"unterminated\n",
                          "p.yaml:2:1: invalid YAML: found unexpected end of stream (while "
                          "scanning a quoted scalar at line 1, column 7)");
        assert_load_error("a: b: c\n",
                          "p.yaml:1:5: invalid YAML: mapping values are not allowed in this "
                          "context");
}

Test(profile_yaml, anchors_aliases_and_documents)
{
        assert_load_error("limits: &l {pids: 1}\n",
                          "p.yaml:1:9: anchors and aliases are not allowed");
        assert_load_error("a: &x 1\n", "p.yaml:1:4: anchors and aliases are not allowed");
        assert_load_error("a: [&x [1]]\n", "p.yaml:1:5: anchors and aliases are not allowed");
        assert_load_error("name: x\n---\nname: y\n",
                          "p.yaml:2:1: multiple documents are not allowed");
        assert_load_error("", "p.yaml:1:1: profile is empty");
        assert_load_error("# only a comment\n", "p.yaml:2:1: profile is empty");
        assert_load_error("---\n", "p.yaml:2:1: profile is empty");
        assert_load_error("~\n", "p.yaml:1:1: profile is empty");
}

Test(profile_yaml, billion_laughs_is_refused_at_the_first_anchor)
{
        assert_load_error("a: &a [\"lol\",\"lol\"]\nb: &b [*a,*a]\nc: &c [*b,*b]\n",
                          "p.yaml:1:4: anchors and aliases are not allowed");
}

Test(profile_yaml, nesting_limit)
{
        char text[256];
        /* the root mapping is level 1: 31 brackets inside it are fine, 32 are not */
        snprintf(text, sizeof(text), "watch:\n  paths: %.*s%.*s\n", 30,
                 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 30,
                 "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
        char *m = load_text_err(text, "p.yaml", EINVAL);
        cr_assert_str_eq(m, "p.yaml:2:11: watch.paths[0]: expected a scalar");
        free(m);
        snprintf(text, sizeof(text), "watch:\n  paths: %.*s%.*s\n", 31,
                 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 31,
                 "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
        assert_load_error(text, "p.yaml:2:40: nesting deeper than 32 levels");
}

Test(profile_yaml, size_limit)
{
        size_t len = 1024 * 1024 + 1;
        char *big = malloc(len + 1);
        memset(big, '#', len);
        big[len] = '\0';
        struct sbx_spec *s = NULL;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_profile_load_string(big, len, "big.yaml", &s, &e), -EFBIG);
        cr_assert_str_eq(e->message, "big.yaml:1:1: profile is larger than 1 MiB (1048577 bytes)");
        cr_assert_null(s);
        sbx_error_freep(&e);

        char *dir = tmpdir_make();
        write_file(dir, "big.yaml", big);
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/big.yaml", dir);
        cr_assert_eq(sbx_profile_load(path, &s, &e), -EFBIG);
        char expect[PATH_MAX + 64];
        snprintf(expect, sizeof(expect), "%s:1:1: profile is larger than 1 MiB (1048577 bytes)",
                 path);
        cr_assert_str_eq(e->message, expect);
        tmpdir_remove(dir);
        free(big);
}

Test(profile_yaml, no_filename_and_odd_bytes)
{
        struct sbx_spec *s = NULL;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_profile_load_string("audit: x\n", 9, NULL, &s, &e), -EINVAL);
        cr_assert_str_eq(e->message,
                         "<string>:1:8: audit: invalid value 'x' (expected full, basic or none)");
        sbx_error_freep(&e);
        cr_assert_eq(sbx_profile_load_string("audit: full\n", 12, NULL, &s, &e), 0);
        cr_assert_str_eq(s->name, "unnamed");
        cr_assert_str_eq(s->source, "<string>");
        sbx_spec_free(s);
        s = NULL;
        /* the length is honoured: a NUL inside the text is not an end */
        cr_assert_eq(sbx_profile_load_string("a: 1\0b", 6, "p.yaml", &s, &e), -EINVAL);
        sbx_error_freep(&e);
        assert_load_error("description: \"a\\0b\"\n",
                          "p.yaml:1:14: NUL characters are not allowed");
        assert_load_error("description: caf\xff\n",
                          "p.yaml:1:17: invalid YAML: invalid leading UTF-8 octet");
        assert_load_error("? [a]\n: b\n", "p.yaml:1:3: a key must be a scalar");
        cr_assert_eq(sbx_profile_load_string(NULL, 0, "p.yaml", &s, &e), -EINVAL);
}

Test(profile_schema, types)
{
        assert_load_error("limits: 5\n", "p.yaml:1:9: limits: expected a mapping");
        assert_load_error("limits:\n  best_effort: cpu\n",
                          "p.yaml:2:16: limits.best_effort: expected a list");
        assert_load_error("isolation:\n  hostname: {a: b}\n",
                          "p.yaml:2:13: isolation.hostname: expected a scalar");
        assert_load_error("name:\n", "p.yaml:1:6: name: missing value");
        assert_load_error("description: ~\n", "p.yaml:1:14: description: missing value");
        assert_load_error("filesystem:\n  tmpfs:\n    - /tmp\n",
                          "p.yaml:3:7: filesystem.tmpfs[0]: expected a mapping");
        assert_load_error("filesystem:\n  binds:\n    -\n",
                          "p.yaml:3:6: filesystem.binds[0]: missing key 'source'\n"
                          "p.yaml:3:6: filesystem.binds[0]: missing key 'target'");
        assert_load_error("filesystem:\n  binds:\n    - {source: /a, target: /b, opts: x}\n",
                          "p.yaml:3:32: filesystem.binds[0].opts: unknown key 'opts'");
}

Test(profile_schema, values)
{
        assert_load_error("isolation:\n  hostname: a-very-long-hostname-that-is-over-sixty-four-"
                          "characters-long.example\n",
                          "p.yaml:2:13: isolation.hostname: invalid hostname "
                          "'a-very-long-hostname-that-is-over-sixty-four-characters-long.example' "
                          "(letters, digits, '-' and '.', at most 64 characters)");
        assert_load_error("isolation:\n  hostname: a..b\n",
                          "p.yaml:2:13: isolation.hostname: invalid hostname 'a..b' (letters, "
                          "digits, '-' and '.', at most 64 characters)");
        assert_load_error("security:\n  seccomp: default.json\n",
                          "p.yaml:2:12: security.seccomp: invalid value 'default.json' (expected "
                          "default, strict, none or a file path containing '/')");
        assert_load_error("security:\n  capabilities: [all]\n",
                          "p.yaml:2:18: security.capabilities[0]: unknown capability 'all'");
        assert_load_error("security:\n  syscalls:\n    allow: [\"\"]\n",
                          "p.yaml:3:13: security.syscalls.allow[0]: unknown syscall ''");
        assert_load_error("watch:\n  reload: \"signal:\"\n",
                          "p.yaml:2:11: watch.reload: invalid signal '' (expected a name like "
                          "HUP or SIGUSR1)");
        assert_load_error("watch:\n  reload: signal:SIGRTMIN\n",
                          "p.yaml:2:11: watch.reload: invalid signal 'SIGRTMIN' (expected a name "
                          "like HUP or SIGUSR1)");
        assert_load_error("checkpoint:\n  keep: 4294967296\n",
                          "p.yaml:2:9: checkpoint.keep: invalid count '4294967296': must be "
                          "between 0 and 4294967295");
        assert_load_error("security:\n  no_new_privileges: 1\n",
                          "p.yaml:2:22: security.no_new_privileges: invalid value '1' (expected "
                          "true or false)");
        assert_load_error("filesystem:\n  rootfs: \"\"\n",
                          "p.yaml:2:11: filesystem.rootfs: expected 'host' or an absolute path, "
                          "got ''");
}

Test(profile_schema, accepted_forms)
{
        struct sbx_spec *s = load_text_ok(
                "security:\n  capabilities: [CAP_SYS_PTRACE, sys_ptrace, Net_Admin]\n"
                "  seccomp: /abs/filter.json\n"
                "watch:\n  reload: signal:SIGTERM\n"
                "limits:\n  cpu: 250%\n  memory: 0\n"
                "env:\n  Z: 1\n  PATH: /bin\n  A: \"x=y\"\n",
                "/etc/p.yaml");
        cr_assert_eq(s->security.capabilities.n, 2);
        cr_assert_str_eq(s->security.capabilities.items[0], "sys_ptrace");
        cr_assert_str_eq(s->security.capabilities.items[1], "net_admin");
        cr_assert_eq(s->security.seccomp, SBX_SECCOMP_FILE);
        cr_assert_str_eq(s->security.seccomp_file, "/abs/filter.json");
        cr_assert_eq(s->watch.reload_signal, 15);
        cr_assert_eq(s->limits.cpu, 2500);
        cr_assert_eq(s->limits.memory, 0);
        cr_assert_eq(s->env.n, 3);
        cr_assert_str_eq(s->env.items[0], "PATH=/bin");
        cr_assert_str_eq(s->env.items[1], "Z=1");
        cr_assert_str_eq(s->env.items[2], "A=x=y");
        cr_assert_str_eq(s->name, "p");
        sbx_spec_free(s);
}
