/* Tests of unit parsing and formatting: every accepted form with its exact
 * value, every rejection class with its exact message. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sandboxctl/error.h"
#include "sandboxctl/units.h"

static void size_ok(const char *s, uint64_t expected)
{
        uint64_t v = 0;
        sbx_autoerror e = NULL;
        int r = sbx_parse_size(s, &v, &e);
        cr_assert_eq(r, 0, "'%s': %s", s, e ? e->message : "");
        cr_assert_eq(v, expected, "'%s' -> %llu, expected %llu", s, (unsigned long long)v,
                     (unsigned long long)expected);
}

static void size_bad(const char *s, int code, const char *msg)
{
        uint64_t v = 42;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_parse_size(s, &v, &e), -code, "'%s' accepted", s);
        cr_assert_not_null(e);
        cr_assert_eq(e->code, code);
        cr_assert_str_eq(e->message, msg);
        cr_assert_eq(v, 42, "ret_bytes changed on failure");
}

Test(units_size, plain_bytes)
{
        size_ok("0", 0);
        size_ok("1", 1);
        size_ok("1536", 1536);
        size_ok("18446744073709551615", UINT64_MAX);
        size_ok("512B", 512);
        size_ok("512b", 512);
}

Test(units_size, binary_suffixes)
{
        size_ok("512K", 512ULL << 10);
        size_ok("64M", 64ULL << 20);
        size_ok("2G", 2ULL << 30);
        size_ok("3T", 3ULL << 40);
        size_ok("64Mi", 64ULL << 20);
        size_ok("64MB", 64ULL << 20);
        size_ok("64MiB", 64ULL << 20);
        size_ok("64mib", 64ULL << 20);
        size_ok("64m", 64ULL << 20);
        size_ok("1k", 1024);
        size_ok("0M", 0);
}

Test(units_size, fractions_round_down)
{
        size_ok("1.5G", 3ULL << 29);
        size_ok("0.5K", 512);
        size_ok("1.001K", 1025); /* 1025.024 */
        size_ok("0.0000000000000000001T", 0);
        size_ok("1.99999999999999999999999K", 2047);
}

Test(units_size, rejections)
{
        size_bad("", EINVAL, "invalid size '': empty value");
        size_bad(" 1M", EINVAL, "invalid size ' 1M': whitespace is not allowed");
        size_bad("1M ", EINVAL, "invalid size '1M ': whitespace is not allowed");
        size_bad("1 M", EINVAL, "invalid size '1 M': whitespace is not allowed");
        size_bad("-1", EINVAL, "invalid size '-1': negative values are not allowed");
        size_bad("+1", EINVAL,
                 "invalid size '+1': expected a number with an optional unit K, M, G or T");
        size_bad("M", EINVAL,
                 "invalid size 'M': expected a number with an optional unit K, M, G or T");
        size_bad(".5M", EINVAL,
                 "invalid size '.5M': expected a number with an optional unit K, M, G or T");
        size_bad("12Q", EINVAL, "invalid size '12Q': unknown unit 'Q' (use K, M, G or T)");
        size_bad("12KK", EINVAL, "invalid size '12KK': unknown unit 'KK' (use K, M, G or T)");
        size_bad("12iB", EINVAL, "invalid size '12iB': unknown unit 'iB' (use K, M, G or T)");
        size_bad("1.2.3", EINVAL, "invalid size '1.2.3': malformed number");
        size_bad("1.", EINVAL, "invalid size '1.': malformed number");
        size_bad("1.M", EINVAL, "invalid size '1.M': malformed number");
        size_bad("1.5", EINVAL, "invalid size '1.5': a fraction needs a unit (e.g. 1.5G)");
        size_bad("1.5B", EINVAL, "invalid size '1.5B': a fraction needs a unit (e.g. 1.5G)");
        size_bad("99999999999T", ERANGE,
                 "invalid size '99999999999T': too large (at most 18446744073709551615 bytes)");
        size_bad("18446744073709551616", ERANGE,
                 "invalid size '18446744073709551616': too large (at most "
                 "18446744073709551615 bytes)");
        size_bad("16777216T", ERANGE,
                 "invalid size '16777216T': too large (at most 18446744073709551615 bytes)");
}

Test(units_size, null_is_empty)
{
        uint64_t v;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_parse_size(NULL, &v, &e), -EINVAL);
        cr_assert_str_eq(e->message, "invalid size '': empty value");
}

static void duration_ok(const char *s, uint64_t expected)
{
        uint64_t v = 0;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_parse_duration(s, &v, &e), 0, "'%s': %s", s, e ? e->message : "");
        cr_assert_eq(v, expected, "'%s' -> %llu", s, (unsigned long long)v);
}

