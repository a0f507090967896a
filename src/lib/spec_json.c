/* spec_json: the resolved spec written back in the profile schema, as a
 * jansson object (keys in schema order, units in canonical form). The JSON
 * and YAML texts are both made from this one object. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sandboxctl/spec.h"
#include "sandboxctl/state.h"
#include "sandboxctl/units.h"
#include "sandboxctl/util.h"

#include "profile_internal.h"


/* Set KEY to VALUE (stolen); a NULL VALUE (failed constructor) marks *ok. */
static void put(json_t *obj, const char *key, json_t *value, bool *ok)
{
        if (!value || json_object_set_new(obj, key, value) < 0)
                *ok = false;
}

static void push(json_t *arr, json_t *value, bool *ok)
{
        if (!value || json_array_append_new(arr, value) < 0)
                *ok = false;
}

static json_t *strv_array(const struct sbx_strv *v, bool *ok)
{
        json_t *a = json_array();
        if (!a)
                return NULL;
        for (size_t i = 0; i < v->n; i++)
                push(a, json_string(v->items[i]), ok);
        return a;
}

static json_t *size_string(uint64_t bytes)
{
        char buf[32];
        sbx_format_size(bytes, buf, sizeof(buf));
        return json_string(buf);
}

static json_t *duration_string(uint64_t ms)
{
        char buf[32];
        sbx_format_duration(ms, buf, sizeof(buf));
        return json_string(buf);
}

static json_t *isolation_object(const struct sbx_isolation *iso, bool *ok)
{
        json_t *o = json_object(), *ns = json_array();
        if (!o || !ns) {
                json_decref(o);
                json_decref(ns);
                return NULL;
        }
        put(o, "level", json_string(sbx_isolation_level_to_string(iso->level)), ok);
        for (unsigned bit = 1; bit < SBX_NS_ALL; bit <<= 1)
                if (iso->namespaces & bit)
                        push(ns, json_string(sbx_namespace_to_string(bit)), ok);
        put(o, "namespaces", ns, ok);
        put(o, "hostname", json_string(iso->hostname ? iso->hostname : ""), ok);
        return o;
}

static json_t *limits_object(const struct sbx_limits *l, bool *ok)
{
        static const char *const effort[] = { "memory", "memory_swap", "pids", "cpu" };
        char cpu[32];
        json_t *o = json_object(), *be = json_array();

        if (!o || !be) {
                json_decref(o);
                json_decref(be);
                return NULL;
        }
        /* 0 is written as the word the schema reads back. */
        sbx_format_cpu(l->cpu, cpu, sizeof(cpu));
        put(o, "memory", l->memory ? size_string(l->memory) : json_string("unlimited"), ok);
        put(o, "memory_swap", size_string(l->memory_swap), ok);
        put(o, "pids", l->pids ? json_integer((json_int_t)l->pids) : json_string("unlimited"), ok);
        put(o, "cpu", json_string(l->cpu ? cpu : "unlimited"), ok);
        put(o, "timeout", l->timeout_ms ? duration_string(l->timeout_ms) : json_string("none"), ok);
        put(o, "file_size", size_string(l->file_size), ok);
        put(o, "open_files", json_integer((json_int_t)l->open_files), ok);
        for (size_t i = 0; i < SBX_ARRAY_SIZE(effort); i++)
                if (l->best_effort & (1u << i))
                        push(be, json_string(effort[i]), ok);
        put(o, "best_effort", be, ok);
        return o;
}

static json_t *mounts_array(const struct sbx_filesystem *fs, bool binds, bool *ok)
{
        json_t *a = json_array();
        if (!a)
                return NULL;
        for (size_t i = 0; i < (binds ? fs->n_binds : fs->n_tmpfs); i++) {
                json_t *m = json_object();
                if (!m) {
                        *ok = false;
                        break;
                }
                if (binds) {
                        put(m, "source", json_string(fs->binds[i].source), ok);
                        put(m, "target", json_string(fs->binds[i].target), ok);
                        put(m, "mode", json_string(fs->binds[i].read_only ? "ro" : "rw"), ok);
                } else {
                        put(m, "path", json_string(fs->tmpfs[i].path), ok);
                        put(m, "size", size_string(fs->tmpfs[i].size), ok);
                }
                push(a, m, ok);
        }
        return a;
}

static json_t *filesystem_object(const struct sbx_filesystem *fs, bool *ok)
{
        json_t *o = json_object(), *ws = json_object();
        if (!o || !ws) {
                json_decref(o);
                json_decref(ws);
                return NULL;
        }
        put(o, "rootfs", json_string(fs->rootfs ? fs->rootfs : "host"), ok);
        put(ws, "path", json_string(fs->workspace_path ? fs->workspace_path : "/workspace"), ok);
        put(ws, "mode", json_string(sbx_workspace_mode_to_string(fs->workspace_mode)), ok);
        put(o, "workspace", ws, ok);
        put(o, "tmpfs", mounts_array(fs, false, ok), ok);
        put(o, "binds", mounts_array(fs, true, ok), ok);
        put(o, "masked", strv_array(&fs->masked, ok), ok);
        return o;
}

