/* sv_checkpoint: the supervisor's "checkpoint" control request (issue 6).
 *
 * Request: {"op": "checkpoint", "data_dir": DIR, "label": LABEL or absent,
 * "fs_only": bool, "prune": bool (default true)}. The sandbox moves through `checkpointing`: its cgroup is
 * frozen (by CRIU for a full checkpoint, by cgroup.freeze for fs-only), the
 * process tree is dumped by CRIU (full, leaving it running), the workspace is
 * copied into the snapshot store, the cgroup is thawed on every path, and the
 * store is pruned to checkpoint.keep. Stopping the sandbox afterwards is the
 * caller's (a plain "stop" request). Events: checkpoint_started,
 * checkpoint_done, checkpoint_failed. The reply adds "snapshot": the new
 * version's number, label, kind, size, new_bytes, files, checksum, parent and
 * duration_ms. */
#ifndef SBX_SV_CHECKPOINT_H
#define SBX_SV_CHECKPOINT_H

#include "sandboxctl/error.h"

struct sv;

/* Handle the request on client fd: replies and closes fd itself on success
 * (returns 1, as a deferred reply), returns < 0 with err on failure. */
int sv_checkpoint_control(struct sv *s, int fd, void *req, sbx_error **err);

/* A full snapshot's criu/ dir also holds SV_CKPT_FDS_FILE ("log INODE msg
 * INODE": the pipes of the sandbox to its supervisor, which a restore
 * replaces with new ones) and, for `rootfs: host`, root/: the skeleton of
 * the root mount (sbx_snapshot_root_save). */
#define SV_CKPT_FDS_FILE "sandbox-fds"

/* {"op": "restore", "images": DIR}: start the stopped sandbox from the CRIU
 * images in DIR (sv_restore.c). Returns 0 (the caller replies) or < 0. */
int sv_restore_control(struct sv *s, int fd, void *req, sbx_error **err);

#endif
