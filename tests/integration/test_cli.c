/* test_cli: the sandboxctl command line, run as a real binary: help, version,
 * usage errors, and the profile commands on the shipped profiles and on the
 * malformed corpus in tests/data/bad. Needs no privileges. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"

SBX_TEST_MAIN(SBX_NEED_NOTHING)

#define TIMEOUT 30.0

static const char *const shipped[] = { "ci", "dev", "high", "low", "medium" };

/* Run sandboxctl with argv (NULL-terminated) from the source root, so that
 * paths like tests/data/bad/x.yaml are relative. */
static struct run_result run_in_src(const char *first, ...)
{
        char *argv[64];
        size_t n = 0;
        argv[n++] = (char *)"/bin/sh";
        argv[n++] = (char *)"-c";
        argv[n++] = (char *)"cd \"$0\" && exec \"$@\"";
        argv[n++] = (char *)sbx_test_source_path("");
        argv[n++] = (char *)sbx_test_binary();
        va_list ap;
        va_start(ap, first);
        for (const char *a = first; a && n < 63; a = va_arg(ap, const char *))
                argv[n++] = (char *)a;
        va_end(ap);
        argv[n] = NULL;
        struct run_result r;
        cr_assert_eq(sbx_test_run(argv, NULL, TIMEOUT, &r), 0, "could not start sandboxctl");
        return r;
}

#define RUN(...)                                                                   \
        ({                                                                         \
                struct run_result _r;                                              \
                cr_assert_eq(sbx_test_run_sbx(TIMEOUT, &_r, __VA_ARGS__, NULL), 0, \
                             "could not start sandboxctl");                        \
                _r;                                                                \
        })

static bool has_line(const char *text, const char *line)
{
        size_t n = strlen(line);
        for (const char *p = text; p && *p;) {
                const char *end = strchr(p, '\n');
                size_t len = end ? (size_t)(end - p) : strlen(p);
                if (len == n && strncmp(p, line, n) == 0)
                        return true;
                p = end ? end + 1 : NULL;
        }
        return false;
}

static json_t *parse_json(const char *text)
{
        json_error_t e;
        json_t *v = json_loads(text, 0, &e);
        cr_assert_not_null(v, "not JSON (%s at line %d): %s", e.text, e.line, text);
        return v;
}

static void assert_usage_error(struct run_result *r, const char *expected_stderr)
{
        cr_assert_eq(r->exit_code, 2, "exit %d, stderr: %s", r->exit_code, r->err);
        cr_assert_str_eq(r->out, "");
        cr_assert_str_eq(r->err, expected_stderr);
        sbx_test_result_free(r);
}

/* ---- help ---------------------------------------------------------------- */

static void assert_help(struct run_result r, const char *usage_prefix)
{
        cr_assert_eq(r.exit_code, 0, "exit %d, stderr: %s", r.exit_code, r.err);
        cr_assert_str_eq(r.err, "");
        cr_assert(strncmp(r.out, usage_prefix, strlen(usage_prefix)) == 0,
                  "expected '%s...', got: %s", usage_prefix, r.out);
        cr_assert(strstr(r.out, "Examples:\n"), "no examples in: %s", r.out);
        sbx_test_result_free(&r);
}

Test(help, top_level)
{
        const char *u = "Usage: sandboxctl [OPTIONS] COMMAND [ARGS...]\n";
        assert_help(RUN("--help"), u);
        assert_help(RUN("-h"), u);
        assert_help(RUN("help"), u);
        struct run_result r = RUN("help");
        /* The summary column is aligned to the longest command name. */
        const char *row = strstr(r.out, "\n  profile ");
        cr_assert(row, "%s", r.out);
        row += strlen("\n  profile ");
        row += strspn(row, " ");
        cr_assert(strncmp(row, "List, show and validate security profiles\n",
                          strlen("List, show and validate security profiles\n")) == 0,
                  "%s", r.out);
        for (const char *const *c = (const char *const[]){ "run", "gc", "create", "exec",
                                                           "checkpoint", "watch", NULL };
             *c; c++) {
                char needle[64];
                snprintf(needle, sizeof(needle), "\n  %s ", *c);
                cr_expect(strstr(r.out, needle), "no row for '%s' in: %s", *c, r.out);
        }
        cr_assert(strstr(r.out, "--log-format FORMAT"), "%s", r.out);
        sbx_test_result_free(&r);
}

