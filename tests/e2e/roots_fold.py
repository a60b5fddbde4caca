#!/usr/bin/env python3
"""Repeated and nested roots, driven by test_roots_fold.sh.

Every bulk recipe (prune, prune --loops, relativize, relativize --absolute, retarget,
dedupe, unlink) is run, dry and for real, over every way of naming its roots more than
once: repeated, nested in both orders, spelled differently (./t, t/, $PWD/t, //t, t/.,
t/sub/.., through a linked parent), through a link to the root (inside and outside the
tree), `.`, `..` and relative roots from inside the tree, a link or file given directly
beside its tree, and (as root) the same directory through a bind mount. Each run must
give what the same recipe gives on the roots folded by hand (the first spelling of each
distinct tree): the same exit code, the same JSON actions list and counts, the same
tree afterwards; and its undo must give back the tree exactly (types, link targets,
contents, modes, which names share an inode). dedupe must never pair a file with itself
and count nothing saved for files that are one inode already.

usage: roots_fold.py [--only RECIPE] [--show]
"""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

from checks import check, finish
from checks import run as run_tether

TETHER = os.environ["TETHER"]
TIME = 1_600_000_000
show = "--show" in sys.argv
only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None

top = tempfile.mkdtemp(prefix="tether-fold-")
W = os.path.join(top, "w")
ENV = dict(os.environ, XDG_STATE_HOME=os.path.join(top, "state"))
mounts = []


def build():
    """The same tree, at the same place, every time: something for each recipe to do."""
    t = os.path.join(W, "t")
    # t itself stays (a bind mount of it must see the new tree); what is in it goes.
    for d in (W, t):
        for name in os.listdir(d) if os.path.isdir(d) else []:
            p = os.path.join(d, name)
            if os.path.islink(p) or not os.path.isdir(p):
                os.unlink(p)
            elif p != t and p not in mounts:
                shutil.rmtree(p)
    for d in ("t/sub/deeper", "t/hl", "t2/sub"):
        os.makedirs(os.path.join(W, d), exist_ok=True)
    files = {"t/a": "same\n", "t/b": "same\n", "t/sub/a2": "same\n", "t/c": "other\n",
             "t/sub/deeper/c2": "other\n", "t/hl/x": "one inode\n", "t2/a": "new\n"}
    for rel, text in files.items():
        with open(os.path.join(W, rel), "w") as f:
            f.write(text)
    os.link(os.path.join(t, "hl/x"), os.path.join(t, "hl/y"))  # one file, two names
    links = {"t/broken": "nowhere", "t/sub/broken2": "../gone", "t/sub/deeper/broken3": "../../x/y",
             "t/abs": t + "/a", "t/sub/absdir": t + "/sub", "t/rel": "a", "t/self": ".",
             "t/loop1": "loop2", "t/loop2": "loop1", "L": "t", "P": "."}
    for rel, target in links.items():
        os.symlink(target, os.path.join(W, rel))
    for dirpath, dirs, names in os.walk(W):
        for n in names:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                os.utime(p, (TIME, TIME))


def snapshot():
    """Every path under W: type, link target, content, mode, and which names share an inode."""
    out, groups = [], {}
    for dirpath, dirs, names, dfd in os.fwalk(W):
        for name in sorted(dirs + names):
            rel = os.path.relpath(os.path.join(dirpath, name), W)
            st = os.lstat(name, dir_fd=dfd)
            row = [rel, stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode)]
            if stat.S_ISLNK(st.st_mode):
                row.append(os.readlink(name, dir_fd=dfd))
            elif stat.S_ISREG(st.st_mode):
                with open(os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dfd), "rb") as f:
                    row.append(hashlib.sha256(f.read()).hexdigest())
                groups.setdefault((st.st_dev, st.st_ino), []).append(rel)
            out.append(tuple(row))
    return sorted(out), sorted(sorted(g) for g in groups.values())


def tether(cwd, args):
    return run_tether([TETHER] + args, show, cwd=os.path.join(W, cwd), env=ENV)


def run(recipe, cwd, roots):
    """A recipe dry, then for real, then undone: what each gave."""
    build()
    before = snapshot()
    extra = {"retarget": ["--from", W + "/t", "--to", W + "/t2"]}.get(recipe[0], [])
    dry = tether(cwd, ["--json", "-n"] + recipe + extra + ["--"] + roots)
    after_dry = snapshot()
    real = tether(cwd, ["--json"] + recipe + extra + ["--"] + roots)
    after = snapshot()
    doc = json.loads(real.stdout) if real.stdout.strip() else {}
    undo = tether(cwd, ["--json", "undo", doc["id"]]) if doc.get("id") else None
    return {"dry": dry, "dry_doc": json.loads(dry.stdout) if dry.stdout.strip() else {}, "same_dry": after_dry == before,
            "real": real, "doc": doc, "after": after, "undo": undo, "undone": snapshot() == before}


