/* log: leveled logging to stderr, as text or one JSON object per line.
 * Used by the CLI and the supervisor only; library code returns errors. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "sandboxctl/log.h"

static enum sbx_log_level current_level = SBX_LOG_WARN;
static enum sbx_log_format current_format = SBX_LOG_FORMAT_TEXT;

static const char *const level_names[] = {
        [SBX_LOG_ERROR] = "error",
        [SBX_LOG_WARN] = "warn",
        [SBX_LOG_INFO] = "info",
        [SBX_LOG_DEBUG] = "debug",
};

void sbx_log_set_level(enum sbx_log_level level)
{
        current_level = level;
}

void sbx_log_set_format(enum sbx_log_format format)
{
        current_format = format;
}

int sbx_log_level_from_string(const char *s, enum sbx_log_level *ret_level)
{
        for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
                if (s && strcmp(s, level_names[i]) == 0) {
                        *ret_level = (enum sbx_log_level)i;
                        return 0;
                }
        }
        if (s && strcmp(s, "warning") == 0) {
                *ret_level = SBX_LOG_WARN;
                return 0;
        }
        return -EINVAL;
}

int sbx_log_format_from_string(const char *s, enum sbx_log_format *ret_format)
{
        if (s && strcmp(s, "text") == 0)
                *ret_format = SBX_LOG_FORMAT_TEXT;
        else if (s && strcmp(s, "json") == 0)
                *ret_format = SBX_LOG_FORMAT_JSON;
        else
                return -EINVAL;
        return 0;
}

static void log_write_json(enum sbx_log_level level, const char *msg)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        json_t *o = json_pack("{s:f, s:s, s:s}", "time",
                              (double)ts.tv_sec + (double)ts.tv_nsec / 1e9, "level",
                              level_names[level], "message", msg);
        if (!o)
                return;
        char *text = json_dumps(o, JSON_COMPACT);
        if (text)
                fprintf(stderr, "%s\n", text);
        free(text);
        json_decref(o);
}

void sbx_log_write(enum sbx_log_level level, const char *fmt, ...)
{
        if (level > current_level)
                return;
        int saved = errno;
        char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (msg) {
                if (current_format == SBX_LOG_FORMAT_JSON)
                        log_write_json(level, msg);
                else if (level == SBX_LOG_ERROR)
                        fprintf(stderr, "sandboxctl: %s\n", msg);
                else
                        fprintf(stderr, "sandboxctl: %s: %s\n", level_names[level], msg);
        }
        free(msg);
        errno = saved;
}