Test(help, every_command)
{
        assert_help(RUN("profile", "--help"), "Usage: sandboxctl profile COMMAND");
        assert_help(RUN("profile", "-h"), "Usage: sandboxctl profile COMMAND");
        assert_help(RUN("help", "profile"), "Usage: sandboxctl profile COMMAND");
        assert_help(RUN("profile", "list", "--help"), "Usage: sandboxctl profile list [--json]\n");
        assert_help(RUN("profile", "show", "--help"),
                    "Usage: sandboxctl profile show NAME|PATH [--json]\n");
        assert_help(RUN("profile", "validate", "-h"),
                    "Usage: sandboxctl profile validate [-q] [--json] FILE...\n");
        assert_help(RUN("help", "profile", "validate"),
                    "Usage: sandboxctl profile validate [-q] [--json] FILE...\n");
        assert_help(RUN("version", "--help"), "Usage: sandboxctl version [--json]\n");
        assert_help(RUN("help", "version"), "Usage: sandboxctl version [--json]\n");
        assert_help(RUN("help", "--help"), "Usage: sandboxctl help [COMMAND [SUBCOMMAND]]\n");
}

/* ---- version -------------------------------------------------------------- */

Test(version, text)
{
        struct run_result r = RUN("version");
        cr_assert_eq(r.exit_code, 0);
        cr_assert(strncmp(r.out, "sandboxctl " SBX_VERSION "\n", strlen(SBX_VERSION) + 12) == 0,
                  "%s", r.out);
        struct utsname u;
        cr_assert_eq(uname(&u), 0);
        char line[512];
        snprintf(line, sizeof(line), "  kernel      %s", u.release);
        cr_assert(has_line(r.out, line), "no '%s' in: %s", line, r.out);
        cr_assert(strstr(r.out, "\n  libseccomp  2."), "%s", r.out);
        cr_assert(strstr(r.out, "\n  jansson     " JANSSON_VERSION), "%s", r.out);
        sbx_test_result_free(&r);

        r = RUN("--version");
        cr_assert_eq(r.exit_code, 0);
        cr_assert_str_eq(r.out, "sandboxctl " SBX_VERSION "\n");
        sbx_test_result_free(&r);
        r = RUN("-V");
        cr_assert_str_eq(r.out, "sandboxctl " SBX_VERSION "\n");
        sbx_test_result_free(&r);
}

Test(version, json)
{
        struct run_result r = RUN("version", "--json");
        cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
        json_t *v = parse_json(r.out);
        cr_assert_str_eq(json_string_value(json_object_get(v, "version")), SBX_VERSION);
        struct utsname u;
        cr_assert_eq(uname(&u), 0);
        cr_assert_str_eq(json_string_value(json_object_get(v, "kernel")), u.release);
        json_t *libs = json_object_get(v, "libraries");
        const char *names[] = {
                "libseccomp", "libyaml", "jansson", "libnl", "libcap", "libcgroup"
        };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                const char *ver = json_string_value(json_object_get(libs, names[i]));
                cr_assert(ver && ver[0] >= '0' && ver[0] <= '9', "%s: %s", names[i], r.out);
        }
        cr_assert_str_eq(json_string_value(json_object_get(libs, "jansson")), JANSSON_VERSION);
        json_decref(v);
        sbx_test_result_free(&r);
}

/* ---- usage errors ---------------------------------------------------------- */

Test(usage, unknown_command)
{
        struct run_result r = RUN("proflie");
        assert_usage_error(&r, "sandboxctl: unknown command 'proflie' (did you mean 'profile'?)\n"
                               "Run 'sandboxctl --help' for usage.\n");
        r = RUN("frobnicate");
        assert_usage_error(&r, "sandboxctl: unknown command 'frobnicate'\n"
                               "Run 'sandboxctl --help' for usage.\n");
        r = RUN("help", "verison");
        assert_usage_error(&r, "sandboxctl: unknown command 'verison' (did you mean 'version'?)\n"
                               "Run 'sandboxctl --help' for usage.\n");
        r = RUN("profile", "shw", "medium");
        assert_usage_error(&r, "sandboxctl: unknown profile command 'shw' (did you mean 'show'?)\n"
                               "Run 'sandboxctl profile --help' for usage.\n");
}

