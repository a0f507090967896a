/* cgroup_kill: kill every process of a sandbox cgroup, bounded.
 *
 * v2 >= 5.14: cgroup.kill does it atomically. Elsewhere a process could
 * fork between our reading cgroup.procs and our kill(), so we freeze the
 * cgroup first (v1 freezer.state / v2 cgroup.freeze), SIGKILL every pid,
 * thaw so that the signals are delivered, and repeat until it is empty:
 * at most KILL_ROUNDS rounds and KILL_BUDGET_MS in all. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sandboxctl/util.h"
#include "src/lib/cgroup_internal.h"

#define KILL_ROUNDS 100
#define KILL_BUDGET_MS 2000

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void pause_ms(long ms)
{
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
        nanosleep(&ts, NULL);
}

/* Where the freezer is: the v1 freezer hierarchy or the v2 directory. */
static const char *freezer_dir(const struct sbx_cgroup *cg)
{
        return cg->place.v2 ? cg->place.v2_dir : cg->place.dir[SBX_CG_FREEZER];
}

static int set_frozen(const struct sbx_cgroup *cg, bool frozen, sbx_error **err)
{
        const char *dir = freezer_dir(cg);
        if (!dir)
                return 0;
        if (cg->place.v2)
                return sbx_cg_write_file(dir, "cgroup.freeze", frozen ? "1" : "0", err);
        return sbx_cg_write_file(dir, "freezer.state", frozen ? "FROZEN" : "THAWED", err);
}

/* Wait (briefly) until the freeze has taken hold, so no task forks after we
 * read cgroup.procs. A task stuck in the kernel may delay it: then we go on
 * and the next round catches what escaped. */
static void wait_frozen(const struct sbx_cgroup *cg)
{
        const char *dir = freezer_dir(cg);
        for (int i = 0; dir && i < 50; i++) {
                uint64_t v = 0;
                sbx_autofree char *state = NULL;
                if (cg->place.v2) {
                        if (sbx_cg_read_keyed(dir, "cgroup.events", "frozen", &v, NULL) < 0 ||
                            v == 1)
                                return;
                } else if (sbx_cg_read_file(dir, "freezer.state", &state, NULL) < 0 ||
                           strncmp(state, "FROZEN", 6) == 0) {
                        return;
                }
                pause_ms(1);
        }
}

/* All pids in the cgroup, over every hierarchy (they should agree; a pid
 * listed twice is harmless). */
static int collect_pids(const struct sbx_cgroup *cg, pid_t **ret, size_t *ret_n, sbx_error **err)
{
        pid_t *all = NULL;
        size_t n = 0;
        for (size_t i = 0; cg->dirs[i]; i++) {
                sbx_autofree pid_t *pids = NULL;
                size_t k = 0;
                int r = sbx_cg_read_pids(cg->dirs[i], &pids, &k, err);
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        free(all);
                        return r;
                }
                pid_t *bigger = k ? realloc(all, (n + k) * sizeof(pid_t)) : all;
                if (k && !bigger) {
                        free(all);
                        return sbx_error_errno(err, ENOMEM, "list pids of %s", cg->dirs[i]);
                }
                all = bigger;
                if (k)
                        memcpy(all + n, pids, k * sizeof(pid_t));
                n += k;
        }
        *ret = all;
        *ret_n = n;
        return 0;
}

static int kill_all(const struct sbx_cgroup *cg, const pid_t *pids, size_t n, sbx_error **err)
{
        for (size_t i = 0; i < n; i++) {
                /* Never, even if someone moved it here by mistake. */
                if (pids[i] == 1 || pids[i] == getpid())
                        return sbx_error_set(err, EPERM,
                                             "refusing to kill pid %d found in cgroup %s",
                                             (int)pids[i], cg->place.display);
                if (kill(pids[i], SIGKILL) < 0 && errno != ESRCH)
                        return sbx_error_errno(err, errno, "kill pid %d", (int)pids[i]);
        }
        return 0;
}

static int kill_round(const struct sbx_cgroup *cg, size_t *ret_left, sbx_error **err)
{
        int r = set_frozen(cg, true, err);
        if (r < 0)
                return r;
        wait_frozen(cg);
        sbx_autofree pid_t *pids = NULL;
        size_t n = 0;
        r = collect_pids(cg, &pids, &n, err);
        if (r >= 0)
                r = kill_all(cg, pids, n, err);
        int t = set_frozen(cg, false, r < 0 ? NULL : err);
        if (r >= 0 && t < 0)
                r = t;
        if (r >= 0)
                *ret_left = n;
        return r;
}

static int is_empty(const struct sbx_cgroup *cg, bool *ret, pid_t *ret_first, sbx_error **err)
{
        sbx_autofree pid_t *pids = NULL;
        size_t n = 0;
        int r = collect_pids(cg, &pids, &n, err);
        if (r < 0)
                return r;
        *ret = n == 0;
        *ret_first = n ? pids[0] : 0;
        return 0;
}

static bool has_cgroup_kill(const struct sbx_cgroup *cg)
{
        return cg->place.v2 && sbx_cg_file_exists(cg->place.v2_dir, "cgroup.kill");
}

int sbx_cgroup_kill(struct sbx_cgroup *cg, sbx_error **err)
{
        uint64_t deadline = now_ms() + KILL_BUDGET_MS;
        bool atomic = has_cgroup_kill(cg);
        pid_t first = 0;
        for (int round = 0; round < KILL_ROUNDS; round++) {
                bool empty = false;
                int r = is_empty(cg, &empty, &first, err);
                if (r >= 0 && empty)
                        return 0;
                if (r >= 0 && now_ms() > deadline)
                        break;
                size_t left = 0;
                if (r >= 0)
                        r = atomic ? sbx_cg_write_file(cg->place.v2_dir, "cgroup.kill", "1", err) :
                                     kill_round(cg, &left, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "kill cgroup %s", cg->place.display);
                pause_ms(round < 10 ? 1 : 10);
        }
        return sbx_error_set(err, EBUSY,
                             "kill cgroup %s: still populated after %d ms (pid %d and maybe "
                             "others)",
                             cg->place.display, KILL_BUDGET_MS, (int)first);
}
