/* The baselines for bench/symlinks.sh: the plain C loop a programmer would write,
 * symlink() per name and nothing else; and (verify) the C loop that does what
 * tether.symlink promises: the directory opened once (O_PATH, not following a link),
 * then per name symlinkat() from it, readlinkat() to check the link names the target
 * (safety rule 4) and fstatat() for the identity of what was made (what a journal
 * keeps). usage: symlink_loop DIR N [verify] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s DIR N [verify]\n", argv[0]);
        return 2;
    }
    long n = atol(argv[2]);
    int verify = argc > 3 && strcmp(argv[3], "verify") == 0;
    int dir = -1;
    if (verify && (dir = open(argv[1], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        perror(argv[1]);
        return 1;
    }
    char path[4096], name[64], target[64], back[512];
    for (long i = 0; i < n; i++) {
        snprintf(target, sizeof target, "target-%ld", i);
        if (!verify) {
            snprintf(path, sizeof path, "%s/l%ld", argv[1], i);
            if (symlink(target, path) != 0) {
                perror(path);
                return 1;
            }
            continue;
        }
        snprintf(name, sizeof name, "l%ld", i);
        struct stat st;
        if (symlinkat(target, dir, name) != 0) {
            perror(name);
            return 1;
        }
        ssize_t len = readlinkat(dir, name, back, sizeof back);
        if (len < 0 || (size_t)len != strlen(target) || memcmp(back, target, (size_t)len) ||
            fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode)) {
            fprintf(stderr, "%s: reads back wrong\n", name);
            return 1;
        }
    }
    if (dir >= 0) close(dir);
    return 0;
}