Test(usage, unknown_option)
{
        struct run_result r = RUN("--bogus", "version");
        assert_usage_error(&r, "sandboxctl: unknown option '--bogus'\n"
                               "Run 'sandboxctl --help' for usage.\n");
        r = RUN("--log-levle=debug", "version");
        assert_usage_error(&r, "sandboxctl: unknown option '--log-levle' (did you mean "
                               "'--log-level'?)\nRun 'sandboxctl --help' for usage.\n");
        r = RUN("version", "-x");
        assert_usage_error(&r, "sandboxctl: unknown option '-x'\n"
                               "Run 'sandboxctl version --help' for usage.\n");
        r = RUN("profile", "list", "--jsno");
        assert_usage_error(&r, "sandboxctl: unknown option '--jsno' (did you mean '--json'?)\n"
                               "Run 'sandboxctl profile list --help' for usage.\n");
        r = RUN("profile", "show", "medium", "--json=yes");
        assert_usage_error(&r, "sandboxctl: option '--json' does not take an argument\n"
                               "Run 'sandboxctl profile show --help' for usage.\n");
        r = RUN("profile", "show", "-q", "medium");
        assert_usage_error(&r, "sandboxctl: unknown option '-q'\n"
                               "Run 'sandboxctl profile show --help' for usage.\n");
}

Test(usage, missing_argument)
{
        struct run_result r = RUN("--log-level");
        assert_usage_error(&r, "sandboxctl: option '--log-level' requires an argument\n"
                               "Run 'sandboxctl --help' for usage.\n");
        r = RUN("--log-format");
        assert_usage_error(&r, "sandboxctl: option '--log-format' requires an argument\n"
                               "Run 'sandboxctl --help' for usage.\n");
        r = RUN("--log-level", "error");
        assert_usage_error(&r, "sandboxctl: missing command\n"
                               "Run 'sandboxctl --help' for usage.\n");
        r = RUN("profile");
        assert_usage_error(&r, "sandboxctl: missing profile command\n"
                               "Run 'sandboxctl profile --help' for usage.\n");
        r = RUN("profile", "show");
        assert_usage_error(&r, "sandboxctl: profile show: missing NAME or PATH\n"
                               "Run 'sandboxctl profile show --help' for usage.\n");
        r = RUN("profile", "validate", "-q");
        assert_usage_error(&r, "sandboxctl: profile validate: missing FILE\n"
                               "Run 'sandboxctl profile validate --help' for usage.\n");
}

Test(usage, extra_arguments)
{
        struct run_result r = RUN("version", "now");
        assert_usage_error(&r, "sandboxctl: version: unexpected argument 'now'\n"
                               "Run 'sandboxctl version --help' for usage.\n");
        r = RUN("profile", "list", "medium");
        assert_usage_error(&r, "sandboxctl: profile list: unexpected argument 'medium'\n"
                               "Run 'sandboxctl profile list --help' for usage.\n");
        r = RUN("profile", "show", "medium", "low");
        assert_usage_error(&r, "sandboxctl: profile show: unexpected argument 'low'\n"
                               "Run 'sandboxctl profile show --help' for usage.\n");
        r = RUN("help", "profile", "show", "now");
        assert_usage_error(&r, "sandboxctl: help: unexpected argument 'now'\n"
                               "Run 'sandboxctl help --help' for usage.\n");
}

Test(usage, bad_values)
{
        struct run_result r = RUN("--log-level", "loud", "version");
        assert_usage_error(&r, "sandboxctl: invalid log level 'loud' (expected error, warn, info "
                               "or debug)\nRun 'sandboxctl --help' for usage.\n");
        r = RUN("--log-format=xml", "version");
        assert_usage_error(&r, "sandboxctl: invalid log format 'xml' (expected text or json)\n"
                               "Run 'sandboxctl --help' for usage.\n");
}

Test(usage, json_log_format)
{
        struct run_result r = RUN("--log-format", "json", "proflie");
        cr_assert_eq(r.exit_code, 2);
        cr_assert_str_eq(r.out, "");
        cr_assert_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1, "one line: %s", r.err);
        json_t *v = parse_json(r.err);
        cr_assert_str_eq(json_string_value(json_object_get(v, "level")), "error");
        cr_assert_str_eq(json_string_value(json_object_get(v, "message")),
                         "unknown command 'proflie' (did you mean 'profile'?)");
        json_decref(v);
        sbx_test_result_free(&r);
}

