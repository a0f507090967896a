/* run_cgroup: the sandbox's cgroup as `run` uses it: made with the spec's
 * limits before init exists, sampled once init is reaped, destroyed (kill
 * everything left, remove every directory) on every exit path, and copied
 * into the run result for the report. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run-internal.h"
#include "sandboxctl/util.h"

int sbx_run_cgroup_create(const struct sbx_run_config *cfg, const char *id,
                          struct sbx_cgroup **ret, sbx_error **err)
{
        struct sbx_cgroup *cg = NULL;
        int r = sbx_cgroup_create(cfg->cgroup_parent, id, cfg->spec, &cg, err);

        if (r < 0)
                return r;
        for (const char *const *w = sbx_cgroup_warnings(cg); cfg->warn && *w; w++)
                cfg->warn(cfg->warn_data, *w);
        *ret = cg;
        return 0;
}

static char **strv_copy(const char *const *v)
{
        size_t n = 0;

        while (v[n])
                n++;
        char **copy = calloc(n + 1, sizeof(char *));
        for (size_t i = 0; copy && i < n; i++) {
                copy[i] = strdup(v[i]);
                if (!copy[i]) {
                        while (i > 0)
                                free(copy[--i]);
                        free(copy);
                        return NULL;
                }
        }
        return copy;
}

/* Keep the first clean-up failure, add later ones after it. */
void sbx_run_add_cleanup_error(struct sbx_run_result *res, const char *what)
{
        char *joined = NULL;

        if (!res->cleanup_error) {
                res->cleanup_error = strdup(what);
                return;
        }
        if (asprintf(&joined, "%s; %s", res->cleanup_error, what) < 0)
                return;
        free(res->cleanup_error);
        res->cleanup_error = joined;
}

void sbx_run_cgroup_sample(struct sbx_cgroup *cg, struct sbx_run_result *res)
{
        sbx_autoerror e = NULL;
        struct sbx_cgroup_usage u;

        if (sbx_cgroup_sample(cg, &u, &e) < 0) {
                sbx_run_add_cleanup_error(res, e && e->message ? e->message : "sample cgroup");
                return;
        }
        res->cgroup_usage = u;
}

void sbx_run_cgroup_finish(struct sbx_cgroup *cg, struct sbx_run_result *res)
{
        sbx_autoerror e = NULL;

        if (!cg)
                return;
        free(res->cgroup_path);
        res->cgroup_path = strdup(sbx_cgroup_path(cg));
        res->cgroup_version = sbx_cgroup_version(cg);
        res->cgroup_limits = *sbx_cgroup_limits(cg);
        const char *const *w = sbx_cgroup_warnings(cg);
        if (*w && !res->cgroup_warnings)
                res->cgroup_warnings = strv_copy(w);
        if (sbx_cgroup_destroy(cg, &e) < 0)
                sbx_run_add_cleanup_error(res, e && e->message ? e->message : "destroy cgroup");
        sbx_cgroup_free(cg);
}

int sbx_run_cgroup_place_prepare(struct sbx_cgroup *cg, int *ret_clone_fd,
                                 const struct sbx_cgroup **ret_self_attach, sbx_error **err)
{
        *ret_clone_fd = -1;
        *ret_self_attach = NULL;
        if (!cg)
                return 0;
        *ret_clone_fd = sbx_cgroup_clone_fd(cg);
        if (*ret_clone_fd >= 0)
                return 0;
        /* v1: the child moves itself in (no wait for the kernel's
         * threadgroup lock, see sbx_cgroup_self_attach_open()). */
        int r = sbx_cgroup_self_attach_open(cg, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "cgroup");
        if (r > 0)
                *ret_self_attach = cg;
        return 0;
}

int sbx_run_cgroup_place_finish(struct sbx_cgroup *cg, bool self_attached, pid_t pid,
                                bool placed, sbx_error **err)
{
        if (!cg)
                return 0;
        sbx_cgroup_self_attach_close(cg);
        if (pid <= 0 || placed || self_attached)
                return 0;
        return sbx_cgroup_attach(cg, pid, err);
}
