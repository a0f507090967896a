/* cli_version: `sandboxctl version`: our version, the versions of the
 * libraries we use (at run time where the library tells, else the version
 * we were built against) and the kernel release. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include <jansson.h>
#include <netlink/version.h>
#include <seccomp.h>
#include <sys/capability.h>
#include <yaml.h>

#include "cli-versions.h"
#include "cli.h"
#include "config.h"

struct component {
        const char *name;
        char version[64];
};

enum { N_COMPONENTS = 6 };

static void collect_versions(struct component c[N_COMPONENTS])
{
        const struct scmp_version *sv = seccomp_version();
        c[0] = (struct component){ .name = "libseccomp" };
        if (sv)
                snprintf(c[0].version, sizeof(c[0].version), "%u.%u.%u", sv->major, sv->minor,
                         sv->micro);
        else
                snprintf(c[0].version, sizeof(c[0].version), "unknown");
        c[1] = (struct component){ .name = "libyaml" };
        snprintf(c[1].version, sizeof(c[1].version), "%s", yaml_get_version_string());
        c[2] = (struct component){ .name = "jansson" };
        snprintf(c[2].version, sizeof(c[2].version), "%s", jansson_version_str());
        c[3] = (struct component){ .name = "libnl" };
        snprintf(c[3].version, sizeof(c[3].version), "%d.%d.%d", nl_ver_maj, nl_ver_min,
                 nl_ver_mic);
        c[4] = (struct component){ .name = "libcap" };
        snprintf(c[4].version, sizeof(c[4].version), "%d.%d", LIBCAP_MAJOR, LIBCAP_MINOR);
        c[5] = (struct component){ .name = "libcgroup" };
        snprintf(c[5].version, sizeof(c[5].version), "%s", SBX_LIBCGROUP_VERSION);
}

static void version_usage(void)
{
        printf("Usage: sandboxctl version [--json]\n"
               "\n"
               "Show the version of sandboxctl, of the libraries it uses (libseccomp,\n"
               "libyaml, jansson, libnl, libcap, libcgroup) and the kernel release.\n"
               "\n"
               "Options:\n"
               "  --json      Print a JSON object {version, kernel, libraries}\n"
               "  -h, --help  Show this help and exit\n"
               "\n"
               "Examples:\n"
               "  sandboxctl version\n"
               "  sandboxctl version --json\n");
}

static int print_json(const char *kernel, const struct component c[N_COMPONENTS])
{
        json_t *libs = json_object();
        for (size_t i = 0; libs && i < N_COMPONENTS; i++) {
                if (json_object_set_new(libs, c[i].name, json_string(c[i].version)) < 0) {
                        json_decref(libs);
                        libs = NULL;
                }
        }
        if (!libs)
                return cli_print_json(NULL);
        return cli_print_json(json_pack("{s:s, s:s, s:o}", "version", SBX_VERSION, "kernel", kernel,
                                        "libraries", libs));
}

static void print_text(const char *kernel, const struct component c[N_COMPONENTS])
{
        printf("sandboxctl %s\n", SBX_VERSION);
        printf("  %-10s  %s\n", "kernel", kernel);
        for (size_t i = 0; i < N_COMPONENTS; i++)
                printf("  %-10s  %s\n", c[i].name, c[i].version);
}

int cli_version(int argc, char **argv)
{
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        bool json = false;
        int c;
        optind = 0;
        while ((c = cli_getopt(argc, argv, "h", opts, "version")) != -1) {
                switch (c) {
                case 'j':
                        json = true;
                        break;
                case 'h':
                        version_usage();
                        return CLI_EXIT_OK;
                default:
                        return CLI_EXIT_USAGE;
                }
        }
        if (optind < argc)
                return cli_usage_error("version", "version: unexpected argument '%s'",
                                       argv[optind]);
        struct utsname u;
        const char *kernel = uname(&u) == 0 ? u.release : "unknown";
        struct component comps[N_COMPONENTS];
        collect_versions(comps);
        if (json)
                return print_json(kernel, comps);
        print_text(kernel, comps);
        return CLI_EXIT_OK;
}
