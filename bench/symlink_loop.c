/* The baseline for bench/symlinks.sh: the plain C loop a programmer would write,
 * symlink() per name and nothing else (with "verify", also read each link back, which
 * is what tether does for safety rule 4). usage: symlink_loop DIR N [verify] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s DIR N [verify]\n", argv[0]);
        return 2;
    }
    long n = atol(argv[2]);
    int verify = argc > 3 && strcmp(argv[3], "verify") == 0;
    char path[4096], target[64], back[64];
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/l%ld", argv[1], i);
        snprintf(target, sizeof target, "target-%ld", i);
        if (symlink(target, path) != 0) {
            perror(path);
            return 1;
        }
        if (verify) {
            ssize_t len = readlink(path, back, sizeof back);
            if (len < 0 || (size_t)len != strlen(target) || memcmp(back, target, (size_t)len)) {
                fprintf(stderr, "%s: reads back wrong\n", path);
                return 1;
            }
        }
    }
    return 0;
}
