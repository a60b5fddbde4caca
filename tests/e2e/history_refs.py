#!/usr/bin/env python3
"""Runs that name other runs, driven by test_history_refs.sh.

tether apply runs its migrations as runs of their own and names them in its journal;
undoing the apply reverses them too. A history of prunes, applies with one and with two
migrations, and a migration of its own is made afresh for every --keep N of history
--prune (0 to all of it); then every run left is undone, newest first, until there is
nothing left to undo. Whatever N: no kept run loses a journal it names, every undo
either reverses all of its run (an apply's folders are back where they were) or refuses
with exit 3 and changes nothing, and in the end exactly the runs whose journals were
kept are undone. An apply whose own journal cannot be read keeps every migration before
it from being pruned (what it names is not known), and once repaired is undone whole.

Then each journal an apply names is made unreadable in turn (removed, a corrupt line in
the middle, chmod 000 for a user who is not root, writable by others): undo of the
apply, with its id, without one, and with -n, refuses with exit 3, names the journal,
and changes nothing.

usage: history_refs.py [--show]
"""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

from checks import check, finish, run

TETHER = os.environ["TETHER"]
show = "--show" in sys.argv
NOBODY = 65534


class World:
    """A directory with a journal directory of its own, and tether run in it as `user`."""

    def __init__(self, top, user=None):
        self.top, self.user = top, user
        self.state = os.path.join(top, "state")
        self.journals = os.path.join(self.state, "tether", "journal")

    def tether(self, *args):
        cmd = [TETHER] + list(args)
        if self.user is not None:
            cmd = ["setpriv", "--reuid", str(self.user), "--regid", str(self.user), "--clear-groups"] + cmd
        return run(cmd, show, cwd=self.top, env=dict(os.environ, XDG_STATE_HOME=self.state))

    def path(self, rel):
        return os.path.join(self.top, rel)

    def make(self):
        """The trees the runs change, and the runs, oldest first. Returns what each run
        should have changed: id -> a function telling whether it is undone now."""
        for d in ("p1", "p2", "p3", "a1/src", "a2/one", "a2/two", "m3/src", "dest"):
            os.makedirs(self.path(d), exist_ok=True)
        for d in ("a1/src", "a2/one", "a2/two", "m3/src"):
            with open(self.path(d + "/data"), "w") as f:
                f.write(d + "\n")
        if self.user is not None:
            for dirpath, dirs, names in os.walk(self.top):
                for n in dirs + names + ["."]:
                    os.lchown(os.path.join(dirpath, n), self.user, self.user)
        undone = []

        def prune(name):
            os.symlink("gone", self.path(name + "/l"))
            if self.user is not None:
                os.lchown(self.path(name + "/l"), self.user, self.user)
            self.tether("-q", "prune", self.path(name))
            undone.append(lambda: os.path.islink(self.path(name + "/l")))

        def apply(name, folders):
            decl = self.path(name + ".lua")
            with open(decl, "w") as f:
                f.write("return { links = { { path = %r, target = 'x' } }, migrations = { %s } }\n" % (
                    self.path(name + "/link"),
                    ", ".join("{ from = %r, to = %r }" % (self.path(s), self.path("dest/" + s.replace("/", "-")))
                              for s in folders)))
            p = self.tether("-q", "apply", decl)
            check("apply %s ran" % name, p.returncode == 0, p.stderr)
            for s in folders:  # each migration is a run of its own, just before the apply's
                undone.append(lambda s=s: not os.path.islink(self.path(s)) and os.path.isdir(self.path(s)))
            undone.append(lambda: not os.path.lexists(self.path(name + "/link")) and
                          all(not os.path.islink(self.path(s)) for s in folders))

        prune("p1")
        apply("a1", ["a1/src"])
        prune("p2")
        apply("a2", ["a2/one", "a2/two"])
        p = self.tether("-q", "migrate", self.path("m3/src"), self.path("dest/m3"))
        check("the migration of its own ran", p.returncode == 0, p.stderr)
        undone.append(lambda: not os.path.islink(self.path("m3/src")))
        prune("p3")
        runs = self.runs()
        check("every run journaled", len(runs) == len(undone), "%d runs, %d expected" % (len(runs), len(undone)))
        return {r["id"]: u for r, u in zip(runs, undone)}

    def runs(self):
        p = self.tether("--json", "history")
        return json.loads(p.stdout)["runs"]

    def named(self):
        """id -> the ids its journal names (read here, as the file says)."""
        out = {}
        for name in os.listdir(self.journals):
            with open(os.path.join(self.journals, name)) as f:
                head = json.loads(f.readline())
            out[head["id"]] = head.get("migrations", [])
        return out

    def snapshot(self):
        rows = []
        for dirpath, dirs, names in os.walk(self.top):
            if dirpath.startswith(self.state):
                continue
            for n in sorted(dirs + names):
                p = os.path.join(dirpath, n)
                st = os.lstat(p)
                row = (os.path.relpath(p, self.top), stat.S_IFMT(st.st_mode), st.st_ino,
                       os.readlink(p) if stat.S_ISLNK(st.st_mode) else None)
                if stat.S_ISREG(st.st_mode):
                    with open(p, "rb") as f:
                        row += (hashlib.sha256(f.read()).hexdigest(),)
                rows.append(row)
        return sorted(rows)


