/* lazy_criu: libcriu through dlopen (lazy_criu.h). Before a successful load
 * the int functions fail with -ENOENT and the setters do nothing; criu.c calls
 * sbx_lazy_criu_load() first for a message that names the library. */
#include <errno.h>

#include "src/lib/lazy_criu.h"
#include "src/lib/lazy_lib.h"

/* F: returns int (-ENOENT when not loaded); V: returns nothing. */
#define CRIU_FNS(F, V)                                                                         \
        F(criu_local_init_opts, (criu_opts * *o), (o))                                         \
        V(criu_local_free_opts, (criu_opts * o), (o))                                          \
        F(criu_local_set_service_binary, (criu_opts * o, const char *p), (o, p))               \
        F(criu_local_set_log_file, (criu_opts * o, const char *p), (o, p))                     \
        V(criu_local_set_images_dir_fd, (criu_opts * o, int fd), (o, fd))                      \
        V(criu_local_set_work_dir_fd, (criu_opts * o, int fd), (o, fd))                        \
        V(criu_local_set_log_level, (criu_opts * o, int level), (o, level))                    \
        V(criu_local_set_manage_cgroups, (criu_opts * o, bool v), (o, v))                      \
        F(criu_local_set_network_lock, (criu_opts * o, enum criu_network_lock_method m), (o, m)) \
        V(criu_local_set_auto_ext_mnt, (criu_opts * o, bool v), (o, v))                        \
        V(criu_local_set_ext_sharing, (criu_opts * o, bool v), (o, v))                         \
        V(criu_local_set_ext_masters, (criu_opts * o, bool v), (o, v))                         \
        V(criu_local_set_pid, (criu_opts * o, int pid), (o, pid))                              \
        V(criu_local_set_leave_running, (criu_opts * o, bool v), (o, v))                       \
        V(criu_local_set_shell_job, (criu_opts * o, bool v), (o, v))                           \
        V(criu_local_set_file_locks, (criu_opts * o, bool v), (o, v))                          \
        F(criu_local_set_freeze_cgroup, (criu_opts * o, const char *name), (o, name))          \
        F(criu_local_set_root, (criu_opts * o, const char *root), (o, root))                   \
        F(criu_local_add_cg_root, (criu_opts * o, const char *c, const char *p), (o, c, p))    \
        F(criu_local_add_inherit_fd, (criu_opts * o, int fd, const char *key), (o, fd, key))   \
        F(criu_local_dump, (criu_opts * o), (o))                                               \
        F(criu_local_restore_child, (criu_opts * o), (o))

#define FN_INDEX(name, params, args) I_##name,
#define FN_NAME(name, params, args) #name,
enum { CRIU_FNS(FN_INDEX, FN_INDEX) N_FNS };
static const char *const names[N_FNS] = { CRIU_FNS(FN_NAME, FN_NAME) };
static void *fns[N_FNS];

static struct sbx_lazy_lib criu = {
        .soname = "libcriu.so.2",
        .package = "criu",
        .purpose = "checkpoint and restore with CRIU",
        .symbols = names,
        .fns = fns,
        .n = N_FNS,
};

int sbx_lazy_criu_load(sbx_error **err)
{
        return sbx_lazy_lib_load(&criu, err);
}

#define FN_INT(name, params, args)                                 \
        int sbx_lazy_##name params                                 \
        {                                                          \
                if (sbx_lazy_lib_load(&criu, NULL) < 0)            \
                        return -ENOENT;                            \
                return ((int(*) params)fns[I_##name])args;         \
        }
#define FN_VOID(name, params, args)                                \
        void sbx_lazy_##name params                                \
        {                                                          \
                if (criu.handle)                                   \
                        ((void(*) params)fns[I_##name])args;       \
        }
CRIU_FNS(FN_INT, FN_VOID)
