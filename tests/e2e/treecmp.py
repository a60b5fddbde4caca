#!/usr/bin/env python3
"""Compare two trees for the migration tests: every path, its type, mode, mtime (ns),
size, content, link target and hard-link group must match. Absolute link targets under
OLD_PREFIX in the first tree are expected under NEW_PREFIX in the second (inner links are
rewritten by a migration). usage: treecmp.py EXPECTED ACTUAL [OLD_PREFIX NEW_PREFIX]"""
import os, stat, sys

def listing(root, old=None, new=None):
    out, groups = {}, {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            entry = [stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid]
            if not stat.S_ISDIR(st.st_mode):
                entry.append(st.st_mtime_ns)
            if stat.S_ISLNK(st.st_mode):
                t = os.readlink(p)
                if old and (t == old or t.startswith(old + "/")):
                    t = new + t[len(old):]
                entry.append(t)
            elif stat.S_ISREG(st.st_mode):
                entry.append(st.st_size)
                with open(p, "rb") as f:
                    entry.append(hash(f.read()))
                if st.st_nlink > 1:
                    groups.setdefault((st.st_dev, st.st_ino), []).append(rel)
            out[rel] = entry
        for d in dirs:  # directory mtimes are compared once their contents are final
            st = os.lstat(os.path.join(dirpath, d))
            out[os.path.relpath(os.path.join(dirpath, d), root)].append(st.st_mtime_ns)
    return out, sorted(sorted(g) for g in groups.values())

a, ga = listing(sys.argv[1], *(sys.argv[3:5] if len(sys.argv) > 4 else ()))
b, gb = listing(sys.argv[2])
bad = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
for k in bad[:10]:
    print("differs:", repr(k), a.get(k), b.get(k))
if ga != gb:
    print("hard-link groups differ:", ga[:5], gb[:5])
sys.exit(1 if bad or ga != gb else 0)
