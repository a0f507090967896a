/* events: the audit and event log.
 *
 * Every event is one JSON object on one line: {"time": ISO 8601 UTC, "id":
 * sandbox id, "type": ..., fields...}. It is appended to the sandbox's own
 * <state-dir>/<id>/events.jsonl and to the registry-wide
 * <state-dir>/events.jsonl, which outlives destroyed sandboxes (the audit
 * trail) and is what `events -f` follows. Each file is kept under
 * SBX_EVENTS_MAX_BYTES: beyond it, it is renamed to events.jsonl.1 (the older
 * .1 is dropped) and a new one is started. Appends take an flock on the file,
 * so lines from many supervisors never interleave.
 *
 * Types: created, started, exited (code, signal), restarted (restarts,
 * delay_ms), limit_hit (which, value), oom_kill (count), timeout, exec (uid,
 * argv), control (uid, op), stopped, destroyed, error (reason). */
#ifndef SANDBOXCTL_EVENTS_H
#define SANDBOXCTL_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "sandboxctl/error.h"

#define SBX_EVENTS_MAX_BYTES (1024 * 1024)
#define SBX_EVENTS_FILE "events.jsonl"

/* Append one event. `fields` is a jansson json_t * object (borrowed, may be
 * NULL) merged into the line. id may be NULL for registry-wide events. */
int sbx_event_append(const char *state_dir, const char *id, const char *type, void *fields,
                     sbx_error **err);

/* The same, to the registry-wide log only (for a sandbox whose dir is gone). */
int sbx_event_append_registry(const char *state_dir, const char *id, const char *type,
                              void *fields, sbx_error **err);

/* Append `line` (no newline) to path under an flock, rotating to path.1 when
 * the file would grow past max_bytes. Used for events and logs. */
int sbx_append_rotating(const char *path, const char *data, size_t len, uint64_t max_bytes,
                        sbx_error **err);

/* A reader of a growing, rotating file (events.jsonl, logs). */
struct sbx_follow;
/* Open path (which may not exist yet). With `from_rotated`, path.1 is read
 * first. */
int sbx_follow_open(const char *path, bool from_rotated, struct sbx_follow **ret, sbx_error **err);
/* Read what is there now into buf; returns the byte count, 0 at the current
 * end. A rotation or a re-creation of path is followed. */
ssize_t sbx_follow_read(struct sbx_follow *f, char *buf, size_t len, sbx_error **err);
/* Wait up to timeout_ms for path to change (inotify). 1: changed, 0: timeout. */
int sbx_follow_wait(struct sbx_follow *f, int timeout_ms, sbx_error **err);
void sbx_follow_free(struct sbx_follow *f);

#endif