def keep_every_n(base):
    total = None
    n = 0
    while total is None or n <= total + 1:
        top = os.path.join(base, "keep%d" % n)
        os.makedirs(top)
        w = World(top)
        undone_by = w.make()
        ids = list(undone_by)
        total = len(ids)
        p = w.tether("--json", "history", "--prune", "--keep", str(n))
        check("keep %d: exit 0" % n, p.returncode == 0, p.stderr)
        left = set(w.named())
        for rid, names in w.named().items():
            for m in names:
                check("keep %d: %s keeps the journal of %s that it names" % (n, rid, m), m in left)
        check("keep %d: the newest %d kept" % (n, n), set(ids[max(0, total - n):]) <= left)
        # Undo until there is nothing left: each one whole, or refused with nothing changed.
        for _ in range(total + 1):
            before = w.snapshot()
            p = w.tether("--json", "undo", "--yes")
            if p.returncode == 3 and "nothing to undo" in p.stderr:
                break
            doc = json.loads(p.stdout) if p.stdout.strip() else {}
            if p.returncode != 0:
                check("keep %d: a refused undo changed nothing" % n, w.snapshot() == before and p.returncode == 3,
                      p.stderr)
                check("keep %d: a refused undo says which journal" % n, ".jsonl" in p.stderr, p.stderr)
                break
            rid = doc["id"]
            check("keep %d: undo of %s reversed all of it" % (n, rid), undone_by[rid](), p.stdout)
            for m in w.named().get(rid, []):
                check("keep %d: undo of %s reversed its migration %s" % (n, rid, m), undone_by[m](), p.stdout)
        else:
            check("keep %d: undo came to an end" % n, False)
        for rid in ids:
            want = rid in left
            check("keep %d: %s %s" % (n, rid, "undone" if want else "left as it was (its journal is gone)"),
                  undone_by[rid]() == want)
        n += 1


def damaged(base, how, user):
    """One journal an apply names made unreadable: undo of the apply refuses, naming it."""
    top = os.path.join(base, "damaged-" + how)
    os.makedirs(top)
    if user is not None:
        os.chmod(base, 0o755)
        os.chmod(top, 0o755)
    w = World(top, user)
    undone_by = w.make()
    named = w.named()
    applies = [rid for rid, names in named.items() if names]
    check(how + ": two applies that migrated", len(applies) == 2)
    for apply_id in sorted(applies, reverse=True):
        # The runs newer than the apply go first, so that it is also what a bare undo takes.
        while True:
            p = w.tether("--json", "-n", "undo", "--yes")
            nxt = json.loads(p.stdout).get("id") if p.returncode == 0 else None
            check("%s: the runs before %s undone" % (how, apply_id), nxt is not None, p.stderr)
            if nxt is None or nxt == apply_id:
                break
            w.tether("-q", "undo", "--yes")
        for victim in named[apply_id]:
            file = os.path.join(w.journals, victim + ".jsonl")
            with open(file) as f:
                text = f.read()
            mode = os.stat(file).st_mode
            if how == "missing":
                os.rename(file, file + ".away")
            elif how == "corrupt":
                lines = text.split("\n")
                with open(file, "w") as f:
                    f.write("\n".join(lines[:1] + ["{not json"] + lines[1:]))
            elif how == "unreadable":
                os.chmod(file, 0)
            elif how == "writable":
                os.chmod(file, 0o666)
            before = w.snapshot()
            for args in (["undo", apply_id], ["-n", "undo", apply_id], ["--json", "undo", apply_id], ["undo", "--yes"]):
                p = w.tether(*args)
                name = "%s %s of %s: tether %s" % (how, victim, apply_id, " ".join(args))
                check(name + ": exit 3", p.returncode == 3, p.stdout + p.stderr)
                said = p.stdout if "--json" in args else p.stderr
                check(name + ": names the journal", victim in said and "nothing was undone" in said, said)
                check(name + ": nothing changed", w.snapshot() == before)
            if how == "missing":
                os.rename(file + ".away", file)
            else:
                with open(file, "w") as f:
                    f.write(text)
                os.chmod(file, stat.S_IMODE(mode))
        # Repaired, it undoes as a whole.
        p = w.tether("--json", "undo", "--yes")
        check("%s: %s undone once repaired" % (how, apply_id), p.returncode == 0 and json.loads(p.stdout)["id"] == apply_id,
              p.stderr)
        check("%s: %s undone as a whole" % (how, apply_id),
              undone_by[apply_id]() and all(undone_by[m]() for m in named[apply_id]))
        # Undone, its journal says so: the journals of its migrations are not needed now
        # (the next round's undo of the runs before the older apply would refuse here).
        for m in named[apply_id]:
            os.unlink(os.path.join(w.journals, m + ".jsonl"))