static json_t *security_object(const struct sbx_security *sec, bool *ok)
{
        json_t *o = json_object(), *sc = json_object();
        if (!o || !sc) {
                json_decref(o);
                json_decref(sc);
                return NULL;
        }
        put(o, "seccomp", json_string(sec->seccomp == SBX_SECCOMP_FILE && sec->seccomp_file
                                              ? sec->seccomp_file
                                              : sbx_seccomp_mode_to_string(sec->seccomp)),
            ok);
        put(sc, "deny", strv_array(&sec->syscalls_deny, ok), ok);
        put(sc, "allow", strv_array(&sec->syscalls_allow, ok), ok);
        put(o, "syscalls", sc, ok);
        put(o, "capabilities", strv_array(&sec->capabilities, ok), ok);
        put(o, "no_new_privileges", json_boolean(sec->no_new_privileges), ok);
        return o;
}

static json_t *env_object(const struct sbx_strv *env, bool *ok)
{
        json_t *o = json_object();
        if (!o)
                return NULL;
        for (size_t i = 0; i < env->n; i++) {
                const char *eq = strchr(env->items[i], '=');
                sbx_autofree char *key = eq ? strndup(env->items[i], (size_t)(eq - env->items[i]))
                                            : NULL;
                if (!key) {
                        *ok = false;
                        continue;
                }
                put(o, key, json_string(eq + 1), ok);
        }
        return o;
}

static json_t *reload_string(const struct sbx_watch *w)
{
        char buf[64];
        switch (w->reload) {
        case SBX_RELOAD_RESTART:
                return json_string("restart");
        case SBX_RELOAD_NONE:
                return json_string("none");
        case SBX_RELOAD_SIGNAL:
                snprintf(buf, sizeof(buf), "signal:%s",
                         sbx_signal_to_name(w->reload_signal) ? sbx_signal_to_name(w->reload_signal)
                                                              : "?");
                return json_string(buf);
        default:
                return NULL;
        }
}

static json_t *watch_object(const struct sbx_watch *w, bool *ok)
{
        json_t *o = json_object();
        if (!o)
                return NULL;
        put(o, "paths", strv_array(&w->paths, ok), ok);
        put(o, "include", strv_array(&w->include, ok), ok);
        put(o, "exclude", strv_array(&w->exclude, ok), ok);
        put(o, "debounce", duration_string(w->debounce_ms), ok);
        if (w->rebuild)
                put(o, "rebuild", json_string(w->rebuild), ok);
        put(o, "reload", reload_string(w), ok);
        put(o, "rebuild_timeout", duration_string(w->rebuild_timeout_ms), ok);
        put(o, "healthy_after", duration_string(w->healthy_after_ms), ok);
        put(o, "artifacts", strv_array(&w->artifacts, ok), ok);
        put(o, "gitignore", json_boolean(w->gitignore), ok);
        return o;
}

static json_t *lifecycle_object(const struct sbx_lifecycle *l, bool *ok)
{
        const char *sig = sbx_signal_to_name(l->stop_signal);
        char policy[48];
        json_t *o = json_object();

        if (!o)
                return NULL;
        sbx_restart_policy_format(&l->restart, policy, sizeof(policy));
        put(o, "stop_signal", json_string(sig ? sig : "TERM"), ok);
        put(o, "stop_timeout", duration_string(l->stop_timeout_ms), ok);
        put(o, "restart", json_string(policy), ok);
        return o;
}

static json_t *checkpoint_object(const struct sbx_checkpoint *c, bool *ok)
{
        json_t *o = json_object();
        if (!o)
                return NULL;
        put(o, "keep", json_integer(c->keep), ok);
        put(o, "workspace", json_boolean(c->workspace), ok);
        return o;
}

int sbx_spec_to_json_object(const struct sbx_spec *spec, json_t **ret, sbx_error **err)
{
        __attribute__((cleanup(json_decrefp))) json_t *o = json_object();
        bool ok = o != NULL;

        if (!o)
                return sbx_error_errno(err, ENOMEM, "write spec as JSON");
        put(o, "name", json_string(spec->name ? spec->name : ""), &ok);
        if (spec->description)
                put(o, "description", json_string(spec->description), &ok);
        put(o, "isolation", isolation_object(&spec->isolation, &ok), &ok);
        put(o, "limits", limits_object(&spec->limits, &ok), &ok);
        put(o, "filesystem", filesystem_object(&spec->filesystem, &ok), &ok);
        json_t *net = json_object();
        if (net)
                put(net, "mode", json_string(sbx_network_mode_to_string(spec->network)), &ok);
        put(o, "network", net, &ok);
        put(o, "security", security_object(&spec->security, &ok), &ok);
        put(o, "audit", json_string(sbx_audit_level_to_string(spec->audit)), &ok);
        put(o, "env", env_object(&spec->env, &ok), &ok);
        if (spec->has_watch)
                put(o, "watch", watch_object(&spec->watch, &ok), &ok);
        put(o, "checkpoint", checkpoint_object(&spec->checkpoint, &ok), &ok);
        put(o, "lifecycle", lifecycle_object(&spec->lifecycle, &ok), &ok);
        if (!ok)
                return sbx_error_set(err, EINVAL, "write spec as JSON: a value is out of range "
                                     "or not valid UTF-8");
        *ret = sbx_steal_ptr(o);
        return 0;
}

int sbx_spec_to_json(const struct sbx_spec *spec, bool pretty, char **ret_json, sbx_error **err)
{
        __attribute__((cleanup(json_decrefp))) json_t *o = NULL;
        int r = sbx_spec_to_json_object(spec, &o, err);

        if (r < 0)
                return r;
        char *text = json_dumps(o, pretty ? JSON_INDENT(2) | JSON_PRESERVE_ORDER
                                          : JSON_PRESERVE_ORDER);
        if (!text)
                return sbx_error_errno(err, ENOMEM, "write spec as JSON");
        *ret_json = text;
        return 0;
}
