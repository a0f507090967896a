/* units: parsing and formatting of the unit strings used in profiles and on
 * the command line: sizes ("512K", "64M", "1.5G", plain bytes), durations
 * ("500ms", "30s", "5m", "1h"), CPU shares ("50%" of one CPU, or "1.5" CPUs)
 * and plain counts. Overflow, negatives, empty strings and junk are errors. */
#ifndef SANDBOXCTL_UNITS_H
#define SANDBOXCTL_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "sandboxctl/error.h"

/* Binary multiples: K = 1024, M = 1024^2, G, T. Suffix may be followed by
 * "i" and/or "B" ("64MiB", "64MB" = 64 MiB). Fractions allowed with a suffix. */
int sbx_parse_size(const char *s, uint64_t *ret_bytes, sbx_error **err);
/* Units ms, s, m, h; fractions allowed ("1.5s"); a unit is required. */
int sbx_parse_duration(const char *s, uint64_t *ret_ms, sbx_error **err);
/* "50%" -> 500, "1.5" -> 1500, "2" -> 2000: thousandths of one CPU. Must be > 0. */
int sbx_parse_cpu(const char *s, uint32_t *ret_millicpus, sbx_error **err);
/* A plain decimal count in [min, max]. */
int sbx_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *ret, sbx_error **err);

/* Shortest exact form: 67108864 -> "64M", 1536 -> "1536" unless exact. */
void sbx_format_size(uint64_t bytes, char *buf, size_t len);
/* 60000 -> "60s", 90000 -> "90s", 500 -> "500ms", 3600000 -> "1h". */
void sbx_format_duration(uint64_t ms, char *buf, size_t len);
/* 500 -> "50%", 1500 -> "150%". */
void sbx_format_cpu(uint32_t millicpus, char *buf, size_t len);

#endif