def essence(doc):
    """What must match between a run and its folded form: the actions and the counts."""
    keys = ("changed", "dry", "done", "skipped", "failed", "bytes_saved", "duplicates", "scanned", "exit", "actions")
    return {k: doc.get(k) for k in keys}


TREE_RECIPES = [["prune"], ["prune", "--loops"], ["relativize"], ["relativize", "--absolute"], ["retarget"], ["dedupe"]]
# (cwd under W, roots as given, the same roots folded by hand, recipes it leaves out).
# L (outside the tree) -> t is itself a relative link: relativize --absolute rewrites it
# when it is a root of its own, so [t, L] is not the same as [t] for that one.
TREE_CASES = [
    ("", ["t", "t"], ["t"], []),
    ("", ["t", "t/sub"], ["t"], []),
    ("", ["t/sub", "t"], ["t"], []),
    ("", ["t/sub/deeper", "t/sub", "t"], ["t"], []),
    ("", ["t", "./t", "t/", "W/t", "/W/t", "t/.", "t/sub/..", "P/t", "P/P/t/"], ["t"], []),
    ("", ["./t", "t"], ["./t"], []),
    ("", ["t", "t/self"], ["t"], []),
    ("", ["t/self", "t"], ["t/self"], []),
    # (relativize --absolute of a link root and what is below it is refused as a whole
    # on its own already: the plan cannot tell what lies below a link it changes.)
    ("", ["L", "t", "L/sub"], ["L"], [["relativize", "--absolute"]]),
    ("", ["t", "L"], ["t"], [["relativize", "--absolute"]]),
    ("t", [".", "sub", "W/t", "../t/sub/deeper"], ["."], []),
    ("t/sub", ["..", ".", "deeper", "../../t"], [".."], []),
    ("t/sub", ["../sub", ".", "../../t/sub/"], ["../sub"], []),
    ("", ["t/sub", "P/t"], ["P/t"], []),
    ("", ["t/broken", "t", "./t/broken"], ["t"], []),
    ("", ["t/a", "t", "t/hl/y"], ["t"], []),
    ("", ["t/broken", "./t/broken", "t/broken/", "L/broken", "P/t/broken"], ["t/broken"], []),
    ("", ["t/a", "./t/a", "t/sub/../a", "t/b", "L/b"], ["t/a", "t/b"], []),
    ("", ["t/hl/x", "t/hl/y", "t/hl"], ["t/hl"], []),
]
UNLINK_CASES = [
    ("", ["t/broken", "./t/broken", "t/broken/", "W/t/broken", "L/broken", "P/t/broken", "t/sub/../broken"], ["t/broken"], []),
    ("", ["t/broken", "t/sub/broken2", "t/broken", "L/sub/broken2"], ["t/broken", "t/sub/broken2"], []),
    ("t", ["broken", "../t/broken", "./broken", "sub/../broken"], ["broken"], []),
]


def spelled(roots):
    return [r.replace("W/", W + "/", 1) if r.startswith("W/") else
            ("/" + W + r[2:]) if r.startswith("/W/") else r for r in roots]


references = {}


def compare(recipe, cwd, roots, folded):
    name = "%s %s (in %s) as %s" % (" ".join(recipe), " ".join(roots), cwd or ".", " ".join(folded))
    key = (tuple(recipe), cwd, tuple(folded), tuple(mounts))
    if key not in references:
        references[key] = ref = run(recipe, cwd, spelled(folded))
        check("reference %s: exit 0 or 1" % name, ref["real"].returncode in (0, 1), ref["real"].stderr)
        check("reference %s: undo restores the tree" % name, ref["undone"], ref["undo"] and ref["undo"].stderr)
    ref = references[key]
    got = run(recipe, cwd, spelled(roots))
    check(name + ": dry run changes nothing", got["same_dry"])
    check(name + ": dry run exit", got["dry"].returncode == ref["dry"].returncode,
          "%d, not %d: %s" % (got["dry"].returncode, ref["dry"].returncode, got["dry"].stderr))
    check(name + ": dry run plans the same", essence(got["dry_doc"]) == essence(ref["dry_doc"]),
          "got %s\n  want %s" % (essence(got["dry_doc"]), essence(ref["dry_doc"])))
    check(name + ": exit", got["real"].returncode == ref["real"].returncode,
          "%d, not %d: %s" % (got["real"].returncode, ref["real"].returncode, got["real"].stderr))
    check(name + ": the same actions", essence(got["doc"]) == essence(ref["doc"]),
          "got %s\n  want %s" % (essence(got["doc"]), essence(ref["doc"])))
    check(name + ": the same tree afterwards", got["after"] == ref["after"])
    check(name + ": undo gives the tree back", got["undone"], got["undo"] and got["undo"].stderr)
    if got["doc"].get("id"):
        check(name + ": undo exit 0", got["undo"].returncode == 0, got["undo"].stderr)
    if recipe[0] == "dedupe":
        for doc in (got["dry_doc"], got["doc"]):
            selfish = [a for a in doc.get("actions", []) if a["path"] == a.get("existing")]
            check(name + ": no file paired with itself", not selfish, str(selfish))


