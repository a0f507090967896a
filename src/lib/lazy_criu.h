/* lazy_criu: the libcriu functions criu.c calls, taken from libcriu.so.2 (and
 * so libprotobuf-c) loaded at their first use (lazy_lib.h) instead of at
 * every start of sandboxctl. Include this instead of <criu/criu.h>: the names
 * below then call the shim. Private. */
#ifndef SBX_LAZY_CRIU_H
#define SBX_LAZY_CRIU_H

#include <criu/criu.h>
#include <stdbool.h>

#include "sandboxctl/error.h"

/* Load libcriu now; an error names the library and its package. */
int sbx_lazy_criu_load(sbx_error **err);

int sbx_lazy_criu_local_init_opts(criu_opts **opts);
void sbx_lazy_criu_local_free_opts(criu_opts *opts);
int sbx_lazy_criu_local_set_service_binary(criu_opts *opts, const char *path);
int sbx_lazy_criu_local_set_log_file(criu_opts *opts, const char *log_file);
void sbx_lazy_criu_local_set_images_dir_fd(criu_opts *opts, int fd);
void sbx_lazy_criu_local_set_work_dir_fd(criu_opts *opts, int fd);
void sbx_lazy_criu_local_set_log_level(criu_opts *opts, int log_level);
void sbx_lazy_criu_local_set_manage_cgroups(criu_opts *opts, bool manage);
int sbx_lazy_criu_local_set_network_lock(criu_opts *opts, enum criu_network_lock_method method);
void sbx_lazy_criu_local_set_auto_ext_mnt(criu_opts *opts, bool val);
void sbx_lazy_criu_local_set_ext_sharing(criu_opts *opts, bool val);
void sbx_lazy_criu_local_set_ext_masters(criu_opts *opts, bool val);
void sbx_lazy_criu_local_set_pid(criu_opts *opts, int pid);
void sbx_lazy_criu_local_set_leave_running(criu_opts *opts, bool leave_running);
void sbx_lazy_criu_local_set_shell_job(criu_opts *opts, bool shell_job);
void sbx_lazy_criu_local_set_file_locks(criu_opts *opts, bool file_locks);
int sbx_lazy_criu_local_set_freeze_cgroup(criu_opts *opts, const char *name);
int sbx_lazy_criu_local_set_root(criu_opts *opts, const char *root);
int sbx_lazy_criu_local_add_cg_root(criu_opts *opts, const char *ctrl, const char *path);
int sbx_lazy_criu_local_add_inherit_fd(criu_opts *opts, int fd, const char *key);
int sbx_lazy_criu_local_dump(criu_opts *opts);
int sbx_lazy_criu_local_restore_child(criu_opts *opts);

#define criu_local_init_opts sbx_lazy_criu_local_init_opts
#define criu_local_free_opts sbx_lazy_criu_local_free_opts
#define criu_local_set_service_binary sbx_lazy_criu_local_set_service_binary
#define criu_local_set_log_file sbx_lazy_criu_local_set_log_file
#define criu_local_set_images_dir_fd sbx_lazy_criu_local_set_images_dir_fd
#define criu_local_set_work_dir_fd sbx_lazy_criu_local_set_work_dir_fd
#define criu_local_set_log_level sbx_lazy_criu_local_set_log_level
#define criu_local_set_manage_cgroups sbx_lazy_criu_local_set_manage_cgroups
#define criu_local_set_network_lock sbx_lazy_criu_local_set_network_lock
#define criu_local_set_auto_ext_mnt sbx_lazy_criu_local_set_auto_ext_mnt
#define criu_local_set_ext_sharing sbx_lazy_criu_local_set_ext_sharing
#define criu_local_set_ext_masters sbx_lazy_criu_local_set_ext_masters
#define criu_local_set_pid sbx_lazy_criu_local_set_pid
#define criu_local_set_leave_running sbx_lazy_criu_local_set_leave_running
#define criu_local_set_shell_job sbx_lazy_criu_local_set_shell_job
#define criu_local_set_file_locks sbx_lazy_criu_local_set_file_locks
#define criu_local_set_freeze_cgroup sbx_lazy_criu_local_set_freeze_cgroup
#define criu_local_set_root sbx_lazy_criu_local_set_root
#define criu_local_add_cg_root sbx_lazy_criu_local_add_cg_root
#define criu_local_add_inherit_fd sbx_lazy_criu_local_add_inherit_fd
#define criu_local_dump sbx_lazy_criu_local_dump
#define criu_local_restore_child sbx_lazy_criu_local_restore_child

#endif
