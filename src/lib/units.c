/* units: sizes, durations, CPU shares and counts as written in profiles and
 * on the command line. Numbers are parsed by hand (never strtod) so that
 * fractions are exact and every overflow is caught. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sandboxctl/units.h"

#define FRACTION_DIGITS_MAX 18

/* A non-negative decimal: integer part, fraction digits as an integer and
 * their count (digits past FRACTION_DIGITS_MAX are dropped: rounding down). */
struct decimal {
        uint64_t integer;
        uint64_t fraction;
        unsigned fraction_digits;
        bool has_point;
};

enum number_problem {
        NUMBER_OK,
        NUMBER_MALFORMED,
        NUMBER_OVERFLOW,
};

static bool has_space(const char *s)
{
        for (; *s; s++)
                if (isspace((unsigned char)*s))
                        return true;
        return false;
}

/* Parse DIGITS[.DIGITS] at *p, leave *p after it. *p must start with a digit. */
static enum number_problem parse_decimal(const char **p, struct decimal *d)
{
        const char *s = *p;
        bool overflow = false;

        *d = (struct decimal){ 0 };
        for (; isdigit((unsigned char)*s); s++) {
                unsigned digit = (unsigned)(*s - '0');
                if (d->integer > (UINT64_MAX - digit) / 10)
                        overflow = true;
                else
                        d->integer = d->integer * 10 + digit;
        }
        if (*s == '.') {
                d->has_point = true;
                s++;
                if (!isdigit((unsigned char)*s))
                        return NUMBER_MALFORMED;
                for (; isdigit((unsigned char)*s); s++) {
                        if (d->fraction_digits >= FRACTION_DIGITS_MAX)
                                continue;
                        d->fraction = d->fraction * 10 + (uint64_t)(*s - '0');
                        d->fraction_digits++;
                }
                if (*s == '.')
                        return NUMBER_MALFORMED;
        }
        *p = s;
        return overflow ? NUMBER_OVERFLOW : NUMBER_OK;
}

static uint64_t pow10u(unsigned n)
{
        uint64_t r = 1;
        while (n--)
                r *= 10;
        return r;
}

/* d * mult, rounded down; false on overflow past UINT64_MAX. */
static bool decimal_scale(const struct decimal *d, uint64_t mult, uint64_t *ret)
{
        unsigned __int128 v = (unsigned __int128)d->integer * mult;
        v += (unsigned __int128)d->fraction * mult / pow10u(d->fraction_digits);
        if (v > UINT64_MAX)
                return false;
        *ret = (uint64_t)v;
        return true;
}

/* The checks common to every kind: empty, whitespace, sign, no leading digit.
 * Returns a problem description or NULL. */
static const char *check_number_start(const char *s)
{
        if (!*s)
                return "empty value";
        if (has_space(s))
                return "whitespace is not allowed";
        if (*s == '-')
                return "negative values are not allowed";
        return NULL; /* a missing leading digit: the caller says what it expected */
}

static int unit_error(sbx_error **err, int code, const char *kind, const char *s,
                      const char *problem)
{
        return sbx_error_set(err, code, "invalid %s '%s': %s", kind, s, problem);
}

static int size_suffix(const char *u, uint64_t *ret_mult, bool *ret_has_unit)
{
        static const char units[] = "kmgt";
        uint64_t mult = 1;
        bool unit = false;
        const char *pos = *u ? strchr(units, tolower((unsigned char)*u)) : NULL;

        if (pos) {
                mult = 1ULL << (10 * (pos - units + 1));
                unit = true;
                u++;
                if (*u == 'i' || *u == 'I')
                        u++;
        }
        if (*u == 'b' || *u == 'B')
                u++;
        if (*u)
                return -EINVAL;
        *ret_mult = mult;
        *ret_has_unit = unit;
        return 0;
}

int sbx_parse_size(const char *s, uint64_t *ret_bytes, sbx_error **err)
{
        const char *problem = check_number_start(s ? s : "");
        struct decimal d;
        uint64_t mult, v;
        bool has_unit;

        if (problem)
                return unit_error(err, EINVAL, "size", s ? s : "", problem);
        if (!isdigit((unsigned char)*s))
                return unit_error(err, EINVAL, "size", s,
                                     "expected a number with an optional unit K, M, G or T");
        const char *p = s;
        enum number_problem np = parse_decimal(&p, &d);
        if (np == NUMBER_MALFORMED || isdigit((unsigned char)*p) || *p == '.')
                return unit_error(err, EINVAL, "size", s, "malformed number");
        if (size_suffix(p, &mult, &has_unit) < 0)
                return sbx_error_set(err, EINVAL, "invalid size '%s': unknown unit '%s' "
                                     "(use K, M, G or T)", s, p);
        if (d.has_point && !has_unit)
                return unit_error(err, EINVAL, "size", s, "a fraction needs a unit (e.g. 1.5G)");
        if (np == NUMBER_OVERFLOW || !decimal_scale(&d, mult, &v))
                return unit_error(err, ERANGE, "size", s,
                                     "too large (at most 18446744073709551615 bytes)");
        *ret_bytes = v;
        return 0;
}