def dedupe_one_inode():
    """Names of one inode are not duplicates: nothing to save, no journal."""
    for cwd, roots in [("", ["t/hl"]), ("", ["t/hl/x", "t/hl/y"]), ("", ["t/hl", "t/hl/x", "./t/hl/y", "L/hl"]),
                       ("t/hl", [".", "x", "y"])]:
        build()
        before = snapshot()
        p = tether(cwd, ["--json", "dedupe"] + roots)
        doc = json.loads(p.stdout)
        check("dedupe %s: one inode, nothing to save" % " ".join(roots),
              (p.returncode, doc["duplicates"], doc["bytes_saved"], doc["actions"], doc.get("id"), doc["changed"]) ==
              (0, 0, 0, [], None, False), p.stdout + p.stderr)
        check("dedupe %s: nothing changed" % " ".join(roots), snapshot() == before)


def bind_mounts():
    """The same directory through a bind mount is one root; inside one root, a file
    reached twice through a bind mount is still one file for dedupe."""
    b = os.path.join(W, "B")
    build()
    os.makedirs(b, exist_ok=True)
    if subprocess.run(["mount", "--bind", os.path.join(W, "t"), b], capture_output=True).returncode != 0:
        print("skipped: bind mounts (mount --bind failed)")
        os.rmdir(b)
        return
    mounts.append(b)
    for recipe in TREE_RECIPES:
        if only and recipe[0] != only:
            continue
        for cwd, roots, folded in [("", ["t", "B"], ["t"]), ("", ["B/sub", "t"], ["t"]), ("", ["B", "t/sub", "./B/"], ["B"])]:
            compare(recipe, cwd, roots, folded)
    if not only or only == "unlink":
        compare(["unlink"], "", ["t/broken", "B/broken", "./B/broken"], ["t/broken"])
    if not only or only == "dedupe":
        inner = os.path.join(W, "t", "mnt")
        os.makedirs(inner)
        if subprocess.run(["mount", "--bind", os.path.join(W, "t", "sub"), inner], capture_output=True).returncode == 0:
            mounts.append(inner)
            p = tether("", ["--json", "dedupe", "-n", "t"])
            doc = json.loads(p.stdout)
            selfish = [a for a in doc["actions"] if os.path.realpath(a["path"]) == os.path.realpath(a["existing"]) or
                       os.stat(a["path"]).st_ino == os.stat(a["existing"]).st_ino]
            check("dedupe over a bind mount inside the tree: no file paired with itself", not selfish, str(selfish))
            check("dedupe over a bind mount inside the tree: each copy once", doc["duplicates"] == 3, p.stdout)
            subprocess.run(["umount", inner], check=True)
            mounts.remove(inner)
        os.rmdir(inner)
    subprocess.run(["umount", b], check=True)
    mounts.remove(b)
    os.rmdir(b)


def main():
    try:
        os.makedirs(W)
        for recipe in TREE_RECIPES:
            if only and recipe[0] != only:
                continue
            for cwd, roots, folded, leave_out in TREE_CASES:
                if recipe not in leave_out:
                    compare(recipe, cwd, roots, folded)
        if not only or only == "unlink":
            for cwd, roots, folded, _ in UNLINK_CASES:
                compare(["unlink"], cwd, roots, folded)
        if not only or only == "dedupe":
            dedupe_one_inode()
        if os.geteuid() == 0:
            bind_mounts()
        else:
            print("skipped: bind mounts need root")
    finally:
        for m in reversed(mounts):
            subprocess.run(["umount", m])
        shutil.rmtree(top, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
