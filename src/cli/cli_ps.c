/* cli_ps: the processes of a sandbox, from its cgroup and /proc. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_sandbox.h"
#include "sandboxctl/cgroup.h"
#include "sandboxctl/util.h"

struct proc_info {
        int pid, inner_pid, ppid, host_ppid;
        int ns_levels;
        char state;
        uint64_t rss_bytes, cpu_ms;
        char command[256];
};

static int read_file(const char *path, char *buf, size_t len)
{
        sbx_autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        ssize_t n = read(fd, buf, len - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return (int)n;
}

static int read_stat(struct proc_info *p)
{
        char path[64], buf[1024];
        unsigned long long ut, st;
        long long rss;

        snprintf(path, sizeof(path), "/proc/%d/stat", p->pid);
        if (read_file(path, buf, sizeof(buf)) < 0)
                return -ESRCH;
        char *e = strrchr(buf, ')');
        if (!e || sscanf(e + 2, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d "
                                "%*d %*d %*d %*u %*u %lld", &p->state, &p->ppid, &ut, &st,
                         &rss) != 5)
                return -EINVAL;
        long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
        p->cpu_ms = (ut + st) * 1000u / (unsigned long long)(hz > 0 ? hz : 100);
        p->rss_bytes = rss > 0 ? (uint64_t)rss * (uint64_t)page : 0;
        return 0;
}

/* The NSpid line of pid (its pid in each pid namespace, outermost first):
 * up to `max` of them in pids; the number of levels, 0 if unreadable. */
static int read_nspids(int pid, int *pids, int max)
{
        char path[64], buf[4096];
        int n = 0;

        snprintf(path, sizeof(path), "/proc/%d/status", pid);
        if (read_file(path, buf, sizeof(buf)) < 0)
                return 0;
        char *line = strstr(buf, "\nNSpid:");
        if (!line)
                return 0;
        line += strlen("\nNSpid:");
        for (char *end; n < max; line = end) {
                long v = strtol(line, &end, 10);
                if (end == line)
                        break;
                pids[n++] = (int)v;
        }
        return n;
}

/* The pid and the parent's pid in the innermost pid namespace (as the
 * sandbox sees them): a parent outside that namespace, like the supervisor
 * for init, is 0 there, as getppid() says inside. */
static void read_inner_pids(struct proc_info *p)
{
        int pids[32], ppids[32];

        p->inner_pid = p->pid;
        p->ns_levels = read_nspids(p->pid, pids, 32);
        if (p->ns_levels > 0)
                p->inner_pid = pids[p->ns_levels - 1];
        p->host_ppid = p->ppid;
        int levels = p->ppid > 0 ? read_nspids(p->ppid, ppids, 32) : 0;
        p->ppid = p->ns_levels > 0 && levels >= p->ns_levels ? ppids[p->ns_levels - 1] : 0;
}

static void read_command(struct proc_info *p)
{
        char path[64];
        int n;

        snprintf(path, sizeof(path), "/proc/%d/cmdline", p->pid);
        n = read_file(path, p->command, sizeof(p->command));
        for (int i = 0; i < n - 1; i++)
                if (p->command[i] == '\0')
                        p->command[i] = ' ';
        if (n <= 0) {
                snprintf(path, sizeof(path), "/proc/%d/comm", p->pid);
                if (read_file(path, p->command, sizeof(p->command)) > 0)
                        p->command[strcspn(p->command, "\n")] = '\0';
        }
}

static json_t *proc_json(const struct proc_info *p)
{
        return json_pack("{s:i, s:i, s:i, s:i, s:s#, s:I, s:I, s:s}", "pid", p->inner_pid,
                         "host_pid", p->pid, "ppid", p->ppid, "host_ppid", p->host_ppid, "state", &p->state, (size_t)1, "rss_bytes",
                         (json_int_t)p->rss_bytes, "cpu_ms", (json_int_t)p->cpu_ms, "command",
                         p->command);
}

static FILE *open_procs(const struct sbx_sandbox *sb)
{
        __attribute__((cleanup(sbx_cgroup_freep))) struct sbx_cgroup *cg = NULL;
        char path[4200];

        if (!sb->cgroup || sbx_cgroup_open(sb->cgroup_parent, sb->id, &cg, NULL) < 0)
                return NULL;
        const char *const *dirs = sbx_cgroup_dirs(cg);
        if (!dirs || !dirs[0])
                return NULL;
        snprintf(path, sizeof(path), "%s/cgroup.procs", dirs[0]);
        return fopen(path, "re");
}

static void ps_usage(void)
{
        printf("Usage: sandboxctl ps [--json] [--state-dir DIR] ID\n"
               "\n"
               "The processes of a running sandbox: pid inside the sandbox and on the host,\n"
               "parent pid, state, resident memory, CPU time and command line.\n"
               "\n"
               "Options:\n"
               "      --json           as a JSON array\n"
               "      --state-dir DIR  state directory\n"
               "  -h, --help           show this help\n");
}

static const struct option ps_longopts[] = {
        { "state-dir", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
};

static int list_processes(const struct sbx_sandbox *sb, bool json)
{
        FILE *f = open_procs(sb);
        struct proc_info p;

        if (!f || sb->status != SBX_STATUS_RUNNING) {
                if (f)
                        fclose(f);
                sbx_log_error("ps: sandbox %s is not running", sb->id);
                return CLI_EXIT_NOT_RUNNING;
        }
        json_t *arr = json ? json_array() : NULL;
        if (!json)
                printf("%7s  %8s  %7s  %s  %9s  %8s  %s\n", "PID", "HOST_PID", "PPID", "S", "RSS",
                       "CPU_MS", "COMMAND");
        while (memset(&p, 0, sizeof(p)), fscanf(f, "%d", &p.pid) == 1) {
                if (read_stat(&p) < 0)
                        continue;
                read_inner_pids(&p);
                read_command(&p);
                if (arr)
                        json_array_append_new(arr, proc_json(&p));
                else
                        printf("%7d  %8d  %7d  %c  %9llu  %8llu  %s\n", p.inner_pid, p.pid, p.ppid,
                               p.state, (unsigned long long)p.rss_bytes,
                               (unsigned long long)p.cpu_ms, p.command);
        }
        fclose(f);
        return arr ? cli_print_json(arr) : CLI_EXIT_OK;
}

int cli_ps(int argc, char **argv)
{
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;
        const char *state_dir = NULL;
        bool json = false;
        int c, r;

        optind = 0;
        while ((c = cli_getopt(argc, argv, "h", ps_longopts, "ps")) != -1) {
                switch (c) {
                case 's': state_dir = optarg; break;
                case 'j': json = true; break;
                case 'h': ps_usage(); return CLI_EXIT_OK;
                default: return CLI_EXIT_USAGE;
                }
        }
        if (optind >= argc)
                return cli_usage_error("ps", "ps: missing sandbox id or name");
        if (optind + 1 < argc)
                return cli_usage_error("ps", "ps: unexpected argument '%s'", argv[optind + 1]);
        r = cli_lookup(cli_state_dir(state_dir), argv[optind], &sb);
        return r != CLI_EXIT_OK ? r : list_processes(sb, json);
}
