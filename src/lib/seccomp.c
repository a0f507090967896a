/* seccomp: the syscall filter of a sandboxed process (libseccomp).
 *
 * A filter is built in two steps: first a policy (a default action and at
 * most one entry per syscall) from the mode, the isolation level, the
 * optional policy file and syscalls.allow / syscalls.deny; then the policy is
 * turned into libseccomp rules. Keeping one entry per syscall avoids
 * libseccomp's refusal of overlapping rules with different actions, and makes
 * the precedence plain: built-in list < allow < deny. See docs/security.md. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandboxctl/security.h"
#include "sandboxctl/util.h"
#include "seccomp_lists.h"

SBX_DEFINE_CLEANUP(scmp_filter_ctx, seccomp_release)

enum entry_kind {
        ENTRY_ALLOW,
        ENTRY_DENY,          /* EPERM */
        ENTRY_ENOSYS,        /* so that libc falls back (clone3 -> clone) */
        ENTRY_ONLY_VALUES,   /* allowed iff the low 32 bits of arg are in values */
        ENTRY_EXCEPT_VALUES, /* allowed iff the low 32 bits of arg are not in values */
        ENTRY_NO_FLAGS,      /* allowed iff (arg & mask) == 0 */
};

struct entry {
        int nr;
        enum entry_kind kind;
        unsigned arg;
        uint64_t mask;
        const uint32_t *values; /* sorted, unique */
        size_t n_values;
};

struct policy {
        bool default_allow;
        struct entry *entries;
        size_t n;
};

static void policy_free(struct policy *p)
{
        free(p->entries);
        p->entries = NULL;
        p->n = 0;
}

/* Both TTY commands push input into a terminal: TIOCSTI fakes typed
 * characters, TIOCLINUX (subcode 2/3) pastes the console selection. */
static const uint32_t tty_inject_cmds[] = { TIOCSTI, TIOCLINUX };
/* PER_LINUX, PER_LINUX32, UNAME26 and their mix, and the 0xffffffff query. */
static const uint32_t safe_personalities[] = { PER_LINUX, PER_LINUX32, UNAME26,
                                               UNAME26 | PER_LINUX32, 0xffffffffu };
static const uint32_t strict_socket_families[] = { AF_UNIX, AF_INET, AF_INET6 };

/* Namespace flags of clone(2); CLONE_NEWTIME (0x80) is left out because
 * clone's low byte is the exit signal, and clone(2) does not take it. */
#define CLONE_NS_FLAGS                                                                    \
        ((uint64_t)(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |          \
                    CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET))