static int duration_unit(const char *u, uint64_t *ret_mult)
{
        static const struct {
                const char *name;
                uint64_t ms;
        } units[] = {
                { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
        };
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
                if (strcmp(u, units[i].name) == 0) {
                        *ret_mult = units[i].ms;
                        return 0;
                }
        return -EINVAL;
}

int sbx_parse_duration(const char *s, uint64_t *ret_ms, sbx_error **err)
{
        const char *problem = check_number_start(s ? s : "");
        struct decimal d;
        uint64_t mult, v;

        if (problem)
                return unit_error(err, EINVAL, "duration", s ? s : "", problem);
        if (!isdigit((unsigned char)*s))
                return unit_error(err, EINVAL, "duration", s,
                                     "expected a number with a unit ms, s, m or h");
        const char *p = s;
        enum number_problem np = parse_decimal(&p, &d);
        if (np == NUMBER_MALFORMED || *p == '.')
                return unit_error(err, EINVAL, "duration", s, "malformed number");
        if (!*p)
                return sbx_error_set(err, EINVAL, "invalid duration '%s': missing unit (e.g. %ss)",
                                     s, s);
        if (duration_unit(p, &mult) < 0)
                return sbx_error_set(err, EINVAL, "invalid duration '%s': unknown unit '%s' "
                                     "(use ms, s, m or h)", s, p);
        if (np == NUMBER_OVERFLOW || !decimal_scale(&d, mult, &v))
                return unit_error(err, ERANGE, "duration", s,
                                     "too large (at most 18446744073709551615 ms)");
        *ret_ms = v;
        return 0;
}

#define CPU_MIN_MILLI 10      /* 1% */
#define CPU_MAX_MILLI 1000000 /* 100000% = 1000 CPUs */

int sbx_parse_cpu(const char *s, uint32_t *ret_millicpus, sbx_error **err)
{
        const char *expected = "expected a percentage (50%) or a number of CPUs (1.5)";
        const char *problem = check_number_start(s ? s : "");
        struct decimal d;
        uint64_t milli;

        if (problem)
                return unit_error(err, EINVAL, "CPU", s ? s : "", problem);
        if (!isdigit((unsigned char)*s))
                return unit_error(err, EINVAL, "CPU", s, expected);
        const char *p = s;
        enum number_problem np = parse_decimal(&p, &d);
        if (np == NUMBER_MALFORMED || *p == '.')
                return unit_error(err, EINVAL, "CPU", s, "malformed number");
        bool percent = strcmp(p, "%") == 0;
        if (*p && !percent)
                return unit_error(err, EINVAL, "CPU", s, expected);
        /* percent: thousandths of a CPU = value * 10; CPUs: value * 1000 */
        if (np == NUMBER_OVERFLOW || !decimal_scale(&d, percent ? 10 : 1000, &milli) ||
            milli > CPU_MAX_MILLI || milli < CPU_MIN_MILLI)
                return unit_error(err, ERANGE, "CPU", s,
                                     "must be between 1% and 100000% (0.01 to 1000 CPUs)");
        *ret_millicpus = (uint32_t)milli;
        return 0;
}

int sbx_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *ret, sbx_error **err)
{
        const char *problem = check_number_start(s ? s : "");
        uint64_t v = 0;
        bool overflow = false;

        if (problem)
                return sbx_error_set(err, EINVAL, "invalid count '%s': %s", s ? s : "", problem);
        for (const char *p = s; *p; p++) {
                if (!isdigit((unsigned char)*p))
                        return sbx_error_set(err, EINVAL,
                                             "invalid count '%s': expected a whole number", s);
                unsigned digit = (unsigned)(*p - '0');
                if (v > (UINT64_MAX - digit) / 10)
                        overflow = true;
                else
                        v = v * 10 + digit;
        }
        if (overflow || v < min || v > max) {
                if (max == UINT64_MAX)
                        return sbx_error_set(err, ERANGE,
                                             "invalid count '%s': must be at least %" PRIu64, s,
                                             min);
                return sbx_error_set(err, ERANGE,
                                     "invalid count '%s': must be between %" PRIu64
                                     " and %" PRIu64, s, min, max);
        }
        *ret = v;
        return 0;
}

void sbx_format_size(uint64_t bytes, char *buf, size_t len)
{
        static const char units[] = "TGMK";

        if (!buf || len == 0)
                return;
        for (int i = 0; bytes != 0 && i < 4; i++) {
                uint64_t mult = 1ULL << (10 * (4 - i));
                if (bytes % mult == 0) {
                        snprintf(buf, len, "%" PRIu64 "%c", bytes / mult, units[i]);
                        return;
                }
        }
        snprintf(buf, len, "%" PRIu64, bytes);
}

void sbx_format_duration(uint64_t ms, char *buf, size_t len)
{
        if (!buf || len == 0)
                return;
        if (ms == 0)
                snprintf(buf, len, "0s");
        else if (ms % 3600000 == 0)
                snprintf(buf, len, "%" PRIu64 "h", ms / 3600000);
        else if (ms % 1000 == 0)
                snprintf(buf, len, "%" PRIu64 "s", ms / 1000);
        else
                snprintf(buf, len, "%" PRIu64 "ms", ms);
}

void sbx_format_cpu(uint32_t millicpus, char *buf, size_t len)
{
        if (!buf || len == 0)
                return;
        if (millicpus % 10 == 0)
                snprintf(buf, len, "%" PRIu32 "%%", millicpus / 10);
        else
                snprintf(buf, len, "%" PRIu32 ".%" PRIu32 "%%", millicpus / 10, millicpus % 10);
}
