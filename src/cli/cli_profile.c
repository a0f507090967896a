/* cli_profile: `sandboxctl profile list|show|validate`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "config.h"
#include "sandboxctl/profile.h"
#include "sandboxctl/spec.h"
#include "sandboxctl/util.h"

#define cli_autospec __attribute__((cleanup(sbx_spec_freep))) struct sbx_spec *

static int profile_list(int argc, char **argv);
static int profile_show(int argc, char **argv);
static int profile_validate(int argc, char **argv);

static const struct cli_command profile_commands[] = {
        { "list", profile_list, "List the profiles on the lookup path" },
        { "show", profile_show, "Show a profile fully resolved (after extends)" },
        { "validate", profile_validate, "Check profile files and report every error" },
        { NULL, NULL, NULL },
};

static void profile_usage(void)
{
        printf("Usage: sandboxctl profile COMMAND [OPTIONS] [ARGS...]\n"
               "\n"
               "Work with YAML security profiles (see sandboxctl-profile(5)).\n"
               "\n"
               "Commands:\n");
        cli_print_commands(profile_commands);
        printf("\n"
               "Options:\n"
               "  -h, --help  Show this help and exit\n"
               "\n"
               "A NAME is looked up in each directory of $SANDBOXCTL_PROFILE_PATH, then\n"
               "/etc/sandboxctl/profiles, then %s; anything\n"
               "with a '/' or ending in .yaml or .yml is a path.\n"
               "\n"
               "Examples:\n"
               "  sandboxctl profile list\n"
               "  sandboxctl profile show ci\n"
               "  sandboxctl profile validate my-profile.yaml\n",
               SBX_PROFILES_DATADIR);
}

int cli_profile(int argc, char **argv)
{
        return cli_dispatch("profile", profile_commands, argc, argv, profile_usage);
}

/* An error message may hold one problem per line: log each line. */
static void log_error_lines(const sbx_error *e)
{
        const char *msg = e && e->message ? e->message : "unknown error";
        while (*msg) {
                size_t n = strcspn(msg, "\n");
                sbx_log_error("%.*s", (int)n, msg);
                msg += n;
                if (*msg == '\n')
                        msg++;
        }
}

/* Options shared by the profile subcommands: --json, -q, --help. */
struct profile_opts {
        bool json;
        bool quiet;
};

typedef void (*usage_fn)(void);

/* Returns -1 to go on (with optind at the first operand), or an exit code. */
static int parse_profile_opts(int argc, char **argv, const char *where, bool allow_quiet,
                              usage_fn usage, struct profile_opts *ret)
{
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        static const struct option opts_no_quiet[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        int c;
        optind = 0;
        while ((c = cli_getopt(argc, argv, allow_quiet ? "hq" : "h",
                               allow_quiet ? opts : opts_no_quiet, where)) != -1) {
                switch (c) {
                case 'j':
                        ret->json = true;
                        break;
                case 'q':
                        ret->quiet = true;
                        break;
                case 'h':
                        usage();
                        return CLI_EXIT_OK;
                default:
                        return CLI_EXIT_USAGE;
                }
        }
        return -1;
}

static void list_usage(void)
{
        printf("Usage: sandboxctl profile list [--json]\n"
               "\n"
               "List every profile visible through the lookup path, in lookup order:\n"
               "name, description and path. A profile hidden by one of the same name\n"
               "earlier on the path is marked as shadowed.\n"
               "\n"
               "Options:\n"
               "  --json      Print a JSON array of {name, description, path, shadowed}\n"
               "  -h, --help  Show this help and exit\n"
               "\n"
               "Examples:\n"
               "  sandboxctl profile list\n"
               "  SANDBOXCTL_PROFILE_PATH=./profiles sandboxctl profile list --json\n");
}

static int list_print_json(const struct sbx_profile_entry *e, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++) {
                json_t *o =
                        json_pack("{s:s, s:s?, s:s, s:b}", "name", e[i].name, "description",
                                  e[i].description, "path", e[i].path, "shadowed", e[i].shadowed);
                if (!o || json_array_append_new(a, o) < 0) {
                        json_decref(a);
                        a = NULL;
                }
        }
        return cli_print_json(a);
}

static void list_print_table(const struct sbx_profile_entry *e, size_t n)
{
        int wname = (int)strlen("NAME"), wdesc = (int)strlen("DESCRIPTION");
        for (size_t i = 0; i < n; i++) {
                if ((int)strlen(e[i].name) > wname)
                        wname = (int)strlen(e[i].name);
                if (e[i].description && (int)strlen(e[i].description) > wdesc)
                        wdesc = (int)strlen(e[i].description);
        }
        printf("%-*s  %-*s  %s\n", wname, "NAME", wdesc, "DESCRIPTION", "PATH");
        for (size_t i = 0; i < n; i++)
                printf("%-*s  %-*s  %s%s\n", wname, e[i].name, wdesc,
                       e[i].description ? e[i].description : "-", e[i].path,
                       e[i].shadowed ? " (shadowed)" : "");
}

