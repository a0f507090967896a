/* lifecycle_helpers: see lifecycle_helpers.h. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lifecycle_helpers.h"
#include "run_helpers.h"
#include "sandboxctl/runtime.h"

static char state_dir[256];
static char cg_parent[64];

const char *lc_state_dir(void)
{
        return state_dir;
}

void lc_setup(void)
{
        snprintf(state_dir, sizeof(state_dir), "/tmp/sbx-lc-XXXXXX");
        cr_assert_not_null(mkdtemp(state_dir));
        chmod(state_dir, 0711);
        setenv("SANDBOXCTL_STATE_DIR", state_dir, 1);
        snprintf(cg_parent, sizeof(cg_parent), "sandboxctl-lc-%d", (int)getpid());
        setenv("SANDBOXCTL_CGROUP_PARENT", cg_parent, 1);
}

int lc_sandbox_dirs(void)
{
        DIR *d = opendir(state_dir);
        struct dirent *de;
        int n = 0;

        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (sbx_sandbox_id_valid(de->d_name))
                        n++;
        closedir(d);
        return n;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

void lc_teardown(void)
{
        DIR *d = opendir(state_dir);
        struct dirent *de;
        int left = 0;

        while (d && (de = readdir(d))) {
                if (!sbx_sandbox_id_valid(de->d_name))
                        continue;
                left++;
                struct run_result r;
                sbx_test_run_sbx(30, &r, "destroy", "--time", "0", de->d_name, NULL);
                sbx_test_result_free(&r);
        }
        if (d)
                closedir(d);
        /* A destroy answers before its supervisor has exited, and a
         * supervisor's children (a build, a restart) may still make or
         * remove cgroups: check only once none of them is left (each has
         * the state dir on its command line). */
        bool quiet = rt_wait_no_process_with_arg(state_dir, 30 * sbx_test_time_scale());
        bool cg_empty = sbx_test_cgroup_parent_remove(cg_parent);
        nftw(state_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        /* Printed only (Criterion does not count a .fini's assertions):
         * the destroys above removed them. What would outlive the test
         * fails the binary. */
        cr_expect_eq(left, 0, "%d sandboxes were left in %s", left, state_dir);
        sbx_test_fini_expect(quiet, "a supervisor of %s is still running after the destroys",
                             state_dir);
        sbx_test_fini_expect(cg_empty, "cgroups were left under %s", cg_parent);
}

int lc_sbx(struct run_result *r, ...)
{
        char *argv[64];
        va_list ap;
        int n = 0;

        argv[n++] = (char *)sbx_test_binary();
        va_start(ap, r);
        for (char *a; n < 63 && (a = va_arg(ap, char *));)
                argv[n++] = a;
        va_end(ap);
        argv[n] = NULL;
        cr_assert_eq(sbx_test_run(argv, NULL, 60, r), 0);
        cr_assert_not(r->timed_out, "%s %s timed out", argv[1], argv[2] ? argv[2] : "");
        return r->exit_code;
}

char *lc_create(const char *script, ...)
{
        char *argv[64];
        struct run_result r;
        va_list ap;
        int n = 0;

        argv[n++] = (char *)sbx_test_binary();
        argv[n++] = (char *)"create";
        va_start(ap, script);
        for (char *a; n < 58 && (a = va_arg(ap, char *));)
                argv[n++] = a;
        va_end(ap);
        argv[n++] = (char *)"--";
        argv[n++] = (char *)"/bin/sh";
        argv[n++] = (char *)"-c";
        argv[n++] = (char *)script;
        argv[n] = NULL;
        cr_assert_eq(sbx_test_run(argv, NULL, 60, &r), 0);
        cr_assert_eq(r.exit_code, 0, "create failed (%d): %s", r.exit_code, r.err);
        char *id = strndup(r.out, SBX_ID_LEN);
        cr_assert(sbx_sandbox_id_valid(id), "create printed '%s'", r.out);
        sbx_test_result_free(&r);
        return id;
}

json_t *lc_info(const char *id)
{
        struct run_result r;
        json_t *o = NULL;

        if (lc_sbx(&r, "info", "--json", id, NULL) == 0)
                o = json_loads(r.out, 0, NULL);
        sbx_test_result_free(&r);
        return o;
}

char *lc_status(const char *id)
{
        json_t *o = lc_info(id);
        const char *s = o ? json_string_value(json_object_get(o, "status")) : NULL;
        char *copy = strdup(s ? s : "");

        json_decref(o);
        return copy;
}

bool lc_wait_status(const char *id, const char *status, double timeout_s)
{
        struct timespec t0, now;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                char *s = lc_status(id);
                bool ok = strcmp(s, status) == 0;
                free(s);
                if (ok)
                        return true;
                clock_gettime(CLOCK_MONOTONIC, &now);
                if ((double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9 >
                    timeout_s)
                        return false;
                poll(NULL, 0, 50);
        }
}

int lc_count_events(const char *id, const char *type)
{
        char path[300], line[4096];
        int n = 0;

        snprintf(path, sizeof(path), "%s/events.jsonl", state_dir);
        FILE *f = fopen(path, "r");
        if (!f)
                return 0;
        while (fgets(line, sizeof(line), f)) {
                json_t *o = json_loads(line, 0, NULL);
                const char *i = json_string_value(json_object_get(o, "id"));
                const char *t = json_string_value(json_object_get(o, "type"));
                if (i && t && strcmp(i, id) == 0 && strcmp(t, type) == 0)
                        n++;
                json_decref(o);
        }
        fclose(f);
        return n;
}

bool lc_pid_alive(int pid)
{
        char path[64], buf[512];

        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        FILE *f = fopen(path, "r");
        if (!f)
                return false;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *p = strrchr(buf, ')');
        return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}
