/* log: the logger used by the CLI and the supervisor. Library code never
 * logs; it returns errors. */
#ifndef SANDBOXCTL_LOG_H
#define SANDBOXCTL_LOG_H

enum sbx_log_level {
        SBX_LOG_ERROR,
        SBX_LOG_WARN,
        SBX_LOG_INFO,
        SBX_LOG_DEBUG,
};

enum sbx_log_format {
        SBX_LOG_FORMAT_TEXT,
        SBX_LOG_FORMAT_JSON,
};

void sbx_log_set_level(enum sbx_log_level level);
void sbx_log_set_format(enum sbx_log_format format);
/* Parse "error", "warn", "info", "debug"; returns -EINVAL on anything else. */
int sbx_log_level_from_string(const char *s, enum sbx_log_level *ret_level);
int sbx_log_format_from_string(const char *s, enum sbx_log_format *ret_format);
void sbx_log_write(enum sbx_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#define sbx_log(level, ...)                     \
        do {                                    \
                sbx_log_write((level), __VA_ARGS__); \
        } while (0)
#define sbx_log_error(...) sbx_log(SBX_LOG_ERROR, __VA_ARGS__)
#define sbx_log_warn(...) sbx_log(SBX_LOG_WARN, __VA_ARGS__)
#define sbx_log_info(...) sbx_log(SBX_LOG_INFO, __VA_ARGS__)
#define sbx_log_debug(...) sbx_log(SBX_LOG_DEBUG, __VA_ARGS__)

#endif
