#!/usr/bin/env python3
"""Compare two trees for the migration tests: every path, its type, mode, mtime (ns),
size, content, link target and hard-link group must match. Absolute link targets under
OLD_PREFIX in the first tree are expected under NEW_PREFIX in the second (inner links are
rewritten by a migration). --ignore NAME leaves out an entry another process put in the
second tree (and directory times, which its arrival changed).
usage: treecmp.py [--ignore NAME] EXPECTED ACTUAL [OLD_PREFIX NEW_PREFIX]"""
import os, stat, sys

ignore = None

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
            if ignore:
                break  # another process wrote somewhere: directory times say nothing then
            st = os.lstat(os.path.join(dirpath, d))
            out[os.path.relpath(os.path.join(dirpath, d), root)].append(st.st_mtime_ns)
    if ignore:
        for k in [k for k in out if os.path.basename(k) == ignore]:
            del out[k]
    return out, sorted(sorted(g) for g in groups.values())

def compare(*args):
    """The differences of treecmp's command line (a list of lines, empty when none)."""
    global ignore
    args = list(args)
    ignore = None
    if args[:1] == ["--ignore"]:
        ignore = args[1]
        del args[:2]
    a, ga = listing(args[0], *(args[2:4] if len(args) > 3 else ()))
    b, gb = listing(args[1])
    bad = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    out = ["differs: %r %s %s" % (k, a.get(k), b.get(k)) for k in bad[:10]]
    if ga != gb:
        out.append("hard-link groups differ: %s %s" % (ga[:5], gb[:5]))
    return out


if __name__ == "__main__":
    differs = compare(*sys.argv[1:])
    for line in differs:
        print(line)
    sys.exit(1 if differs else 0)
