#!/usr/bin/env python3
"""Test trees for the benchmarks, the same every time for a given seed.

  gen.py links ROOT [ENTRIES=200000] [SEED=1]
      a tree for audit, prune and relativize: about 8% directories, 72% small files, 17%
      symlinks (to files and directories, half relative, one in ten dangling), 3% hard
      links, and a two-link loop at the top.
  gen.py data ROOT [SMALL=20000] [LARGE=10] [LARGE_MB=30]
      a tree to migrate: SMALL files of 0-16 KiB in 97x13 directories, LARGE files of
      LARGE_MB MiB, 200 relative links and 200 hard links inside.
  gen.py dupes ROOT [FILES=20000] [SHARE=0.3] [SEED=5]
      a tree to dedupe: FILES files from empty to 2 MiB (most under 64 KiB) in 50x7
      directories; SHARE of them
      exact copies of earlier ones, 5% near copies (same size, one byte changed at the start,
      the middle or the end) so that no shortcut on size or a prefix pays off.

Prints what it made."""
import os
import random
import sys


def links(root, n=200000, seed=1):
    rnd = random.Random(seed)
    os.makedirs(root, exist_ok=True)
    dirs, files = [root], []
    made = dict(dirs=0, files=0, links=0, dangling=0, hard=0)
    for i in range(n):
        # Mostly near the newest directories, as real trees grow.
        parent = rnd.choice(dirs[-150:]) if rnd.random() < 0.9 else rnd.choice(dirs)
        path = os.path.join(parent, "n%d" % i)
        kind = rnd.random()
        if kind < 0.08 and len(dirs) < n // 10:
            os.mkdir(path)
            dirs.append(path)
            made["dirs"] += 1
        elif kind < 0.80 or not files:
            with open(path, "wb") as f:
                f.write(bytes(rnd.randrange(256) for _ in range(rnd.randrange(65))))
            files.append(path)
            made["files"] += 1
        elif kind < 0.97:
            target = rnd.choice(files) if rnd.random() < 0.75 else rnd.choice(dirs)
            if rnd.random() < 0.1:
                target += ".missing"
                made["dangling"] += 1
            if rnd.random() < 0.5:
                target = os.path.relpath(target, parent)
            os.symlink(target, path)
            made["links"] += 1
        else:
            os.link(rnd.choice(files), path)
            made["hard"] += 1
    os.symlink("loop-2", os.path.join(root, "loop-1"))
    os.symlink("loop-1", os.path.join(root, "loop-2"))
    made["links"] += 2
    return made


def data(root, small=20000, large=10, large_mb=30):
    rnd = random.Random(11)
    os.makedirs(root, exist_ok=True)
    files = []
    for i in range(small):
        d = os.path.join(root, "a%d" % (i % 97), "b%d" % (i % 13))
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "file%d" % i)
        with open(path, "wb") as f:
            f.write(os.urandom(rnd.randrange(16385)))
        files.append(path)
    chunk = os.urandom(1 << 20)
    for i in range(large):
        with open(os.path.join(root, "large%d" % i), "wb") as f:
            for _ in range(large_mb):
                f.write(chunk)
    for i in range(200):
        d = os.path.join(root, "a%d" % (i % 97))
        os.symlink(os.path.relpath(rnd.choice(files), d), os.path.join(d, "rel%d" % i))
        os.link(rnd.choice(files), os.path.join(d, "same%d" % i))
    return dict(small=small, large=large, large_mb=large_mb, links=200, hard=200)


def dupes(root, n=20000, share=0.3, seed=5):
    rnd = random.Random(seed)
    made = dict(files=0, copies=0, near=0, copied_bytes=0)
    earlier = []
    for i in range(n):
        d = os.path.join(root, "p%d" % (i % 50), "q%d" % (i % 7))
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "f%d" % i)
        kind = rnd.random()
        if earlier and kind < share:
            with open(rnd.choice(earlier), "rb") as f:
                content = f.read()
            made["copies"] += 1
            made["copied_bytes"] += len(content)
        elif earlier and kind < share + 0.05:
            with open(rnd.choice(earlier), "rb") as f:
                content = bytearray(f.read())
            if content:
                at = rnd.choice((0, len(content) // 2, len(content) - 1))
                content[at] ^= 0x5A
            content = bytes(content)
            made["near"] += 1
        else:
            size = rnd.choice((0, rnd.randrange(1, 4096), rnd.randrange(4096, 65536),
                               rnd.randrange(65536, 2 << 20) if rnd.random() < 0.05 else 100))
            content = os.urandom(size)
            earlier.append(path)
        with open(path, "wb") as f:
            f.write(content)
        made["files"] += 1
    return made


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("links", "data", "dupes"):
        sys.exit(__doc__)
    kind, root = sys.argv[1], os.path.abspath(sys.argv[2])
    numbers = [float(a) if "." in a else int(a) for a in sys.argv[3:]]
    print({"links": links, "data": data, "dupes": dupes}[kind](root, *numbers))