static void duration_bad(const char *s, int code, const char *msg)
{
        uint64_t v = 42;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_parse_duration(s, &v, &e), -code, "'%s' accepted", s);
        cr_assert_eq(e->code, code);
        cr_assert_str_eq(e->message, msg);
        cr_assert_eq(v, 42);
}

Test(units_duration, accepted)
{
        duration_ok("500ms", 500);
        duration_ok("0ms", 0);
        duration_ok("0s", 0);
        duration_ok("30s", 30000);
        duration_ok("5m", 300000);
        duration_ok("1h", 3600000);
        duration_ok("1.5s", 1500);
        duration_ok("0.5h", 1800000);
        duration_ok("1.9ms", 1);
        duration_ok("0.0001s", 0);
}

Test(units_duration, rejections)
{
        duration_bad("30", EINVAL, "invalid duration '30': missing unit (e.g. 30s)");
        duration_bad("5", EINVAL, "invalid duration '5': missing unit (e.g. 5s)");
        duration_bad("", EINVAL, "invalid duration '': empty value");
        duration_bad("-1s", EINVAL, "invalid duration '-1s': negative values are not allowed");
        duration_bad("1 s", EINVAL, "invalid duration '1 s': whitespace is not allowed");
        duration_bad("s", EINVAL,
                     "invalid duration 's': expected a number with a unit ms, s, m or h");
        duration_bad("10x", EINVAL, "invalid duration '10x': unknown unit 'x' (use ms, s, m or h)");
        duration_bad("10S", EINVAL, "invalid duration '10S': unknown unit 'S' (use ms, s, m or h)");
        duration_bad("10d", EINVAL, "invalid duration '10d': unknown unit 'd' (use ms, s, m or h)");
        duration_bad("1.2.3s", EINVAL, "invalid duration '1.2.3s': malformed number");
        duration_bad("99999999999999999999h", ERANGE,
                     "invalid duration '99999999999999999999h': too large (at most "
                     "18446744073709551615 ms)");
        duration_bad("9999999999999999h", ERANGE,
                     "invalid duration '9999999999999999h': too large (at most "
                     "18446744073709551615 ms)");
}

static void cpu_ok(const char *s, uint32_t expected)
{
        uint32_t v = 0;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_parse_cpu(s, &v, &e), 0, "'%s': %s", s, e ? e->message : "");
        cr_assert_eq(v, expected, "'%s' -> %u", s, v);
}

static void cpu_bad(const char *s, int code, const char *msg)
{
        uint32_t v = 42;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_parse_cpu(s, &v, &e), -code, "'%s' accepted", s);
        cr_assert_eq(e->code, code);
        cr_assert_str_eq(e->message, msg);
        cr_assert_eq(v, 42);
}

Test(units_cpu, accepted)
{
        cpu_ok("50%", 500);
        cpu_ok("1%", 10);
        cpu_ok("100%", 1000);
        cpu_ok("150%", 1500);
        cpu_ok("12.5%", 125);
        cpu_ok("100000%", 1000000);
        cpu_ok("0.5", 500);
        cpu_ok("1.5", 1500);
        cpu_ok("2", 2000);
        cpu_ok("0.01", 10);
        cpu_ok("1000", 1000000);
}

Test(units_cpu, rejections)
{
        const char *range = "must be between 1% and 100000% (0.01 to 1000 CPUs)";
        char msg[128];

        cpu_bad("", EINVAL, "invalid CPU '': empty value");
        cpu_bad("-1", EINVAL, "invalid CPU '-1': negative values are not allowed");
        cpu_bad("abc", EINVAL,
                "invalid CPU 'abc': expected a percentage (50%) or a number of CPUs (1.5)");
        cpu_bad("50%%", EINVAL,
                "invalid CPU '50%%': expected a percentage (50%) or a number of CPUs (1.5)");
        cpu_bad("5 %", EINVAL, "invalid CPU '5 %': whitespace is not allowed");
        cpu_bad("1.2.3", EINVAL, "invalid CPU '1.2.3': malformed number");
        snprintf(msg, sizeof(msg), "invalid CPU '0': %s", range);
        cpu_bad("0", ERANGE, msg);
        snprintf(msg, sizeof(msg), "invalid CPU '0%%': %s", range);
        cpu_bad("0%", ERANGE, msg);
        snprintf(msg, sizeof(msg), "invalid CPU '0.5%%': %s", range);
        cpu_bad("0.5%", ERANGE, msg);
        snprintf(msg, sizeof(msg), "invalid CPU '100001%%': %s", range);
        cpu_bad("100001%", ERANGE, msg);
        snprintf(msg, sizeof(msg), "invalid CPU '1001': %s", range);
        cpu_bad("1001", ERANGE, msg);
        snprintf(msg, sizeof(msg), "invalid CPU '99999999999999999999': %s", range);
        cpu_bad("99999999999999999999", ERANGE, msg);
}