/* ---- profile list / show -------------------------------------------------- */

Test(profile, list_shows_shipped_profiles)
{
        struct run_result r = RUN("profile", "list", "--json");
        cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
        json_t *a = parse_json(r.out);
        cr_assert(json_is_array(a));
        for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
                char path[4096];
                snprintf(path, sizeof(path), "%s/profiles/%s.yaml", getenv("SBX_SOURCE_ROOT"),
                         shipped[i]);
                bool found = false;
                size_t k;
                json_t *e;
                json_array_foreach(a, k, e)
                {
                        if (strcmp(json_string_value(json_object_get(e, "name")), shipped[i]))
                                continue;
                        if (strcmp(json_string_value(json_object_get(e, "path")), path))
                                continue;
                        cr_assert(json_is_false(json_object_get(e, "shadowed")), "%s", shipped[i]);
                        cr_assert(json_is_string(json_object_get(e, "description")), "%s",
                                  shipped[i]);
                        found = true;
                }
                cr_assert(found, "%s not listed from %s: %s", shipped[i], path, r.out);
        }
        json_decref(a);
        sbx_test_result_free(&r);

        r = RUN("profile", "list");
        cr_assert_eq(r.exit_code, 0);
        cr_assert(strncmp(r.out, "NAME ", 5) == 0, "%s", r.out);
        cr_assert(strstr(r.out, "Throwaway sandboxes for CI jobs"), "%s", r.out);
        sbx_test_result_free(&r);
}

static json_t *show_json(const char *name_or_path, char **ret_text)
{
        struct run_result r = RUN("profile", "show", name_or_path, "--json");
        cr_assert_eq(r.exit_code, 0, "show %s: %s", name_or_path, r.err);
        cr_assert_str_eq(r.err, "");
        json_t *v = parse_json(r.out);
        if (ret_text)
                *ret_text = strdup(r.out);
        sbx_test_result_free(&r);
        return v;
}

static const char *jget(json_t *root, const char *a, const char *b)
{
        json_t *v = json_object_get(json_object_get(root, a), b);
        static char buf[64];
        if (json_is_integer(v)) {
                snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
                return buf;
        }
        cr_assert(json_is_string(v), "%s.%s is not a string or integer", a, b);
        return json_string_value(v);
}

Test(profile, show_medium_json)
{
        json_t *v = show_json("medium", NULL);
        cr_assert_str_eq(json_string_value(json_object_get(v, "name")), "medium");
        cr_assert_str_eq(jget(v, "limits", "memory"), "128M");
        cr_assert_str_eq(jget(v, "limits", "pids"), "100");
        cr_assert_str_eq(jget(v, "limits", "timeout"), "300s");
        cr_assert_str_eq(jget(v, "limits", "cpu"), "50%");
        cr_assert_str_eq(jget(v, "limits", "file_size"), "10M");
        cr_assert_str_eq(jget(v, "isolation", "level"), "medium");
        cr_assert_str_eq(jget(v, "network", "mode"), "none");
        cr_assert_str_eq(jget(v, "security", "seccomp"), "default");
        cr_assert_str_eq(json_string_value(json_object_get(v, "audit")), "basic");
        json_decref(v);
}

Test(profile, show_resolves_extends)
{
        json_t *v = show_json("high", NULL);
        cr_assert_str_eq(jget(v, "limits", "memory"), "64M");
        cr_assert_str_eq(jget(v, "limits", "pids"), "50");
        cr_assert_str_eq(jget(v, "limits", "timeout"), "60s");
        cr_assert_str_eq(jget(v, "limits", "file_size"), "10M"); /* from medium */
        cr_assert_str_eq(json_string_value(json_object_get(v, "audit")), "full");
        cr_assert_null(json_object_get(v, "extends"), "extends is resolved away");
        json_decref(v);
}

static char *write_temp(const char *text, const char *suffix)
{
        char *path = NULL;
        cr_assert(asprintf(&path, "/tmp/sbx-test-cli-XXXXXX%s", suffix) > 0);
        int fd = mkstemps(path, (int)strlen(suffix));
        cr_assert(fd >= 0, "mkstemps: %s", strerror(errno));
        size_t len = strlen(text);
        cr_assert_eq(write(fd, text, len), (ssize_t)len);
        close(fd);
        return path;
}