static int policy_set(struct policy *p, const struct entry *e)
{
        for (size_t i = 0; i < p->n; i++) {
                if (p->entries[i].nr == e->nr) {
                        p->entries[i] = *e;
                        return 0;
                }
        }
        struct entry *n = realloc(p->entries, (p->n + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        n[p->n++] = *e;
        p->entries = n;
        return 0;
}

/* Set the entry of a named syscall. Names unknown to libseccomp, or that do
 * not exist on the native architecture (negative pseudo numbers), are
 * skipped for built-in lists (strict_name = false) and rejected otherwise. */
static int policy_set_name(struct policy *p, const char *name, struct entry e, bool strict_name,
                           sbx_error **err)
{
        int nr = seccomp_syscall_resolve_name(name);

        if (nr == __NR_SCMP_ERROR) {
                if (!strict_name)
                        return 0;
                return sbx_error_set(err, EINVAL, "unknown syscall '%s'", name);
        }
        if (nr < 0)
                return 0;
        e.nr = nr;
        if (policy_set(p, &e) < 0)
                return sbx_error_errno(err, ENOMEM, "seccomp: add '%s' to the policy", name);
        return 0;
}

static int policy_set_list(struct policy *p, const char *const *names, size_t n,
                           enum entry_kind kind, sbx_error **err)
{
        for (size_t i = 0; i < n; i++) {
                int r = policy_set_name(p, names[i], (struct entry){ .kind = kind }, false, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int policy_set_common(struct policy *p, sbx_error **err)
{
        int r = policy_set_name(p, "ioctl",
                                (struct entry){ .kind = ENTRY_EXCEPT_VALUES,
                                                .arg = 1,
                                                .values = tty_inject_cmds,
                                                .n_values = SBX_ARRAY_SIZE(tty_inject_cmds) },
                                false, err);
        if (r < 0)
                return r;
        return policy_set_name(p, "personality",
                               (struct entry){ .kind = ENTRY_ONLY_VALUES,
                                               .arg = 0,
                                               .values = safe_personalities,
                                               .n_values = SBX_ARRAY_SIZE(safe_personalities) },
                               false, err);
}

/* No new user namespace: clone/unshare with CLONE_NEWUSER get EPERM, clone3
 * (whose flags sit in memory a filter cannot read) gets ENOSYS. */
static int policy_set_no_userns(struct policy *p, uint64_t clone_mask, sbx_error **err)
{
        struct entry no_ns = { .kind = ENTRY_NO_FLAGS, .arg = 0, .mask = clone_mask };
        int r = policy_set_name(p, "clone", no_ns, false, err);
        if (r < 0)
                return r;
        r = policy_set_name(p, "clone3", (struct entry){ .kind = ENTRY_ENOSYS }, false, err);
        if (r < 0)
                return r;
        if (!p->default_allow)
                return 0; /* unshare is not on the strict allow-list at all */
        no_ns.mask = CLONE_NEWUSER;
        return policy_set_name(p, "unshare", no_ns, false, err);
}

/* default: the deny-list; from level medium up, no new user namespaces
 * (the way to the kernel's unprivileged attack surface: nf_tables, mounts
 * of new file systems); at strict, also setns, ptrace and friends. */
static int policy_build_default(struct policy *p, enum sbx_isolation_level level,
                                sbx_error **err)
{
        p->default_allow = true;
        int r = policy_set_list(p, sbx_seccomp_default_deny, sbx_seccomp_default_deny_n,
                                ENTRY_DENY, err);
        if (r < 0)
                return r;
        r = policy_set_common(p, err);
        if (r < 0 || level == SBX_ISOLATION_RELAXED)
                return r;
        r = policy_set_no_userns(p, CLONE_NEWUSER, err);
        if (r < 0 || level != SBX_ISOLATION_STRICT)
                return r;
        return policy_set_list(p, sbx_seccomp_strict_extra_deny, sbx_seccomp_strict_extra_deny_n,
                               ENTRY_DENY, err);
}

static int policy_build_strict(struct policy *p, sbx_error **err)
{
        p->default_allow = false;
        int r = policy_set_list(p, sbx_seccomp_strict_allow, sbx_seccomp_strict_allow_n,
                                ENTRY_ALLOW, err);
        if (r < 0)
                return r;
        r = policy_set_common(p, err);
        if (r < 0)
                return r;
        r = policy_set_name(p, "socket",
                            (struct entry){ .kind = ENTRY_ONLY_VALUES,
                                            .arg = 0,
                                            .values = strict_socket_families,
                                            .n_values = SBX_ARRAY_SIZE(strict_socket_families) },
                            false, err);
        if (r < 0)
                return r;
        return policy_set_no_userns(p, CLONE_NS_FLAGS, err);
}

/* syscalls.allow then syscalls.deny: deny wins over allow, and both win over
 * the built-in lists. */
static int policy_apply_user_lists(struct policy *p, const struct sbx_security *sec,
                                   sbx_error **err)
{
        for (size_t i = 0; i < sec->syscalls_allow.n; i++) {
                const char *name = sec->syscalls_allow.items[i];
                int r = policy_set_name(p, name, (struct entry){ .kind = ENTRY_ALLOW }, true, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "syscalls.allow");
        }
        for (size_t i = 0; i < sec->syscalls_deny.n; i++) {
                const char *name = sec->syscalls_deny.items[i];
                int r = policy_set_name(p, name, (struct entry){ .kind = ENTRY_DENY }, true, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "syscalls.deny");
        }
        return 0;
}

/* The policy file (docs/security.md): one rule a line, `#` comments.
 *   default allow|deny     exactly once
 *   allow NAME / deny NAME
 *   NAME                   an exception to the default (deny when the
 *                          default is allow, allow when it is deny) */
enum file_action {
        FILE_ALLOW,
        FILE_DENY,
        FILE_EXCEPTION,
};

struct file_rule {
        int nr;
        enum file_action action;
};

struct file_parse {
        const char *path;
        unsigned line;
        unsigned default_line; /* 0 = not seen yet */
        bool default_allow;
        struct file_rule *rules;
        size_t n;
};

SBX_DEFINE_CLEANUP(FILE *, fclose)

static int file_add_rule(struct file_parse *fp, const char *name, enum file_action action,
                         sbx_error **err)
{
        int nr = seccomp_syscall_resolve_name(name);

        if (nr == __NR_SCMP_ERROR)
                return sbx_error_set(err, EINVAL, "%s:%u: unknown syscall '%s'", fp->path,
                                     fp->line, name);
        if (nr < 0)
                return 0; /* known, but not on this architecture */
        struct file_rule *n = realloc(fp->rules, (fp->n + 1) * sizeof(*n));
        if (!n)
                return sbx_error_errno(err, ENOMEM, "%s:%u", fp->path, fp->line);
        n[fp->n++] = (struct file_rule){ .nr = nr, .action = action };
        fp->rules = n;
        return 0;
}

static bool is_keyword(const char *w)
{
        return strcmp(w, "allow") == 0 || strcmp(w, "deny") == 0 || strcmp(w, "default") == 0;
}

static int file_parse_default(struct file_parse *fp, const char *value, sbx_error **err)
{
        if (fp->default_line)
                return sbx_error_set(err, EINVAL, "%s:%u: second 'default' line (first at line %u)",
                                     fp->path, fp->line, fp->default_line);
        if (strcmp(value, "allow") != 0 && strcmp(value, "deny") != 0)
                return sbx_error_set(err, EINVAL, "%s:%u: 'default' takes allow or deny, not '%s'",
                                     fp->path, fp->line, value);
        fp->default_line = fp->line;
        fp->default_allow = strcmp(value, "allow") == 0;
        return 0;
}

static int file_parse_line(struct file_parse *fp, char *text, sbx_error **err)
{
        char *words[3], *save = NULL;
        size_t n = 0;

        text[strcspn(text, "#")] = '\0';
        for (char *w = strtok_r(text, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
                if (n == SBX_ARRAY_SIZE(words) - 1)
                        return sbx_error_set(err, EINVAL, "%s:%u: too many words", fp->path,
                                             fp->line);
                words[n++] = w;
        }
        if (n == 0)
                return 0;
        if (n == 1) {
                if (is_keyword(words[0]))
                        return sbx_error_set(err, EINVAL, "%s:%u: '%s' needs a value", fp->path,
                                             fp->line, words[0]);
                return file_add_rule(fp, words[0], FILE_EXCEPTION, err);
        }
        if (strcmp(words[0], "default") == 0)
                return file_parse_default(fp, words[1], err);
        if (strcmp(words[0], "allow") == 0)
                return file_add_rule(fp, words[1], FILE_ALLOW, err);
        if (strcmp(words[0], "deny") == 0)
                return file_add_rule(fp, words[1], FILE_DENY, err);
        return sbx_error_set(err, EINVAL, "%s:%u: unknown action '%s' (expected allow, deny or default)",
                             fp->path, fp->line, words[0]);
}

static int file_parse_stream(struct file_parse *fp, FILE *f, sbx_error **err)
{
        sbx_autofree char *buf = NULL;
        size_t size = 0;

        errno = 0;
        while (getline(&buf, &size, f) >= 0) {
                fp->line++;
                int r = file_parse_line(fp, buf, err);
                if (r < 0)
                        return r;
        }
        if (ferror(f))
                return sbx_error_errno(err, errno ? errno : EIO, "read %s", fp->path);
        if (!fp->default_line)
                return sbx_error_set(err, EINVAL, "%s: no 'default allow' or 'default deny' line",
                                     fp->path);
        return 0;
}

/* Allow rules first, then deny rules: within the file, deny wins too. */
static int policy_from_file_rules(struct policy *p, const struct file_parse *fp)
{
        p->default_allow = fp->default_allow;
        for (int pass = 0; pass < 2; pass++) {
                enum entry_kind kind = pass == 0 ? ENTRY_ALLOW : ENTRY_DENY;
                for (size_t i = 0; i < fp->n; i++) {
                        enum file_action a = fp->rules[i].action;
                        if (a == FILE_EXCEPTION)
                                a = fp->default_allow ? FILE_DENY : FILE_ALLOW;
                        if ((a == FILE_ALLOW) != (kind == ENTRY_ALLOW))
                                continue;
                        struct entry e = { .nr = fp->rules[i].nr, .kind = kind };
                        if (policy_set(p, &e) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

static int policy_build_file(struct policy *p, const char *path, sbx_error **err)
{
        if (!path)
                return sbx_error_set(err, EINVAL, "seccomp: mode 'file' needs security.seccomp_file");

        __attribute__((cleanup(fclosep))) FILE *f = fopen(path, "re");
        if (!f)
                return sbx_error_errno(err, errno, "open %s", path);

        struct file_parse fp = { .path = path };
        int r = file_parse_stream(&fp, f, err);
        if (r >= 0 && policy_from_file_rules(p, &fp) < 0)
                r = sbx_error_errno(err, ENOMEM, "seccomp: policy of %s", path);
        free(fp.rules);
        return r;
}

static int policy_build(const struct sbx_spec *spec, struct policy *p, sbx_error **err)
{
        const struct sbx_security *sec = &spec->security;
        int r;

        switch (sec->seccomp) {
        case SBX_SECCOMP_DEFAULT:
                r = policy_build_default(p, spec->isolation.level, err);
                break;
        case SBX_SECCOMP_STRICT:
                r = policy_build_strict(p, err);
                break;
        case SBX_SECCOMP_FILE:
                r = policy_build_file(p, sec->seccomp_file, err);
                break;
        case SBX_SECCOMP_NONE:
        default:
                return sbx_error_set(err, EINVAL, "seccomp: mode 'none' has no filter");
        }
        if (r < 0)
                return r;
        return policy_apply_user_lists(p, sec, err);
}

static int add_rule(scmp_filter_ctx ctx, uint32_t action, const struct entry *e,
                    unsigned n_cmp, const struct scmp_arg_cmp *cmp, sbx_error **err)
{
        int r = seccomp_rule_add_array(ctx, action, e->nr, n_cmp, cmp);
        if (r < 0) {
                sbx_autofree char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, e->nr);
                return sbx_error_errno(err, -r, "seccomp: add rule for %s",
                                       name ? name : "an unnamed syscall");
        }
        return 0;
}

static int add_masked_rule(scmp_filter_ctx ctx, uint32_t action, const struct entry *e,
                           uint64_t mask, uint64_t datum, sbx_error **err)
{
        struct scmp_arg_cmp cmp = SCMP_CMP(e->arg, SCMP_CMP_MASKED_EQ, mask, datum);
        return add_rule(ctx, action, e, 1, &cmp, err);
}

/* Rules matching every 32-bit value under `prefix` (its top `depth` bits)
 * except those in v[0..n) (sorted, unique, all under prefix): a walk of the
 * binary trie of v that emits one masked compare per missing branch, so at
 * most 32 * n rules, each a single comparison (libseccomp refuses two
 * comparisons of one argument in a rule, and has no "not equal" with mask).
 * Only the low 32 bits are compared, as the kernel reads these arguments as
 * int: a caller cannot slip past with junk in the high half. */
static int add_complement_rules(scmp_filter_ctx ctx, uint32_t action, const struct entry *e,
                                const uint32_t *v, size_t n, unsigned depth, uint32_t prefix,
                                sbx_error **err)
{
        if (n == 0) {
                uint32_t mask = depth == 0 ? 0 : ~0u << (32 - depth);
                return add_masked_rule(ctx, action, e, mask, prefix, err);
        }
        if (depth == 32)
                return 0;
        uint32_t bit = 1u << (31 - depth);
        size_t lo = 0;
        while (lo < n && !(v[lo] & bit))
                lo++;
        int r = add_complement_rules(ctx, action, e, v, lo, depth + 1, prefix, err);
        if (r < 0)
                return r;
        return add_complement_rules(ctx, action, e, v + lo, n - lo, depth + 1, prefix | bit, err);
}

static int add_value_rules(scmp_filter_ctx ctx, uint32_t action, const struct entry *e,
                           sbx_error **err)
{
        for (size_t i = 0; i < e->n_values; i++) {
                int r = add_masked_rule(ctx, action, e, 0xffffffffu, e->values[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_flag_rules(scmp_filter_ctx ctx, bool default_allow, const struct entry *e,
                          sbx_error **err)
{
        if (!default_allow)
                return add_masked_rule(ctx, SCMP_ACT_ALLOW, e, e->mask, 0, err);
        for (unsigned b = 0; b < 64; b++) {
                uint64_t bit = UINT64_C(1) << b;
                if (!(e->mask & bit))
                        continue;
                int r = add_masked_rule(ctx, SCMP_ACT_ERRNO(EPERM), e, bit, bit, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int emit_entry(scmp_filter_ctx ctx, bool default_allow, const struct entry *e,
                      sbx_error **err)
{
        const uint32_t deny = SCMP_ACT_ERRNO(EPERM);

        switch (e->kind) {
        case ENTRY_ALLOW:
                return default_allow ? 0 : add_rule(ctx, SCMP_ACT_ALLOW, e, 0, NULL, err);
        case ENTRY_DENY:
                return default_allow ? add_rule(ctx, deny, e, 0, NULL, err) : 0;
        case ENTRY_ENOSYS:
                return add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), e, 0, NULL, err);
        case ENTRY_ONLY_VALUES:
                if (default_allow)
                        return add_complement_rules(ctx, deny, e, e->values, e->n_values, 0, 0,
                                                    err);
                return add_value_rules(ctx, SCMP_ACT_ALLOW, e, err);
        case ENTRY_EXCEPT_VALUES:
                if (default_allow)
                        return add_value_rules(ctx, deny, e, err);
                return add_complement_rules(ctx, SCMP_ACT_ALLOW, e, e->values, e->n_values, 0,
                                            0, err);
        case ENTRY_NO_FLAGS:
                return add_flag_rules(ctx, default_allow, e, err);
        default:
                return sbx_error_set(err, EINVAL, "seccomp: bad policy entry kind %d", e->kind);
        }
}

static int filter_set_attrs(scmp_filter_ctx ctx, sbx_error **err)
{
        static const struct {
                enum scmp_filter_attr attr;
                uint32_t value;
                const char *what;
        } attrs[] = {
                /* switching ABI (int 0x80, x32) is an attack, not a program to keep alive */
                { SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS, "bad-architecture action" },
                /* loading needs no CAP_SYS_ADMIN once capabilities are dropped */
                { SCMP_FLTATR_CTL_NNP, 1, "no_new_privs on load" },
                { SCMP_FLTATR_CTL_OPTIMIZE, 2, "binary-tree optimisation" },
                { SCMP_FLTATR_API_SYSRAWRC, 1, "raw kernel error codes" },
        };
        for (size_t i = 0; i < SBX_ARRAY_SIZE(attrs); i++) {
                int r = seccomp_attr_set(ctx, attrs[i].attr, attrs[i].value);
                if (r < 0)
                        return sbx_error_errno(err, -r, "seccomp: set %s", attrs[i].what);
        }
        return 0;
}

static int filter_from_policy(const struct policy *p, scmp_filter_ctx *ret_ctx, sbx_error **err)
{
        uint32_t def = p->default_allow ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(EPERM);
        __attribute__((cleanup(seccomp_releasep))) scmp_filter_ctx ctx = seccomp_init(def);

        if (!ctx)
                return sbx_error_set(err, ENOMEM, "seccomp: create filter: out of memory");
        int r = filter_set_attrs(ctx, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n; i++) {
                r = emit_entry(ctx, p->default_allow, &p->entries[i], err);
                if (r < 0)
                        return r;
        }
        *ret_ctx = sbx_steal_ptr(ctx);
        return 0;
}

static int filter_build(const struct sbx_spec *spec, scmp_filter_ctx *ret_ctx, sbx_error **err)
{
        struct policy p = { 0 };
        int r = policy_build(spec, &p, err);
        if (r >= 0)
                r = filter_from_policy(&p, ret_ctx, err);
        policy_free(&p);
        return r;
}

int sbx_seccomp_load(const struct sbx_spec *spec, sbx_error **err)
{
        __attribute__((cleanup(seccomp_releasep))) scmp_filter_ctx ctx = NULL;

        if (spec->security.seccomp == SBX_SECCOMP_NONE)
                return 0;
        int r = filter_build(spec, &ctx, err);
        if (r < 0)
                return r;
        r = seccomp_load(ctx);
        if (r < 0)
                return sbx_error_errno(err, -r, "seccomp: load filter");
        return 0;
}

int sbx_seccomp_export(const struct sbx_spec *spec, int fd, bool pfc, sbx_error **err)
{
        __attribute__((cleanup(seccomp_releasep))) scmp_filter_ctx ctx = NULL;

        if (spec->security.seccomp == SBX_SECCOMP_NONE)
                return 0;
        int r = filter_build(spec, &ctx, err);
        if (r < 0)
                return r;
        r = pfc ? seccomp_export_pfc(ctx, fd) : seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return sbx_error_errno(err, -r, "seccomp: export filter as %s",
                                       pfc ? "PFC" : "BPF");
        return 0;
}

static int read_program(int fd, struct sbx_seccomp_prog *ret, sbx_error **err)
{
        off_t size = lseek(fd, 0, SEEK_END);
        if (size < 0)
                return sbx_error_errno(err, errno, "seccomp: size of the exported filter");
        size_t n = (size_t)size / sizeof(struct sock_filter);
        if (n == 0 || n > BPF_MAXINSNS || (size_t)size % sizeof(struct sock_filter))
                return sbx_error_set(err, EINVAL, "seccomp: exported filter of %lld bytes",
                                     (long long)size);
        struct sock_filter *insns = malloc((size_t)size);
        if (!insns)
                return sbx_error_errno(err, ENOMEM, "seccomp: filter of %zu instructions", n);
        if (pread(fd, insns, (size_t)size, 0) != (ssize_t)size) {
                int e = errno ? errno : EIO;
                free(insns);
                return sbx_error_errno(err, e, "seccomp: read the exported filter");
        }
        ret->len = n;
        ret->insns = insns;
        return 0;
}

int sbx_seccomp_prepare(const struct sbx_spec *spec, struct sbx_seccomp_prog *ret,
                        sbx_error **err)
{
        __attribute__((cleanup(seccomp_releasep))) scmp_filter_ctx ctx = NULL;

        if (spec->security.seccomp == SBX_SECCOMP_NONE) {
                *ret = (struct sbx_seccomp_prog){ 0 };
                return 0;
        }
        int r = filter_build(spec, &ctx, err);
        if (r < 0)
                return r;
        /* libseccomp 2.5 exports to an fd only. */
        sbx_autoclose int fd = memfd_create("sandboxctl-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return sbx_error_errno(err, errno, "seccomp: memfd_create");
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return sbx_error_errno(err, -r, "seccomp: export filter as BPF");
        return read_program(fd, ret, err);
}

int sbx_seccomp_load_prog(const struct sbx_seccomp_prog *prog, sbx_error **err)
{
        if (prog->len == 0)
                return 0;
        /* What seccomp_load() does with SCMP_FLTATR_CTL_NNP set and no
         * TSYNC, SPEC_ALLOW or LOG flag. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return sbx_error_errno(err, errno, "seccomp: set no_new_privs");
        struct sock_fprog fprog = { .len = (unsigned short)prog->len, .filter = prog->insns };
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0)
                return sbx_error_errno(err, errno, "seccomp: load filter");
        return 0;
}

void sbx_seccomp_prog_clear(struct sbx_seccomp_prog *prog)
{
        free(prog->insns);
        *prog = (struct sbx_seccomp_prog){ 0 };
}

int sbx_syscall_check_name(const char *name, sbx_error **err)
{
        if (!name || !*name || seccomp_syscall_resolve_name(name) == __NR_SCMP_ERROR)
                return sbx_error_set(err, EINVAL, "unknown syscall '%s'", name ? name : "");
        return 0;
}
