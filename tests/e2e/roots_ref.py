#!/usr/bin/env python3
"""The kernel's answers for tests/e2e/test_roots_shapes.sh, checked against what tether
printed, from inside the same root, working directory and user:

  roots_ref.py CHROOT CWD UID check < {"root": R, "audit": DOC, "audit_xdev": DOC,
                                       "prune": DOC, "relativize": DOC, "retarget": DOC,
                                       "from": OLD, "to": NEW}
      audit: every link under R with each field as the kernel says (--xdev: on R's
      filesystem); prune -n plans exactly the broken links; relativize -n every absolute
      link that resolves, each new target leading to the same place; retarget -n every
      absolute link under OLD. Prints each disagreement ("roots_ref: ...") and then the
      plans with canonical paths ("plan: ..."), to compare the spellings of one directory.
  roots_ref.py CHROOT CWD UID state
      every link under "/" with its target and where it leads, as JSON.

The reference walk, the status (stat() through the link from its directory) and the
flags (messy and escapes by their definitions) are written here from scratch. UID is
"-" to stay as is. Exits 1 on a disagreement.
"""
import errno
import json
import os
import stat
import sys

STATUS = {0: "ok", errno.ENOENT: "broken", errno.ENOTDIR: "broken", errno.ELOOP: "loop",
          errno.EACCES: "denied", errno.EPERM: "denied"}


def spelled(root):
    """The root as tether spells it: without trailing separators ("/" stays "/")."""
    r = root.rstrip("/")
    return r or "/"


def join(d, name):
    return d + name if d.endswith("/") else d + "/" + name


def lexical(p):
    """An absolute path with "." and ".." taken by name; ".." at "/" stays there."""
    out = []
    for c in p.split("/"):
        if c in ("", "."):
            continue
        if c == "..":
            if out:
                out.pop()
            continue
        out.append(c)
    return "/" + "/".join(out)


def messy(t):
    """Whether t is spelled otherwise than its short form: no empty or "." component,
    ".." only in a leading run, one trailing '/' kept; "." for nothing."""
    absolute = t.startswith("/")
    out, lead = [], 0
    for c in t.split("/"):
        if c in ("", "."):
            continue
        if c == "..":
            if len(out) > lead:
                out.pop()
                continue
            if absolute:
                continue
            lead += 1
        out.append(c)
    short = ("/" if absolute else "") + "/".join(out)
    if t.endswith("/") and len(t) > 1 and out:
        short += "/"
    return (short or ".") != t


def inside(p, root):
    return root == "/" or p == root or p.startswith(root + "/")


def walk(root, xdev):
    """(walked path, directory, name) of every link under root, as find -H lists them."""
    links = []
    top = spelled(root)
    try:
        if stat.S_ISLNK(os.lstat(top).st_mode):
            links.append((top, os.path.dirname(top) or ".", os.path.basename(top)))
        st = os.stat(top)
    except OSError:
        return links
    if not stat.S_ISDIR(st.st_mode):
        return links

    def down(d):
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError:
            return
        for e in entries:
            path = join(d, e.name)
            if e.is_symlink():
                links.append((path, d, e.name))
            elif e.is_dir(follow_symlinks=False):
                if xdev and os.lstat(path).st_dev != st.st_dev:
                    continue
                down(path)

    down(top)
    return links


def canonical(d, name):
    return join(os.path.realpath(d), name)


def kernel(d, name, roots):
    """What the kernel says of the link `name` in directory d."""
    fd = os.open(d, os.O_PATH | os.O_DIRECTORY)
    try:
        target = os.readlink(name, dir_fd=fd)
        try:
            st, err = os.stat(name, dir_fd=fd), 0
        except OSError as e:
            st, err = None, e.errno
        real = os.path.realpath(d)
        norm = lexical(target if target.startswith("/") else real + "/" + target)
        return {
            "status": STATUS.get(err, "error"),
            "errno": errno.errorcode[err] if err else None,
            "target": target,
            "form": "absolute" if target.startswith("/") else "relative",
            "cross_fs": bool(st and st.st_dev != os.fstat(fd).st_dev),
            "escapes": bool(roots) and not any(inside(norm, r) for r in roots),
            "messy": messy(target),
        }
    finally:
        os.close(fd)


problems = []


def problem(msg):
    problems.append(msg)
    print("roots_ref: " + msg)


