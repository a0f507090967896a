/* report: the JSON usage report of one `run` (jansson).
 *
 * Fields: id, name (or null), profile, command (array), exit_code, signal
 * (name like "SIGTERM", or null), timed_out, wall_time_ms, user_cpu_ms,
 * system_cpu_ms, max_rss_bytes, started_at (ISO 8601, UTC, milliseconds),
 * limits {memory, pids, cpu, timeout} as configured (canonical unit strings,
 * null when unlimited), namespaces (array of names), network, and
 * setup_error {step, message} or null. */
#ifndef SANDBOXCTL_REPORT_H
#define SANDBOXCTL_REPORT_H

#include "sandboxctl/error.h"
#include "sandboxctl/runtime.h"

/* The report as JSON text (pretty-printed, no trailing newline). */
int sbx_report_to_json(const struct sbx_run_config *cfg, const struct sbx_run_result *res,
                       char **ret_json, sbx_error **err);

/* Write the report to path ("-" is stderr), atomically for a file. */
int sbx_report_write(const char *path, const struct sbx_run_config *cfg,
                     const struct sbx_run_result *res, sbx_error **err);

#endif
