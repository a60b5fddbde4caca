#!/usr/bin/env python3
"""For tests/e2e/test_roots_real.sh: tether's view of a whole root filesystem against
find's, where the tree held still.

  roots_find.py [--chroot DIR] FIND1 FIND2 AUDIT_JSON [PRUNE_JSON]

FIND1 and FIND2 are `find / -xdev -xtype l` run before and after tether: a link in one
and not the other changed meanwhile and is left out, and so is everything under /tmp,
/var/tmp, /run, /dev/shm and /proc, where other tests work. The links audit calls
anything but ok must be those find lists; the links prune -n plans to remove must be
those among them whose stat() gives ENOENT or ENOTDIR (in DIR as "/", when given: the
files are read first). Prints each disagreement.
"""
import errno
import json
import os
import sys

VOLATILE = ("/tmp/", "/var/tmp/", "/run/", "/dev/shm/", "/proc/")


def lines(path):
    with open(path) as f:
        return set(f.read().split("\n")) - {""}


def broken(p):
    try:
        os.stat(p)
    except OSError as e:
        return e.errno in (errno.ENOENT, errno.ENOTDIR)
    return False


def main():
    args = sys.argv[1:]
    root = None
    if args[0] == "--chroot":
        root, args = args[1], args[2:]
    find1, find2 = lines(args[0]), lines(args[1])
    with open(args[2]) as f:
        audit = {l["path"]: l["status"] for l in json.load(f)["links"]}
    planned = None
    if len(args) > 3:
        with open(args[3]) as f:
            planned = {a["path"] for a in json.load(f)["actions"]}
    if root:
        os.chroot(root)
        os.chdir("/")

    def stable(p):
        return not p.startswith(VOLATILE) and (p in find1) == (p in find2)

    bad = {p for p, status in audit.items() if status != "ok"}
    for p in sorted(p for p in bad ^ find1 if stable(p)):
        print("audit says %s, find -xtype l %s: %s"
              % (audit.get(p, "nothing"), "lists it" if p in find1 else "does not", p))
    if planned is not None:
        want = {p for p in find1 if broken(p)}
        for p in sorted(p for p in planned ^ want if stable(p)):
            print("prune -n %s %s" % ("plans to remove" if p in planned else "leaves", p))


main()