Test(units_count, accepted_and_rejected)
{
        uint64_t v = 7;
        sbx_autoerror e = NULL;

        cr_assert_eq(sbx_parse_count("100", 1, UINT64_MAX, &v, NULL), 0);
        cr_assert_eq(v, 100);
        cr_assert_eq(sbx_parse_count("16", 16, 1048576, &v, NULL), 0);
        cr_assert_eq(v, 16);
        cr_assert_eq(sbx_parse_count("1048576", 16, 1048576, &v, NULL), 0);
        cr_assert_eq(v, 1048576);

        v = 7;
        cr_assert_eq(sbx_parse_count("15", 16, 1048576, &v, &e), -ERANGE);
        cr_assert_str_eq(e->message, "invalid count '15': must be between 16 and 1048576");
        sbx_error_freep(&e);
        cr_assert_eq(sbx_parse_count("0", 1, UINT64_MAX, &v, &e), -ERANGE);
        cr_assert_str_eq(e->message, "invalid count '0': must be at least 1");
        sbx_error_freep(&e);
        cr_assert_eq(sbx_parse_count("99999999999999999999", 0, UINT64_MAX, &v, &e), -ERANGE);
        cr_assert_str_eq(e->message, "invalid count '99999999999999999999': must be at least 0");
        sbx_error_freep(&e);
        cr_assert_eq(sbx_parse_count("1.5", 0, 10, &v, &e), -EINVAL);
        cr_assert_str_eq(e->message, "invalid count '1.5': expected a whole number");
        sbx_error_freep(&e);
        cr_assert_eq(sbx_parse_count("1e3", 0, 10000, &v, &e), -EINVAL);
        cr_assert_str_eq(e->message, "invalid count '1e3': expected a whole number");
        sbx_error_freep(&e);
        cr_assert_eq(sbx_parse_count("-1", 0, 10, &v, &e), -EINVAL);
        cr_assert_str_eq(e->message, "invalid count '-1': negative values are not allowed");
        sbx_error_freep(&e);
        cr_assert_eq(sbx_parse_count("", 0, 10, &v, &e), -EINVAL);
        cr_assert_str_eq(e->message, "invalid count '': empty value");
        cr_assert_eq(v, 7);
}

Test(units_format, size)
{
        char buf[32];
        static const struct {
                uint64_t v;
                const char *s;
        } cases[] = {
                { 0, "0" },           { 1, "1" },
                { 1023, "1023" },     { 1024, "1K" },
                { 1536, "1536" },     { 67108864, "64M" },
                { 10485760, "10M" },  { 3ULL << 29, "1536M" },
                { 1ULL << 30, "1G" }, { 5ULL << 40, "5T" },
                { 1ULL << 50, "1024T" }, { UINT64_MAX, "18446744073709551615" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                sbx_format_size(cases[i].v, buf, sizeof(buf));
                cr_assert_str_eq(buf, cases[i].s);
                uint64_t back;
                cr_assert_eq(sbx_parse_size(buf, &back, NULL), 0);
                cr_assert_eq(back, cases[i].v, "round trip of %s", buf);
        }
}

Test(units_format, duration)
{
        char buf[32];
        static const struct {
                uint64_t v;
                const char *s;
        } cases[] = {
                { 0, "0s" },          { 500, "500ms" },     { 1500, "1500ms" },
                { 60000, "60s" },     { 90000, "90s" },     { 300000, "300s" },
                { 3600000, "1h" },    { 7200000, "2h" },    { 3601000, "3601s" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                sbx_format_duration(cases[i].v, buf, sizeof(buf));
                cr_assert_str_eq(buf, cases[i].s);
                uint64_t back;
                cr_assert_eq(sbx_parse_duration(buf, &back, NULL), 0);
                cr_assert_eq(back, cases[i].v, "round trip of %s", buf);
        }
}

Test(units_format, cpu)
{
        char buf[32];
        sbx_format_cpu(500, buf, sizeof(buf));
        cr_assert_str_eq(buf, "50%");
        sbx_format_cpu(1500, buf, sizeof(buf));
        cr_assert_str_eq(buf, "150%");
        sbx_format_cpu(125, buf, sizeof(buf));
        cr_assert_str_eq(buf, "12.5%");
        sbx_format_cpu(10, buf, sizeof(buf));
        cr_assert_str_eq(buf, "1%");
        uint32_t back;
        cr_assert_eq(sbx_parse_cpu("12.5%", &back, NULL), 0);
        cr_assert_eq(back, 125);
}

Test(units_format, small_buffers_truncate)
{
        char buf[3] = "xx";
        sbx_format_size(67108864, buf, sizeof(buf));
        cr_assert_str_eq(buf, "64");
        sbx_format_duration(500, buf, 0); /* no write at all */
        cr_assert_str_eq(buf, "64");
}