Test(profile, show_round_trip)
{
        for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
                char *first = NULL, *second = NULL;
                json_t *v = show_json(shipped[i], &first);
                char *path = write_temp(first, ".json");
                json_t *w = show_json(path, &second);
                unlink(path);
                free(path);
                cr_assert_str_eq(second, first, "%s: JSON round trip differs", shipped[i]);
                cr_assert(json_equal(v, w));
                json_decref(v);
                json_decref(w);
                free(second);

                /* the YAML form says the same */
                struct run_result r = RUN("profile", "show", shipped[i]);
                cr_assert_eq(r.exit_code, 0, "%s", r.err);
                path = write_temp(r.out, ".yaml");
                sbx_test_result_free(&r);
                w = show_json(path, &second);
                unlink(path);
                free(path);
                cr_assert_str_eq(second, first, "%s: YAML round trip differs", shipped[i]);
                json_decref(w);
                free(second);
                free(first);
        }
}

Test(profile, show_missing)
{
        struct run_result r = RUN("profile", "show", "./no-such-profile.yaml");
        cr_assert_eq(r.exit_code, 1);
        cr_assert_str_eq(r.out, "");
        cr_assert(strncmp(r.err, "sandboxctl: ", 12) == 0, "%s", r.err);
        cr_assert(strstr(r.err, "no-such-profile.yaml"), "%s", r.err);
        cr_assert(strstr(r.err, "No such file or directory"), "%s", r.err);
        sbx_test_result_free(&r);
}

/* ---- profile validate ------------------------------------------------------ */

Test(validate, shipped_profiles)
{
        struct run_result r =
                run_in_src("profile", "validate", "profiles/ci.yaml", "profiles/dev.yaml",
                           "profiles/high.yaml", "profiles/low.yaml", "profiles/medium.yaml", NULL);
        cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
        cr_assert_str_eq(r.err, "");
        cr_assert_str_eq(r.out, "profiles/ci.yaml: ok\nprofiles/dev.yaml: ok\n"
                                "profiles/high.yaml: ok\nprofiles/low.yaml: ok\n"
                                "profiles/medium.yaml: ok\n");
        sbx_test_result_free(&r);

        r = run_in_src("profile", "validate", "-q", "profiles/medium.yaml", NULL);
        cr_assert_eq(r.exit_code, 0);
        cr_assert_str_eq(r.out, "");
        cr_assert_str_eq(r.err, "");
        sbx_test_result_free(&r);
}

/* The malformed corpus: NAME.yaml whose first line is "# expect: LINE". */
struct bad_file {
        char rel[512];
        char expect[1024];
};

static size_t load_bad_files(struct bad_file **ret)
{
        const char *dir = sbx_test_source_path("tests/data/bad");
        DIR *d = opendir(dir);
        cr_assert_not_null(d, "opendir %s: %s", dir, strerror(errno));
        struct bad_file *files = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                if (len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
                        continue;
                files = realloc(files, (n + 1) * sizeof(*files));
                cr_assert_not_null(files);
                struct bad_file *f = &files[n++];
                snprintf(f->rel, sizeof(f->rel), "tests/data/bad/%s", de->d_name);
                FILE *fp = fopen(sbx_test_source_path(f->rel), "re");
                cr_assert_not_null(fp, "%s", f->rel);
                char line[1024] = "";
                cr_assert_not_null(fgets(line, sizeof(line), fp), "%s is empty", f->rel);
                fclose(fp);
                line[strcspn(line, "\n")] = '\0';
                cr_assert(strncmp(line, "# expect: ", 10) == 0, "%s: first line: %s", f->rel, line);
                snprintf(f->expect, sizeof(f->expect), "%s", line + 10);
        }
        closedir(d);
        *ret = files;
        return n;
}

static bool has_error_line(const char *err, const char *expect)
{
        char line[1200];
        snprintf(line, sizeof(line), "sandboxctl: %s", expect);
        return has_line(err, line);
}

Test(validate, each_bad_file)
{
        struct bad_file *files;
        size_t n = load_bad_files(&files);
        cr_assert_geq(n, 30, "only %zu malformed profiles in tests/data/bad", n);
        for (size_t i = 0; i < n; i++) {
                struct run_result r = run_in_src("profile", "validate", files[i].rel, NULL);
                cr_expect_eq(r.exit_code, 1, "%s: exit %d", files[i].rel, r.exit_code);
                cr_expect_str_eq(r.out, "", "%s", files[i].rel);
                cr_expect(has_error_line(r.err, files[i].expect),
                          "%s: expected the line\n  sandboxctl: %s\ngot:\n%s", files[i].rel,
                          files[i].expect, r.err);
                sbx_test_result_free(&r);
        }
        free(files);
}

