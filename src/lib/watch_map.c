/* watch_map: the string-keyed hash table of the watch module. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/lib/watch_internal.h"

static uint64_t hash_string(const char *s)
{
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */
        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= 1099511628211ULL;
        }
        return h;
}

static struct sbx_strmap_entry *slot_of(struct sbx_strmap_entry *slots, size_t cap, const char *key)
{
        size_t i = hash_string(key) & (cap - 1);
        while (slots[i].key && strcmp(slots[i].key, key) != 0)
                i = (i + 1) & (cap - 1);
        return &slots[i];
}

struct sbx_strmap_entry *sbx_strmap_find(const struct sbx_strmap *m, const char *key)
{
        if (m->cap == 0)
                return NULL;
        struct sbx_strmap_entry *e = slot_of(m->slots, m->cap, key);
        return e->key ? e : NULL;
}

static int strmap_grow(struct sbx_strmap *m)
{
        size_t cap = m->cap ? m->cap * 2 : 16;
        struct sbx_strmap_entry *slots = calloc(cap, sizeof(*slots));
        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < m->cap; i++)
                if (m->slots[i].key)
                        *slot_of(slots, cap, m->slots[i].key) = m->slots[i];
        free(m->slots);
        m->slots = slots;
        m->cap = cap;
        return 0;
}

struct sbx_strmap_entry *sbx_strmap_insert(struct sbx_strmap *m, const char *key, bool *ret_new)
{
        struct sbx_strmap_entry *e = sbx_strmap_find(m, key);
        if (e) {
                *ret_new = false;
                return e;
        }
        if ((m->n + 1) * 4 > m->cap * 3 && strmap_grow(m) < 0)
                return NULL;
        char *copy = strdup(key);
        if (!copy)
                return NULL;
        e = slot_of(m->slots, m->cap, key);
        *e = (struct sbx_strmap_entry){ .key = copy };
        m->n++;
        *ret_new = true;
        return e;
}

void sbx_strmap_clear(struct sbx_strmap *m, void (*free_value)(void *))
{
        for (size_t i = 0; i < m->cap; i++) {
                free(m->slots[i].key);
                if (free_value && m->slots[i].value)
                        free_value(m->slots[i].value);
        }
        free(m->slots);
        *m = (struct sbx_strmap){ 0 };
}

char *sbx_watch_join(const char *dir, const char *name)
{
        char *s = NULL;
        if (!*dir)
                return strdup(name);
        if (asprintf(&s, "%s/%s", dir, name) < 0)
                return NULL;
        return s;
}
