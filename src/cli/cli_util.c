/* cli_util: what every command shares: usage errors, getopt with our own
 * messages, did-you-mean suggestions, subcommand dispatch, JSON output. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "sandboxctl/util.h"

static void print_usage_hint(const char *where)
{
        if (cli_log_format() != SBX_LOG_FORMAT_TEXT)
                return;
        if (where && *where)
                fprintf(stderr, "Run 'sandboxctl %s --help' for usage.\n", where);
        else
                fprintf(stderr, "Run 'sandboxctl --help' for usage.\n");
}

int cli_usage_error(const char *where, const char *fmt, ...)
{
        char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        sbx_log_error("%s", msg ? msg : "usage error");
        free(msg);
        print_usage_hint(where);
        return CLI_EXIT_USAGE;
}

/* Optimal string alignment distance (Levenshtein plus transpositions), so
 * that "proflie" is one edit away from "profile". */
static size_t edit_distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        if (la > 64 || lb > 64)
                return (size_t)-1;
        size_t d[65][65];
        for (size_t i = 0; i <= la; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= la; i++) {
                for (size_t j = 1; j <= lb; j++) {
                        size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
                        size_t best = d[i - 1][j] + 1;
                        if (d[i][j - 1] + 1 < best)
                                best = d[i][j - 1] + 1;
                        if (d[i - 1][j - 1] + cost < best)
                                best = d[i - 1][j - 1] + cost;
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                            d[i - 2][j - 2] + 1 < best)
                                best = d[i - 2][j - 2] + 1;
                        d[i][j] = best;
                }
        }
        return d[la][lb];
}

const char *cli_suggest(const char *word, const char *const *candidates, size_t n)
{
        const char *best = NULL;
        size_t best_d = (size_t)-1;
        size_t len = strlen(word);
        for (size_t i = 0; i < n; i++) {
                size_t dist = edit_distance(word, candidates[i]);
                if (dist < best_d) {
                        best_d = dist;
                        best = candidates[i];
                }
        }
        /* a typo, not a different word: at most 2 edits, and fewer than the
         * word has letters */
        if (!best || best_d > 2 || best_d >= len)
                return NULL;
        return best;
}

static const char *suggest_long_option(const char *arg, const struct option *longopts)
{
        const char *names[64];
        size_t n = 0;
        for (const struct option *o = longopts; o && o->name && n < SBX_ARRAY_SIZE(names); o++)
                names[n++] = o->name;
        sbx_autofree char *word = strdup(arg);
        if (!word)
                return NULL;
        word[strcspn(word, "=")] = '\0';
        return cli_suggest(word, names, n);
}

static int report_unknown_option(char **argv, const struct option *longopts, const char *where)
{
        const char *arg = argv[optind - 1];
        if (optopt != 0 && strncmp(arg, "--", 2) == 0)
                return cli_usage_error(where, "option '%.*s' does not take an argument",
                                       (int)strcspn(arg, "="), arg);
        if (optopt != 0)
                return cli_usage_error(where, "unknown option '-%c'", optopt);
        const char *hint = suggest_long_option(arg + 2, longopts);
        if (hint)
                return cli_usage_error(where, "unknown option '%.*s' (did you mean '--%s'?)",
                                       (int)strcspn(arg, "="), arg, hint);
        return cli_usage_error(where, "unknown option '%.*s'", (int)strcspn(arg, "="), arg);
}

int cli_getopt(int argc, char **argv, const char *optstring, const struct option *longopts,
               const char *where)
{
        char opts[128];
        bool in_order = optstring[0] == '+';
        snprintf(opts, sizeof(opts), "%s:%s", in_order ? "+" : "", optstring + in_order);
        int c = getopt_long(argc, argv, opts, longopts, NULL);
        if (c == '?') {
                report_unknown_option(argv, longopts, where);
                return '?';
        }
        if (c == ':') {
                const char *arg = argv[optind - 1];
                if (strncmp(arg, "--", 2) == 0)
                        cli_usage_error(where, "option '%s' requires an argument", arg);
                else
                        cli_usage_error(where, "option '-%c' requires an argument", optopt);
                return '?';
        }
        return c;
}

static const struct cli_command *find_command(const struct cli_command *table, const char *name)
{
        for (const struct cli_command *c = table; c->name; c++)
                if (strcmp(c->name, name) == 0)
                        return c;
        return NULL;
}

static int unknown_command(const char *group, const struct cli_command *table, const char *name)
{
        const char *names[64];
        size_t n = 0;
        for (const struct cli_command *c = table; c->name && n < SBX_ARRAY_SIZE(names); c++)
                names[n++] = c->name;
        const char *hint = cli_suggest(name, names, n);
        const char *what = group ? group : "";
        const char *sep = group ? " " : "";
        if (hint)
                return cli_usage_error(group, "unknown %s%scommand '%s' (did you mean '%s'?)", what,
                                       sep, name, hint);
        return cli_usage_error(group, "unknown %s%scommand '%s'", what, sep, name);
}

int cli_run_command(const char *group, const struct cli_command *table, int argc, char **argv)
{
        if (argc < 1) {
                if (group)
                        return cli_usage_error(group, "missing %s command", group);
                return cli_usage_error(NULL, "missing command");
        }
        const struct cli_command *cmd = find_command(table, argv[0]);
        if (!cmd)
                return unknown_command(group, table, argv[0]);
        return cmd->run(argc, argv);
}

int cli_dispatch(const char *group, const struct cli_command *table, int argc, char **argv,
                 void (*usage)(void))
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        int c;
        optind = 0;
        while ((c = cli_getopt(argc, argv, "+h", opts, group)) != -1) {
                switch (c) {
                case 'h':
                        usage();
                        return CLI_EXIT_OK;
                default:
                        return CLI_EXIT_USAGE;
                }
        }
        return cli_run_command(group, table, argc - optind, argv + optind);
}

void cli_print_commands(const struct cli_command *table)
{
        int width = 0;
        for (const struct cli_command *c = table; c->name; c++)
                if ((int)strlen(c->name) > width)
                        width = (int)strlen(c->name);
        for (const struct cli_command *c = table; c->name; c++)
                printf("  %-*s  %s\n", width, c->name, c->summary);
}

int cli_print_json(void *json)
{
        json_t *v = json;
        if (!v) {
                sbx_log_error("build JSON output: %s", strerror(ENOMEM));
                return CLI_EXIT_FAILURE;
        }
        int r = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        json_decref(v);
        if (r < 0 || fputc('\n', stdout) == EOF) {
                sbx_log_error("write JSON output: %s", strerror(EIO));
                return CLI_EXIT_FAILURE;
        }
        return CLI_EXIT_OK;
}