static int profile_list(int argc, char **argv)
{
        struct profile_opts o = { 0 };
        int r = parse_profile_opts(argc, argv, "profile list", false, list_usage, &o);
        if (r >= 0)
                return r;
        if (optind < argc)
                return cli_usage_error("profile list", "profile list: unexpected argument '%s'",
                                       argv[optind]);
        struct sbx_profile_entry *entries = NULL;
        size_t n = 0;
        sbx_autoerror err = NULL;
        if (sbx_profile_list(&entries, &n, &err) < 0) {
                sbx_error_prefix(&err, -EIO, "list profiles");
                log_error_lines(err);
                return CLI_EXIT_FAILURE;
        }
        r = CLI_EXIT_OK;
        if (o.json)
                r = list_print_json(entries, n);
        else
                list_print_table(entries, n);
        sbx_profile_entries_free(entries, n);
        return r;
}

static void show_usage(void)
{
        printf("Usage: sandboxctl profile show NAME|PATH [--json]\n"
               "\n"
               "Print a profile fully resolved: its 'extends' chain merged and every\n"
               "default filled in, as YAML (or JSON with --json). The output is itself\n"
               "a valid profile.\n"
               "\n"
               "Options:\n"
               "  --json      Print JSON instead of YAML\n"
               "  -h, --help  Show this help and exit\n"
               "\n"
               "Examples:\n"
               "  sandboxctl profile show medium\n"
               "  sandboxctl profile show ./profiles/ci.yaml --json\n");
}

static int profile_show(int argc, char **argv)
{
        struct profile_opts o = { 0 };
        int r = parse_profile_opts(argc, argv, "profile show", false, show_usage, &o);
        if (r >= 0)
                return r;
        if (optind >= argc)
                return cli_usage_error("profile show", "profile show: missing NAME or PATH");
        if (optind + 1 < argc)
                return cli_usage_error("profile show", "profile show: unexpected argument '%s'",
                                       argv[optind + 1]);
        cli_autospec spec = NULL;
        sbx_autoerror err = NULL;
        sbx_autofree char *text = NULL;
        if (sbx_profile_load(argv[optind], &spec, &err) < 0 ||
            (o.json ? sbx_spec_to_json(spec, true, &text, &err) :
                      sbx_spec_to_yaml(spec, &text, &err)) < 0) {
                log_error_lines(err);
                return CLI_EXIT_FAILURE;
        }
        size_t len = strlen(text);
        fputs(text, stdout);
        if (len == 0 || text[len - 1] != '\n')
                fputc('\n', stdout);
        return CLI_EXIT_OK;
}

static void validate_usage(void)
{
        printf("Usage: sandboxctl profile validate [-q] [--json] FILE...\n"
               "\n"
               "Parse, resolve and check each profile FILE. Every error of every file\n"
               "is printed on stderr, one per line, as FILE:LINE:COLUMN: KEY: PROBLEM.\n"
               "Valid files are reported as 'FILE: ok' on stdout.\n"
               "Exit status 0 if all files are valid, 1 otherwise.\n"
               "\n"
               "Options:\n"
               "  -q, --quiet  Do not print 'FILE: ok' lines\n"
               "  --json       Print a JSON array of {file, valid, errors} on stdout\n"
               "  -h, --help   Show this help and exit\n"
               "\n"
               "Examples:\n"
               "  sandboxctl profile validate profiles/*.yaml\n"
               "  sandboxctl profile validate -q my-profile.yaml && echo valid\n");
}

/* Errors of one file as a JSON array of lines. */
static json_t *error_lines_json(const sbx_error *e)
{
        json_t *a = json_array();
        const char *msg = e && e->message ? e->message : "unknown error";
        while (a && *msg) {
                size_t n = strcspn(msg, "\n");
                if (json_array_append_new(a, json_stringn(msg, n)) < 0) {
                        json_decref(a);
                        return NULL;
                }
                msg += n;
                if (*msg == '\n')
                        msg++;
        }
        return a;
}

/* A FILE argument is a file even without a '/' or a .yaml suffix. */
static char *validate_path(const char *arg)
{
        char *p = NULL;
        if (!strchr(arg, '/') && access(arg, F_OK) == 0) {
                if (asprintf(&p, "./%s", arg) < 0)
                        return NULL;
                return p;
        }
        return strdup(arg);
}

static bool validate_one(const char *file, const struct profile_opts *o, json_t *results)
{
        cli_autospec spec = NULL;
        sbx_autoerror err = NULL;
        sbx_autofree char *path = validate_path(file);
        if (!path)
                sbx_error_errno(&err, ENOMEM, "%s", file);
        else
                sbx_profile_load(path, &spec, &err);
        bool ok = spec != NULL;
        if (!ok)
                log_error_lines(err);
        else if (!o->quiet && !o->json)
                printf("%s: ok\n", file);
        if (results) {
                json_t *r = json_pack("{s:s, s:b, s:o}", "file", file, "valid", ok, "errors",
                                      ok ? json_array() : error_lines_json(err));
                if (r)
                        json_array_append_new(results, r);
        }
        return ok;
}

static int profile_validate(int argc, char **argv)
{
        struct profile_opts o = { 0 };
        int r = parse_profile_opts(argc, argv, "profile validate", true, validate_usage, &o);
        if (r >= 0)
                return r;
        if (optind >= argc)
                return cli_usage_error("profile validate", "profile validate: missing FILE");
        json_t *results = o.json ? json_array() : NULL;
        bool all_ok = true;
        for (int i = optind; i < argc; i++)
                if (!validate_one(argv[i], &o, results))
                        all_ok = false;
        if (o.json && cli_print_json(results) != CLI_EXIT_OK)
                return CLI_EXIT_FAILURE;
        return all_ok ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
