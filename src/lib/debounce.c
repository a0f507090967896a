/* debounce: the batch state machine of the watch loop (see watch.h). */
#include <errno.h>

#include "sandboxctl/watch.h"

void sbx_debounce_init(struct sbx_debounce *d, uint64_t window_ms)
{
        *d = (struct sbx_debounce){ .state = SBX_DEBOUNCE_IDLE, .window_ms = window_ms };
}

void sbx_debounce_change(struct sbx_debounce *d, uint64_t now_ms)
{
        d->last_change_ms = now_ms;
        switch (d->state) {
        case SBX_DEBOUNCE_IDLE:
                d->state = SBX_DEBOUNCE_PENDING;
                break;
        case SBX_DEBOUNCE_BUILDING:
                d->state = SBX_DEBOUNCE_QUEUED;
                break;
        case SBX_DEBOUNCE_PENDING:
        case SBX_DEBOUNCE_QUEUED:
        default:
                break;
        }
}

uint64_t sbx_debounce_deadline(const struct sbx_debounce *d)
{
        if (d->state != SBX_DEBOUNCE_PENDING)
                return SBX_WATCH_NEVER;
        if (d->last_change_ms > SBX_WATCH_NEVER - 1 - d->window_ms)
                return SBX_WATCH_NEVER - 1;
        return d->last_change_ms + d->window_ms;
}

bool sbx_debounce_poll(struct sbx_debounce *d, uint64_t now_ms)
{
        if (d->state != SBX_DEBOUNCE_PENDING || now_ms < sbx_debounce_deadline(d))
                return false;
        d->state = SBX_DEBOUNCE_IDLE;
        return true;
}

int sbx_debounce_rebuild_started(struct sbx_debounce *d, sbx_error **err)
{
        switch (d->state) {
        case SBX_DEBOUNCE_IDLE:
                d->state = SBX_DEBOUNCE_BUILDING;
                return 0;
        case SBX_DEBOUNCE_PENDING:
                d->state = SBX_DEBOUNCE_QUEUED;
                return 0;
        case SBX_DEBOUNCE_BUILDING:
        case SBX_DEBOUNCE_QUEUED:
        default:
                return sbx_error_set(err, EALREADY,
                                     "rebuild started: a rebuild is already running");
        }
}

int sbx_debounce_rebuild_finished(struct sbx_debounce *d, uint64_t now_ms, sbx_error **err)
{
        (void)now_ms; /* the queued batch is due a window after its last change */
        switch (d->state) {
        case SBX_DEBOUNCE_BUILDING:
                d->state = SBX_DEBOUNCE_IDLE;
                return 0;
        case SBX_DEBOUNCE_QUEUED:
                d->state = SBX_DEBOUNCE_PENDING;
                return 0;
        case SBX_DEBOUNCE_IDLE:
        case SBX_DEBOUNCE_PENDING:
        default:
                return sbx_error_set(err, EINVAL, "rebuild finished: no rebuild is running");
        }
}

const char *sbx_debounce_state_name(enum sbx_debounce_state s)
{
        switch (s) {
        case SBX_DEBOUNCE_IDLE:
                return "idle";
        case SBX_DEBOUNCE_PENDING:
                return "pending";
        case SBX_DEBOUNCE_BUILDING:
                return "building";
        case SBX_DEBOUNCE_QUEUED:
                return "queued";
        default:
                return "unknown";
        }
}
