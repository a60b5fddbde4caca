/* An open-addressing hash table, doubled when half full. */
#include "idmap.h"

#include <stdlib.h>

tt_idslot *tt_idmap_find(tt_idmap *m, uint64_t dev, uint64_t ino, int add)
{
    if (add && (m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        tt_idmap bigger = {calloc(cap, sizeof *m->slots), cap, 0};
        if (!bigger.slots) return NULL;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].used) continue;
            *tt_idmap_find(&bigger, m->slots[i].dev, m->slots[i].ino, 1) = m->slots[i];
        }
        free(m->slots);
        *m = bigger;
    }
    if (!m->cap) return NULL;
    size_t i = (size_t)((dev * 0x9E3779B97F4A7C15ull) ^ ino) & (m->cap - 1);
    while (m->slots[i].used && !(m->slots[i].dev == dev && m->slots[i].ino == ino))
        i = (i + 1) & (m->cap - 1);
    if (!m->slots[i].used && !add) return NULL;
    if (!m->slots[i].used) {
        m->slots[i].used = 1;
        m->slots[i].dev = dev;
        m->slots[i].ino = ino;
        m->n++;
    }
    return &m->slots[i];
}

void tt_idmap_free(tt_idmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].path);
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}
