#!/usr/bin/env python3
"""Compare two trees for the migration tests: every path, its type, mode, mtime (ns),
size, content, link target and hard-link group must match. Absolute link targets under
OLD_PREFIX in the first tree are expected under NEW_PREFIX in the second (inner links are
rewritten by a migration). --ignore NAME leaves out an entry another process put in the
second tree (and directory times, which its arrival changed).
EXPECTED may be a listing saved earlier (for trees too deep for cp to copy).
usage: treecmp.py [--ignore NAME] EXPECTED ACTUAL [OLD_PREFIX NEW_PREFIX]
       treecmp.py --save TREE FILE"""
import hashlib, json, os, stat, sys

ignore = None

def listing(root, old=None, new=None):
    """Every entry below ROOT (reached from directory handles, so depth is no limit)."""
    out, groups = {}, {}
    for dirpath, dirs, files, dfd in os.fwalk(root):
        rel_dir = os.path.relpath(dirpath, root)
        for name in dirs + files:
            rel = os.path.normpath(os.path.join(rel_dir, name))
            st = os.lstat(name, dir_fd=dfd)
            entry = [stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid]
            if not stat.S_ISDIR(st.st_mode) or not ignore:
                entry.append(st.st_mtime_ns)  # directory times say nothing when another wrote
            if stat.S_ISLNK(st.st_mode):
                t = os.readlink(name, dir_fd=dfd)
                if old and (t == old or t.startswith(old + "/")):
                    t = new + t[len(old):]
                entry.append(t)
            elif stat.S_ISREG(st.st_mode):
                entry.append(st.st_size)
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dfd)
                with os.fdopen(fd, "rb") as f:
                    entry.append(hashlib.sha256(f.read()).hexdigest())
                if st.st_nlink > 1:
                    groups.setdefault("%d:%d" % (st.st_dev, st.st_ino), []).append(rel)
            out[rel] = entry
    if ignore:
        for k in [k for k in out if os.path.basename(k) == ignore]:
            del out[k]
    return out, sorted(sorted(g) for g in groups.values())

def load(path, *prefixes):
    """A tree's listing, or one saved earlier with --save (a JSON file)."""
    if os.path.isfile(path):
        with open(path) as f:
            saved = json.load(f)
        return saved["entries"], saved["groups"]
    return listing(path, *prefixes)

def compare(*args):
    """The differences of treecmp's command line (a list of lines, empty when none)."""
    global ignore
    args = list(args)
    ignore = None
    if args[:1] == ["--ignore"]:
        ignore = args[1]
        del args[:2]
    a, ga = load(args[0], *(args[2:4] if len(args) > 3 else ()))
    b, gb = load(args[1])
    bad = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    out = ["differs: %r %s %s" % (k, a.get(k), b.get(k)) for k in bad[:10]]
    if ga != gb:
        out.append("hard-link groups differ: %s %s" % (ga[:5], gb[:5]))
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["--save"]:
        entries, groups = listing(sys.argv[2])
        with open(sys.argv[3], "w") as f:
            json.dump({"entries": entries, "groups": groups}, f)
        sys.exit(0)
    differs = compare(*sys.argv[1:])
    for line in differs:
        print(line)
    sys.exit(1 if differs else 0)