def newest_apply(base, name):
    """A fresh world, and the newest apply in it: its id and its journal."""
    top = os.path.join(base, name)
    os.makedirs(top)
    w = World(top)
    undone_by = w.make()
    named = w.named()
    apply_id = max(rid for rid, names in named.items() if names)
    return w, undone_by, named, apply_id, os.path.join(w.journals, apply_id + ".jsonl")


def apply_unreadable(base):
    """An apply's own journal that cannot be read: what it names is not known, so no
    migration before it is pruned; repaired, it is undone as a whole."""
    w, undone_by, named, apply_id, file = newest_apply(base, "apply-unreadable")
    with open(file) as f:
        text = f.read()
    with open(file, "w") as f:
        f.write(text.replace("\n", "\n{not json\n", 1))
    p = w.tether("history", "--prune", "--keep", "0")
    check("an unreadable apply: history --prune says so (exit 1)", p.returncode == 1 and apply_id in p.stderr, p.stderr)
    left = {n[:-len(".jsonl")] for n in os.listdir(w.journals)}
    migrations = {m for names in named.values() for m in names if m < apply_id}
    check("an unreadable apply: every migration before it kept, and it", left == migrations | {apply_id},
          "left %s, want %s" % (sorted(left), sorted(migrations | {apply_id})))
    check("an unreadable apply: the summary says why", "may name" in p.stdout, p.stdout)
    with open(file, "w") as f:
        f.write(text)
    p = w.tether("--json", "undo", "--yes")
    check("an unreadable apply, repaired: undone as a whole", p.returncode == 0 and json.loads(p.stdout)["id"] == apply_id and
          undone_by[apply_id]() and all(undone_by[m]() for m in named[apply_id]), p.stdout + p.stderr)


def end_not_recorded(base):
    """An apply undone as a whole whose journal cannot take the record that says so (made
    immutable while its migrations were undone): undone all the same, with a warning,
    and not picked again (its migrations' journals still say they are undone)."""
    w, undone_by, named, apply_id, file = newest_apply(base, "end-not-recorded")
    probe = w.path("probe")
    open(probe, "w").close()
    if subprocess.run(["chattr", "+i", probe], capture_output=True).returncode != 0:
        print("skipped: an immutable journal needs chattr +i here")
        return
    subprocess.run(["chattr", "-i", probe])
    for _ in range(2):  # the migration of its own and the prune after it go first
        w.tether("-q", "undo", "--yes")
    os.environ["TETHER_TEST_AT"] = "undo-unlink:begin=chattr +i " + file
    try:
        p = w.tether("--json", "undo", apply_id)
    finally:
        del os.environ["TETHER_TEST_AT"]
        subprocess.run(["chattr", "-i", file])
    check("an end that cannot be recorded: undone, exit 0", p.returncode == 0 and undone_by[apply_id]() and
          all(undone_by[m]() for m in named[apply_id]), p.stdout + p.stderr)
    check("an end that cannot be recorded: said", "its journal could not say so" in p.stderr, p.stderr)
    p = w.tether("--json", "-n", "undo", "--yes")
    check("an end that cannot be recorded: not picked again", p.returncode == 0 and json.loads(p.stdout)["id"] != apply_id,
          p.stdout + p.stderr)


def main():
    base = tempfile.mkdtemp(prefix="tether-refs-")
    try:
        keep_every_n(base)
        apply_unreadable(base)
        if os.geteuid() == 0 and shutil.which("chattr"):
            end_not_recorded(base)
        else:
            print("skipped: an immutable journal needs root and chattr")
        damaged(base, "missing", None)
        damaged(base, "corrupt", None)
        damaged(base, "writable", None)
        if os.geteuid() != 0:
            damaged(base, "unreadable", None)
        elif shutil.which("setpriv"):
            damaged(base, "unreadable", NOBODY)  # root reads a file of mode 000
        else:
            print("skipped: an unreadable journal needs a user who is not root (setpriv)")
    finally:
        subprocess.run(["chmod", "-R", "u+rwX", base])
        shutil.rmtree(base, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