Test(validate, two_bad_files_report_both)
{
        struct bad_file *files;
        size_t n = load_bad_files(&files);
        cr_assert_geq(n, 2);
        struct run_result r = run_in_src("profile", "validate", files[0].rel,
                                         "profiles/medium.yaml", files[1].rel, NULL);
        cr_assert_eq(r.exit_code, 1);
        cr_assert_str_eq(r.out, "profiles/medium.yaml: ok\n");
        cr_assert(has_error_line(r.err, files[0].expect), "%s", r.err);
        cr_assert(has_error_line(r.err, files[1].expect), "%s", r.err);
        sbx_test_result_free(&r);
        free(files);
}

Test(validate, json_output_and_json_log)
{
        struct bad_file *files;
        size_t n = load_bad_files(&files);
        cr_assert_geq(n, 1);
        struct run_result r = run_in_src("--log-format", "json", "profile", "validate", "--json",
                                         "profiles/medium.yaml", files[0].rel, NULL);
        cr_assert_eq(r.exit_code, 1);
        json_t *a = parse_json(r.out);
        cr_assert_eq(json_array_size(a), 2);
        json_t *ok = json_array_get(a, 0), *bad = json_array_get(a, 1);
        cr_assert_str_eq(json_string_value(json_object_get(ok, "file")), "profiles/medium.yaml");
        cr_assert(json_is_true(json_object_get(ok, "valid")));
        cr_assert_eq(json_array_size(json_object_get(ok, "errors")), 0);
        cr_assert_str_eq(json_string_value(json_object_get(bad, "file")), files[0].rel);
        cr_assert(json_is_false(json_object_get(bad, "valid")));
        bool listed = false;
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(bad, "errors"), k, e) listed |=
                strcmp(json_string_value(e), files[0].expect) == 0;
        cr_assert(listed, "%s not in %s", files[0].expect, r.out);
        json_decref(a);

        /* stderr: one JSON object per line, the expected error among them */
        bool seen = false;
        char *save = NULL;
        for (char *line = strtok_r(r.err, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                json_t *v = parse_json(line);
                cr_assert_str_eq(json_string_value(json_object_get(v, "level")), "error");
                seen |= strcmp(json_string_value(json_object_get(v, "message")), files[0].expect) ==
                        0;
                json_decref(v);
        }
        cr_assert(seen, "expected a JSON error line with message '%s'", files[0].expect);
        sbx_test_result_free(&r);
        free(files);
}

/* ---- the docs against --help ---------------------------------------------- */

static char *read_source(const char *rel)
{
        FILE *f = fopen(sbx_test_source_path(rel), "r");
        cr_assert_not_null(f, "open %s", rel);
        char *text = NULL;
        size_t cap = 0;
        ssize_t n = getdelim(&text, &cap, '\0', f);
        fclose(f);
        cr_assert(n > 0, "read %s", rel);
        return text;
}

/* The "## " section of docs/cli.md whose heading names cmd (as a word). */
static char *cli_md_section(const char *doc, const char *cmd)
{
        for (const char *h = strstr(doc, "\n## "); h; h = strstr(h + 1, "\n## ")) {
                const char *eol = strchr(h + 1, '\n');
                for (const char *w = strstr(h, cmd); w && w < eol; w = strstr(w + 1, cmd)) {
                        char after = w[strlen(cmd)];
                        if (w[-1] == ' ' && strchr(",:#", w[-2]) && strchr(", \n", after)) {
                                const char *end = strstr(eol, "\n## ");
                                return strndup(h, end ? (size_t)(end - h) : strlen(h));
                        }
                }
        }
        cr_assert_fail("docs/cli.md has no section for '%s'", cmd);
        return NULL;
}

/* Whether text holds "--opt" as a whole option word. */
static bool has_option(const char *text, const char *opt)
{
        size_t n = strlen(opt);
        for (const char *p = strstr(text, opt); p; p = strstr(p + 1, opt))
                if (!strchr("abcdefghijklmnopqrstuvwxyz-", p[n]) && (p == text || p[-1] != '-'))
                        return true;
        return false;
}