def check_audit(root, xdev, doc):
    real = os.path.realpath(spelled(root)) if os.path.exists(spelled(root)) else None
    roots = [real] if real else []
    want = {path: kernel(d, name, roots) for path, d, name in walk(root, xdev)}
    got = {l["path"]: l for l in doc["links"]}
    what = "audit --xdev" if xdev else "audit"
    for path in sorted(set(want) - set(got)):
        problem(f"{what} {root}: {path} is missing")
    for path in sorted(set(got) - set(want)):
        problem(f"{what} {root}: {path} is not a link under the root")
    for path in sorted(set(got) & set(want)):
        w, g = want[path], got[path]
        for field, value in w.items():
            if g.get(field) != value:
                problem(f"{what} {root}: {path}: {field} is {g.get(field)!r}, the kernel says {value!r}")


def links_by_canonical(root):
    real = os.path.realpath(spelled(root)) if os.path.exists(spelled(root)) else None
    return {canonical(d, name): (d, name, kernel(d, name, [real] if real else []))
            for _, d, name in walk(root, False)}


def actions(doc):
    """A plan's actions by the canonical path of their link (a plan spells it absolute,
    through a root that is a link as typed)."""
    return {canonical(os.path.dirname(a["path"]), os.path.basename(a["path"])): a
            for a in doc["actions"]}


def check_prune(root, doc):
    want = {p for p, (_, _, k) in links_by_canonical(root).items() if k["status"] == "broken"}
    got = set(actions(doc))
    for p in sorted(want - got):
        problem(f"prune {root}: {p} is broken but not in the plan")
    for p in sorted(got - want):
        problem(f"prune {root}: {p} would be removed but is not broken")


def check_relativize(root, doc):
    links = links_by_canonical(root)
    got = actions(doc)
    for p, (d, name, k) in sorted(links.items()):
        if k["form"] == "absolute" and k["status"] == "ok" and p not in got:
            problem(f"relativize {root}: {p} -> {k['target']} is absolute and resolves, but is not planned")
    for p, a in sorted(got.items()):
        if p not in links or links[p][2]["form"] != "absolute":
            problem(f"relativize {root}: {p} is planned but is no absolute link under the root")
            continue
        d, name, k = links[p]
        if a["target"].startswith("/"):
            problem(f"relativize {root}: {p}: the new target {a['target']} is absolute")
        before = os.path.realpath(join(d, name))
        after = os.path.realpath(join(os.path.realpath(d), a["target"]))
        if before != after:
            problem(f"relativize {root}: {p}: {a['target']} leads to {after}, the link to {before}")


def check_retarget(root, old, new, doc):
    want = {}
    for p, (_, _, k) in links_by_canonical(root).items():
        t = lexical(k["target"]) if k["form"] == "absolute" else None
        if t and inside(t, old):
            want[p] = new + t[len(old):] if old != "/" else lexical(new + t)
    got = {p: a["target"] for p, a in actions(doc).items()}
    for p in sorted(set(want) | set(got)):
        if want.get(p) != got.get(p):
            problem(f"retarget {root}: {p}: planned {got.get(p)!r}, want {want.get(p)!r}")


def print_plan(doc):
    for p, a in sorted(actions(doc).items()):
        print("plan:", p, a["op"], a.get("target"), a.get("old"))


def state():
    """Every link under "/" with its target and where it leads, to compare runs."""
    out = {}
    for path, d, name in walk("/", False):
        out[path] = [os.readlink(path), os.path.realpath(path) if os.path.exists(path) else None]
    json.dump(out, sys.stdout, sort_keys=True, indent=0)


def main():
    chroot, cwd, uid, what = sys.argv[1:5]
    docs = json.load(sys.stdin) if what == "check" else None
    os.chroot(chroot)
    os.chdir("/")
    if uid != "-":
        os.setgroups([])
        os.setgid(int(uid))
        os.setuid(int(uid))
    os.chdir(cwd)
    if what == "state":
        state()
        return
    root = docs["root"]
    check_audit(root, False, docs["audit"])
    if docs.get("audit_xdev"):
        check_audit(root, True, docs["audit_xdev"])
    check_prune(root, docs["prune"])
    check_relativize(root, docs["relativize"])
    check_retarget(root, docs["from"], docs["to"], docs["retarget"])
    for d in ("prune", "relativize", "retarget"):
        print_plan(docs[d])
    sys.exit(1 if problems else 0)


main()
