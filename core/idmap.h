/* (device, inode) -> what a tree walk remembers of a file: its hard-link group while
 * copying and verifying, how many of its names were seen while measuring. */
#ifndef TETHER_CORE_IDMAP_H
#define TETHER_CORE_IDMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct tt_idslot {
    uint64_t dev, ino;
    char *path;     /* owned; freed with the map */
    uint64_t count; /* caller's use */
    uint64_t value; /* caller's use */
    int used;
} tt_idslot;

typedef struct tt_idmap {
    tt_idslot *slots;
    size_t cap, n;
} tt_idmap;

/* The slot of (dev, ino): NULL when absent and !add, or when out of memory. */
tt_idslot *tt_idmap_find(tt_idmap *m, uint64_t dev, uint64_t ino, int add);
void tt_idmap_free(tt_idmap *m);

#endif