/* Call fn on each long option of the option lines of a --help text. */
static void each_help_option(const char *help, void (*fn)(const char *opt, void *data),
                             void *data)
{
        for (const char *line = help; line && *line;) {
                const char *eol = strchr(line, '\n');
                size_t len = eol ? (size_t)(eol - line) : strlen(line);
                const char *o = strstr(line, "--");
                if (len > 4 && line[0] == ' ' && line[1] == ' ' && o && o < line + 8) {
                        char opt[64];
                        size_t k = strspn(o + 2, "abcdefghijklmnopqrstuvwxyz-");
                        snprintf(opt, sizeof(opt), "--%.*s", (int)k, o + 2);
                        if (k > 0)
                                fn(opt, data);
                }
                line = eol ? eol + 1 : NULL;
        }
}

struct doc_check {
        const char *cmd, *section, *man;
};

static void check_documented(const char *opt, void *data)
{
        const struct doc_check *c = data;
        char man_word[80];

        if (strcmp(opt, "--help") == 0)
                return;
        cr_expect(has_option(c->section, opt), "docs/cli.md: '%s %s' is not documented", c->cmd,
                  opt);
        snprintf(man_word, sizeof(man_word), "*%s*", opt);
        cr_expect(strstr(c->man, man_word), "sandboxctl.1: '%s %s' is not documented", c->cmd,
                  opt);
}

static const char *const sandbox_commands[] = {
        "run", "create", "start", "stop", "restart", "kill", "destroy", "list",
        "info", "stats", "ps", "exec", "logs", "events", "gc",
};

Test(docs, every_option_in_help_is_documented)
{
        char *doc = read_source("docs/cli.md"), *man = read_source("docs/sandboxctl.1.scd");

        for (size_t i = 0; i < sizeof(sandbox_commands) / sizeof(*sandbox_commands); i++) {
                struct run_result r = RUN(sandbox_commands[i], "--help");
                cr_assert_eq(r.exit_code, 0, "%s --help: %s", sandbox_commands[i], r.err);
                struct doc_check c = { sandbox_commands[i],
                                       cli_md_section(doc, sandbox_commands[i]), man };
                if (strcmp(c.cmd, "create") == 0) { /* the run options are in run's */
                        char *run = cli_md_section(doc, "run"), *both = NULL;
                        cr_assert(asprintf(&both, "%s%s", c.section, run) > 0);
                        free((char *)c.section);
                        free(run);
                        c.section = both;
                }
                each_help_option(r.out, check_documented, &c);
                free((char *)c.section);
                sbx_test_result_free(&r);
        }
        free(doc);
        free(man);
}

struct help_union {
        char *text;
};

static void append_option(const char *opt, void *data)
{
        struct help_union *u = data;
        size_t len = u->text ? strlen(u->text) : 0;
        u->text = realloc(u->text, len + strlen(opt) + 2);
        cr_assert_not_null(u->text);
        sprintf(u->text + len, "%s ", opt);
}

/* Nothing stale: every option docs/cli.md names in the sections of these
 * commands is an option of one of them (or a global one). */
Test(docs, no_stale_option_in_cli_md)
{
        char *doc = read_source("docs/cli.md");
        struct help_union u = { strdup("--help --log-format --log-level ") };
        const size_t n = sizeof(sandbox_commands) / sizeof(*sandbox_commands);

        for (size_t i = 0; i < n; i++) {
                struct run_result r = RUN(sandbox_commands[i], "--help");
                each_help_option(r.out, append_option, &u);
                sbx_test_result_free(&r);
        }
        for (size_t i = 0; i < n; i++) {
                char *s = cli_md_section(doc, sandbox_commands[i]);
                for (const char *p = strstr(s, "--"); p; p = strstr(p + 2, "--")) {
                        size_t k = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");
                        char opt[64];
                        if (k == 0 || p[-1] == '-' || p[2] < 'a' || p[2] > 'z')
                                continue;
                        snprintf(opt, sizeof(opt), "--%.*s", (int)k, p + 2);
                        cr_expect(has_option(u.text, opt), "docs/cli.md names '%s', which no "
                                  "command of its section takes", opt);
                }
                free(s);
        }
        free(u.text);
        free(doc);
}
