#!/usr/bin/env python3
"""History is an undo stack (safety contract, rule 11), checked on random histories.

A history is a random sequence of every command that changes a tree (link, link
--relative, --hard, --replace, unlink, retarget both ways, relativize both ways, prune,
dedupe, farm link/unlink/relink, farm --adopt, the stow form, migrate to another
filesystem and on the same one, apply, a user's `tether run` script that builds a plan
with tether.plan, their dry runs, and invalid ones that must be refused) with undos in
between, then `tether undo --yes` until nothing is left. It runs on a sandbox (files,
directories, absolute and relative links, dangling links and a loop, duplicates, a
hard-link group, a stow directory with packages and a target, a directory on /dev/shm,
another filesystem) with journals under a private XDG_STATE_HOME. After every step the
sandbox and `tether history --json` are checked against a model, a stack of (run,
snapshot of the sandbox before it):

  - a command that changed the sandbox recorded one run (its --json "id"), and says
    "changed": true; its pre-state is pushed. One that exits 3 (refused) or 2 (usage),
    or runs dry (-n), changed nothing and recorded no run; one that changed nothing
    recorded no run. Exit 4 (part-way) is a run like any other: its undo restores the
    pre-state. An invalid command is refused. Nothing named .tether-* is left behind;
  - `tether undo --yes` (and `tether undo`, `tether undo --yes last`) undoes the top of
    the stack, and the sandbox then equals, entry for entry, the snapshot pushed with it:
    types, link targets, contents, modes, which names share an inode (not the inode
    numbers); with the stack empty it says there is nothing to undo (exit 3) and changes
    nothing; `tether undo -n` changes nothing and names the top of the stack;
  - an apply that succeeded, applied again at once, changes nothing (exit 0, "changed":
    false, no run);
  - `tether history --json` lists exactly the runs of the model (and the migrations an
    apply ran), every one readable, those undone as undone and no other;
  - `tether --json run SCRIPT` of a plan-making script reports as a recipe does
    ("changed", and "id" when it changed something).
A traceback, a sanitizer report or "internal error" fails any step.

Each history is made from a seed. A failure prints the seed, the history, and the
history cut down (delta debugging: steps, then sandbox entries, dropped while the same
check still fails) as shell commands to paste.

Environment:
  TETHER                 the binary
  TETHER_MODEL_SECONDS   start new histories for this long (default 40, the CI budget;
                         a history started runs to its end)
  TETHER_MODEL_SEEDS     the first seed (default 1: CI runs the same histories each time;
                         "random" picks one); histories use it, it+1, ...
  TETHER_MODEL_SEED      run the one history of this seed (to repeat a failure, with the
                         same TETHER_MODEL_STEPS, _ONLY and _SKIP)
  TETHER_MODEL_STEPS     steps in a history before the final undos (default 24)
  TETHER_MODEL_ONLY      comma-separated kinds to use (and undo); TETHER_MODEL_SKIP
                         kinds to leave out (the kinds are listed in KINDS below), to look
                         past a known failure
  TETHER_MODEL_MINIMIZE_SECONDS  time for cutting down each failure (default 120; 0: none)
  TETHER_MODEL_ALL       1: go on after failures with the next seed until the time is up
                         (default: the first failing history ends the run)
  TETHER_MODEL_VERBOSE   1: print each command and its exit code as it runs
Longer by hand, e.g.:
  TETHER=build/tether TETHER_MODEL_SECONDS=600 TETHER_MODEL_SEEDS=random \\
      TETHER_MODEL_ALL=1 python3 tests/e2e/history_model.py
Exit status 1 when any history failed a check."""
import hashlib
import json
import os
import random
import shutil
import stat
import subprocess
import sys
import tempfile
import time

from checks import changes

TETHER = os.path.abspath(os.environ["TETHER"])
VERBOSE = os.environ.get("TETHER_MODEL_VERBOSE") == "1"
BUGS = ("Sanitizer", "runtime error:", "stack traceback", "internal error")
MTIME = 1_600_000_000  # every file the sandbox starts with: dedupe links only equal times
SEEN = {}  # outcome -> how many steps had it (printed at the end: what the histories did)


def count(outcome):
    SEEN[outcome] = SEEN.get(outcome, 0) + 1


class Failure(Exception):
    """A check that failed: sig names the check and the kind of step (stable while a
    history is cut down), detail says what happened and what the model expected."""

    def __init__(self, sig, detail):
        super().__init__(sig)
        self.sig, self.detail = sig, detail


# ---------------------------------------------------------------------------------------
# The sandbox. Paths in steps and in the setup are written with @R@ (the tree), @S@ (a
# directory on /dev/shm, another filesystem) and @F@ (where declarations and scripts are
# written, outside both), so that a history replays on a fresh sandbox elsewhere.

SETUP = [
    ("file", "R/f1", "one\n"), ("file", "R/f2", "two\n"), ("file", "R/exe", "#!/bin/sh\n", 0o755),
    ("dir", "R/d"), ("file", "R/d/a", "alpha\n"), ("dir", "R/d/sub"), ("file", "R/d/sub/b", "beta\n"),
    ("link", "R/d/abs-f1", "@R@/f1"), ("link", "R/d/rel-f2", "../f2"), ("link", "R/d/sub/up-a", "../a"),
    ("link", "R/d/dangling", "@R@/nowhere"), ("link", "R/d/sub/dangling-rel", "../gone"),
    ("link", "R/d/loop1", "loop2"), ("link", "R/d/loop2", "loop1"),
    ("dir", "R/old"), ("file", "R/old/x", "x\n"), ("dir", "R/old/y"), ("file", "R/old/y/z", "z\n"),
    ("dir", "R/new"), ("file", "R/new/x", "x\n"), ("dir", "R/new/y"), ("file", "R/new/y/z", "z\n"),
    ("link", "R/d/to-old", "@R@/old/x"), ("link", "R/d/to-old-dir", "@R@/old/y"),
    ("link", "R/d/sub/rel-old", "../../old/x"),
    ("dir", "R/dup"), ("file", "R/dup/a", "same\n"), ("file", "R/dup/b", "same\n"),
    ("file", "R/dup/c", "same\n", 0o600), ("file", "R/dup/other", "other\n"), ("file", "R/d/dupe-a", "same\n"),
    ("dir", "R/hl"), ("file", "R/hl/one", "shared\n"), ("hard", "R/hl/two", "R/hl/one"),
    ("dir", "R/stow"), ("dir", "R/stow/p1"), ("dir", "R/stow/p1/bin"), ("file", "R/stow/p1/bin/t1", "t1\n"),
    ("dir", "R/stow/p1/doc"), ("file", "R/stow/p1/doc/readme", "p1\n"),
    ("dir", "R/stow/p2"), ("dir", "R/stow/p2/bin"), ("file", "R/stow/p2/bin/t2", "t2\n"),
    ("dir", "R/stow/p2/share"), ("file", "R/stow/p2/share/p2.dat", "p2\n"),
    ("dir", "R/stow/p3"), ("file", "R/stow/p3/conf", "package conf\n"),
    ("dir", "R/stow/p3/etc"), ("file", "R/stow/p3/etc/p3rc", "p3rc\n"),
    ("dir", "R/home"), ("file", "R/home/conf", "user conf\n"), ("file", "R/home/notes", "notes\n"),
    ("dir", "R/m1"), ("file", "R/m1/data", "m1 data\n"), ("dir", "R/m1/inner"),
    ("file", "R/m1/inner/deep", "deep\n"), ("link", "R/m1/abs-in", "@R@/m1/data"), ("link", "R/m1/rel-in", "data"),
    ("file", "R/m1/h1", "pair\n"), ("hard", "R/m1/h2", "R/m1/h1"),
    ("dir", "R/m2"), ("file", "R/m2/file", "m2\n"),
    ("dir", "R/moved"),
    ("dir", "S/full"), ("file", "S/full/x", "in the way\n"),
]


def tpl(rel):
    """A sandbox key ("R/d/a") as a path template ("@R@/d/a")."""
    top, _, rest = rel.partition("/")
    return "@%s@" % top + ("/" + rest if rest else "")


class Sandbox:
    def __init__(self, work, setup):
        self.top = tempfile.mkdtemp(prefix="history-model-", dir=work)
        self.R = os.path.join(self.top, "r")
        self.S = tempfile.mkdtemp(prefix="tether-e2e-history-", dir="/dev/shm")
        self.F = os.path.join(self.top, "files")
        self.state = os.path.join(self.top, "state")
        for d in (self.R, self.F):
            os.mkdir(d)
        self.env = dict(os.environ, XDG_STATE_HOME=self.state, HOME=self.top, ASAN_OPTIONS="detect_leaks=0")
        self.env.pop("STOW_DIR", None)
        for e in setup:
            p = self.path(e[1])
            if not os.path.isdir(os.path.dirname(p)) or os.path.lexists(p):
                continue  # (a cut-down setup may have lost the parent)
            if e[0] == "dir":
                os.mkdir(p)
            elif e[0] == "file":
                with open(p, "w") as f:
                    f.write(e[2])
                os.chmod(p, e[3] if len(e) > 3 else 0o644)
            elif e[0] == "link":
                os.symlink(self.real(e[2]), p)
            elif e[0] == "hard" and os.path.isfile(self.path(e[2])):
                os.link(self.path(e[2]), p)
        for top in (self.R, self.S):
            for dirpath, _, names in os.walk(top):
                for n in names:
                    p = os.path.join(dirpath, n)
                    if not os.path.islink(p):
                        os.utime(p, (MTIME, MTIME))

    def path(self, rel):
        return self.real(tpl(rel))

    def real(self, s):
        return s.replace("@R@", self.R).replace("@S@", self.S).replace("@F@", self.F)

    def untpl(self, s):
        return s.replace(self.R, "@R@").replace(self.S, "@S@").replace(self.F, "@F@")

    def close(self):
        for d in (self.top, self.S):
            subprocess.run(["chmod", "-R", "u+rwx", d], stderr=subprocess.DEVNULL)
            shutil.rmtree(d, ignore_errors=True)

    def tether(self, argv):
        """(exit code, the JSON report or None, stdout, stderr)."""
        try:
            p = subprocess.run([TETHER, "--json", "--no-progress", *argv], capture_output=True, text=True,
                               env=self.env, cwd=self.R, stdin=subprocess.DEVNULL, timeout=120)
        except subprocess.TimeoutExpired:
            raise Failure("hang", "still running after 120 s")
        try:
            report = json.loads(p.stdout) if p.stdout.strip() else None
        except ValueError:
            report = None
        return p.returncode, report, p.stdout, p.stderr

    def snapshot(self):
        """Every entry of both trees, keyed "R/..." and "S/...": type, mode, and a link's
        target or a file's content; and the groups of names that share an inode."""
        out, groups = {}, {}
        for name, top in (("R", self.R), ("S", self.S)):
            for dirpath, dirs, files, dfd in os.fwalk(top):
                rel_dir = os.path.relpath(dirpath, top)
                for n in dirs + files:
                    rel = name + "/" + os.path.normpath(os.path.join(rel_dir, n))
                    st = os.lstat(n, dir_fd=dfd)
                    if stat.S_ISLNK(st.st_mode):
                        out[rel] = ("link", self.untpl(os.readlink(n, dir_fd=dfd)))
                    elif stat.S_ISREG(st.st_mode):
                        fd = os.open(n, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dfd)
                        with os.fdopen(fd, "rb") as f:
                            digest = hashlib.sha256(f.read()).hexdigest()[:12]
                        out[rel] = ("file", oct(stat.S_IMODE(st.st_mode)), digest)
                        if st.st_nlink > 1:
                            groups.setdefault((st.st_dev, st.st_ino), []).append(rel)
                    elif stat.S_ISDIR(st.st_mode):
                        out[rel] = ("dir", oct(stat.S_IMODE(st.st_mode)))
                    else:
                        out[rel] = ("other", oct(st.st_mode))
        return out, sorted(sorted(g) for g in groups.values() if len(g) > 1)


# ---------------------------------------------------------------------------------------
# Steps. A step is {"kind", "argv" (templates), "files" ({name: text} written to @F@
# first), "refuse" (an invalid command), "dry"}. The kinds, as TETHER_MODEL_ONLY/SKIP
# name them, with how often each is drawn:

KINDS = {"link": 3, "link-relative": 2, "link-hard": 2, "link-replace": 2, "unlink": 3, "retarget": 2,
         "relativize": 2, "prune": 2, "dedupe": 2, "farm": 3, "farm-adopt": 1, "migrate": 2, "apply": 3,
         "run": 2, "invalid": 2, "undo": 5, "undo-n": 1, "undo-plain": 1}
UNDO_KINDS = ("undo", "undo-n", "undo-plain")


def step(kind, *argv, refuse=False, files=None, dry=False):
    return {"kind": kind, "argv": list(argv), "files": files or {}, "refuse": refuse, "dry": dry}


def with_parts(s, parts):
    """The step s with its declaration's items or its script's actions (parts) written
    into its file: what a cut-down history drops one by one."""
    s = dict(s, parts=parts)
    name = os.path.basename(s["argv"][-1])
    if s["kind"] == "apply":
        decl = {}
        for lst, item in parts:
            decl.setdefault(lst, []).append(item)
        s["files"] = {name: json.dumps(decl, indent=1, sort_keys=True) + "\n"}
    else:  # the README's example of a plan in a script (no roots given)
        s["files"] = {name: "\n".join(
            ['local plan = require "tether.plan"', 'local p = plan.new("my-fix")'] + parts +
            ["local conflicts = p:check()        -- {{path=, message=}, ...}, empty when it can go",
             "local result = p:apply()           -- refused, changing nothing, when there is one"]) + "\n"}
    return s


class Generator:
    """Draws the next step from the seed and the sandbox as it is now."""

    def __init__(self, rng, kinds):
        self.rng, self.kinds, self.k, self.decls = rng, kinds, 0, []

    def next(self, snap):
        self.k += 1
        entries = snap[0]
        kind = self.rng.choices(list(self.kinds), [KINDS[k] for k in self.kinds])[0]
        s = getattr(self, "gen_" + kind.replace("-", "_"))(entries)
        if s["kind"] not in UNDO_KINDS and not s["refuse"] and "-n" not in s["argv"] and self.rng.random() < 0.1:
            s["argv"].insert(0, "-n")
            s["dry"] = True
        return s

    # What is there now.
    def of(self, entries, typ, top="R", under=""):
        return sorted(k for k, e in entries.items()
                      if e[0] == typ and k.startswith(top + "/" + under))

    def fresh(self, entries, suffix=""):
        d = self.rng.choice(["R", "R/d", "R/d/sub", "R/home", "R/dup"] + self.of(entries, "dir")[:6])
        if entries.get(d, ("dir",))[0] != "dir":
            d = "R"
        return "%s/n%d%s" % (d, self.k, suffix)

    def pick(self, xs, default):
        return self.rng.choice(xs) if xs else default

    def target_of(self, entries):
        """An existing path to link to (now and then one that is not there)."""
        every = [k for k in entries if k.startswith("R/")]
        return self.pick(every, "R/f1") if self.rng.random() < 0.9 else "R/nowhere"

    # The commands.
    def gen_link(self, entries):
        t, p = self.target_of(entries), self.fresh(entries)
        r = self.rng.random()
        if r < 0.15:  # ln's form: a link inside a directory, named as the target
            return step("link", "link", tpl(t), tpl(self.pick(self.of(entries, "dir"), "R/d")))
        if r < 0.35:  # stored as typed, relative to the link's directory
            return step("link", "link", os.path.relpath(t, os.path.dirname(p)), tpl(p))
        return step("link", "link", tpl(t), tpl(p))

    def gen_link_relative(self, entries):
        t, p = self.target_of(entries), self.fresh(entries)
        # TARGET is taken from the current directory (the commands run in @R@).
        return step("link-relative", "link", "--relative", t[2:] if self.rng.random() < 0.5 else tpl(t), tpl(p))

    def gen_link_hard(self, entries):
        f = self.pick(self.of(entries, "file"), "R/f1")
        return step("link-hard", "link", "--hard", tpl(f), tpl(self.fresh(entries)))

    def gen_link_replace(self, entries):
        links = self.of(entries, "link")
        p = self.pick(links, "R/d/abs-f1")
        t = self.target_of(entries)
        args = ["link", "--replace"] + (["--relative"] if self.rng.random() < 0.3 else [])
        return step("link-replace", *args, tpl(t), tpl(p))

    def gen_unlink(self, entries):
        links = self.of(entries, "link")
        ps = self.rng.sample(links, min(len(links), self.rng.randint(1, 2)))
        args = ["unlink"]
        if self.rng.random() < 0.25 or not ps:
            args.append("--missing-ok")
            ps.append("R/d/n%dgone" % self.k)
        return step("unlink", *args, *[tpl(p) for p in ps])

    def roots(self, entries, choices):
        have = [c for c in choices if c in entries or c == "R"]
        return [tpl(r) for r in self.rng.sample(have, self.rng.randint(1, min(2, len(have))))]

    def gen_retarget(self, entries):
        a, b = ("@R@/old", "@R@/new") if self.rng.random() < 0.6 else ("@R@/new", "@R@/old")
        extra = [o for o in ("--relative-too", "--allow-broken") if self.rng.random() < 0.3]
        return step("retarget", "retarget", *self.roots(entries, ["R", "R/d", "R/d/sub", "R/m1"]),
                    "--from", a, "--to", b, *extra)

    def gen_relativize(self, entries):
        extra = ["--absolute"] if self.rng.random() < 0.5 else []
        return step("relativize", "relativize", *extra, *self.roots(entries, ["R", "R/d", "R/home", "R/m1"]))

    def gen_prune(self, entries):
        extra = ["--loops"] if self.rng.random() < 0.4 else []
        return step("prune", "prune", *extra, *self.roots(entries, ["R", "R/d", "R/d/sub", "R/home"]))

    def gen_dedupe(self, entries):
        extra = ["--ignore-mtime"] if self.rng.random() < 0.3 else []
        return step("dedupe", "dedupe", *extra, *self.roots(entries, ["R", "R/dup", "R/d", "R/hl", "R/m1"]))

    def gen_farm(self, entries):
        pkgs = self.rng.sample(["p1", "p2", "p3"], self.rng.randint(1, 2))
        where = ["-d", "@R@/stow", "-t", "@R@/home"]
        r = self.rng.random()
        if r < 0.2:  # stow's own command line
            return step("farm", "farm", *where, "-S", pkgs[0], *(["-D", pkgs[1]] if len(pkgs) > 1 else []))
        verb = "link" if r < 0.6 else "unlink" if r < 0.85 else "relink"
        extra = ["--no-folding"] if self.rng.random() < 0.2 else []
        return step("farm", "farm", verb, *pkgs, *where, *extra)

    def gen_farm_adopt(self, entries):
        pkgs = ["p3"] + (["p1"] if self.rng.random() < 0.3 else [])
        return step("farm-adopt", "farm", "link", "--adopt", *pkgs, "-d", "@R@/stow", "-t", "@R@/home")

    def gen_migrate(self, entries):
        srcs = [d for d in self.of(entries, "dir") if d.count("/") <= 2 and d not in ("R/moved",)]
        src = self.pick([d for d in srcs if d in ("R/m1", "R/m2")] if self.rng.random() < 0.6 else srcs, "R/m1")
        name = os.path.basename(src)
        dest = "@S@/%s-%d" % (name, self.k) if self.rng.random() < 0.6 else "@R@/moved/%s-%d" % (name, self.k)
        return step("migrate", "migrate", tpl(src), dest)

    def gen_apply(self, entries):
        if self.decls and self.rng.random() < 0.25:
            parts = self.rng.choice(self.decls)  # a declaration applied before, again
        else:
            parts = [self.decl_item(entries) for _ in range(self.rng.randint(1, 3))]
            self.decls.append(parts)
        return with_parts(step("apply", "apply", "@F@/decl-%d.json" % self.k), parts)

    def decl_item(self, entries):
        r = self.rng.random()
        links = self.of(entries, "link")
        if r < 0.35:
            p = self.rng.choice(links) if links and self.rng.random() < 0.4 else self.fresh(entries, "a")
            it = {"path": tpl(p), "target": tpl(self.target_of(entries))}
            if self.rng.random() < 0.4:
                it["relative"] = True
            if self.rng.random() < 0.5:
                it["force"] = True
            return "links", it
        if r < 0.45:
            f = self.pick(self.of(entries, "file"), "R/f1")
            return "links", {"path": tpl(self.fresh(entries, "h")), "target": tpl(f), "type": "hard"}
        if r < 0.55:
            return "dirs", tpl(self.fresh(entries, "d"))
        if r < 0.65:
            return "absent", tpl(self.pick(links, "R/d/dangling"))
        if r < 0.8:
            return "farms", {"dir": "@R@/stow", "target": "@R@/home",
                             "packages": self.rng.sample(["p1", "p2", "p3"], self.rng.randint(1, 2))}
        if r < 0.9:
            a, b = ("@R@/old", "@R@/new") if self.rng.random() < 0.5 else ("@R@/new", "@R@/old")
            return "retarget", {"under": tpl(self.rng.choice(["R", "R/d"])), "from": a, "to": b}
        src = self.pick([d for d in ("R/m1", "R/m2", "R/d/sub") if entries.get(d, ("",))[0] == "dir"], "R/m2")
        return "migrations", {"from": tpl(src), "to": "@S@/am-%d" % self.k}

    def gen_run(self, entries):
        """A user's script that makes a plan as the README shows (no roots given)."""
        links = self.of(entries, "link")
        lines = ["", ""]
        q = json.dumps
        for n in range(self.rng.randint(1, 3)):
            r = self.rng.random()
            if r < 0.35 or not links:
                lines.append('p:add("symlink", {path = %s, target = %s})'
                             % (q(tpl(self.fresh(entries, "p%d" % n))), q(tpl(self.target_of(entries)))))
            elif r < 0.6:
                l = links.pop(self.rng.randrange(len(links)))
                lines.append('p:add("replace", {path = %s, target = %s, old = %s})'
                             % (q(tpl(l)), q(tpl(self.target_of(entries))), q(entries[l][1])))
            elif r < 0.8:
                l = links.pop(self.rng.randrange(len(links)))
                lines.append('p:add("unlink", {path = %s, target = %s})' % (q(tpl(l)), q(entries[l][1])))
            elif r < 0.9:
                lines.append('p:add("mkdir", {path = %s})' % q(tpl(self.fresh(entries, "m%d" % n))))
            else:
                f = self.pick(self.of(entries, "file", under="dup/"), "R/dup/other")
                lines.append('p:add("move", {path = %s, to = %s})' % (q(tpl(f)), q(tpl(f + "-moved%d" % self.k))))
        return with_parts(step("run", "run", "@F@/plan-%d.lua" % self.k), lines[2:])

    def gen_invalid(self, entries):
        """A command that must be refused whatever the histories did before it."""
        k = self.k
        return self.rng.choice([
            step("link", "link", "@R@/f2", "@R@/f1", refuse=True),  # a file is there
            step("link-replace", "link", "--replace", "@R@/f2", "@R@/f1", refuse=True),  # not a link
            step("unlink", "unlink", "@R@/f1", refuse=True),
            step("unlink", "unlink", "@R@/d/n%dmissing" % k, refuse=True),
            step("link-hard", "link", "--hard", "@R@/f1", "@S@/n%d" % k, refuse=True),  # another filesystem
            step("link-hard", "link", "--hard", "@R@/moved", "@R@/n%d" % k, refuse=True),  # a directory (never migrated: a link to one would be linked as ln does)
            step("migrate", "migrate", "@R@/m2", "@S@/full", refuse=True),  # DEST not empty
            step("migrate", "migrate", "@R@/f1", "@S@/n%d" % k, refuse=True),  # not a directory
            step("migrate", "migrate", "@R@/old", "@R@/old/n%d" % k, refuse=True),  # DEST inside SRC
            step("farm", "farm", "link", "nosuch", "-d", "@R@/stow", "-t", "@R@/home", refuse=True),
            step("relativize", "relativize", "@R@/n%dmissing" % k, refuse=True),
            step("apply", "apply", "@F@/bad-%d.json" % k, refuse=True,  # real data where a link is declared
                 files={"bad-%d.json" % k: json.dumps({"links": [{"path": "@R@/f1", "target": "@R@/f2"}]})}),
        ])

    def gen_undo(self, entries):
        return step("undo", "undo", "--yes", *(["last"] if self.rng.random() < 0.2 else []))

    def gen_undo_n(self, entries):
        return step("undo-n", "-n", "undo", dry=True)

    def gen_undo_plain(self, entries):
        return step("undo-plain", "undo")


# ---------------------------------------------------------------------------------------
# The model.

class Model:
    def __init__(self, sb, transcript):
        self.sb, self.t = sb, transcript
        self.snap = sb.snapshot()
        self.initial = self.snap
        self.stack = []  # [(run id, snapshot before it, step kind)]
        self.runs = {}  # id -> {"undone": bool, "parent": id or None, "kind": ...}
        self.undos = set()  # runs an undo recorded (allowed if history calls them undo runs)
        self.written = {}
        self.ids = self.history()

    def shell(self, argv):
        self.t.append("tether --json " + " ".join(shell_word(a, self.sb) for a in argv))

    def run(self, s, argv=None):
        argv = argv or s["argv"]
        for name, text in s["files"].items():
            p = os.path.join(self.sb.F, name)
            if self.written.get(name) != text:
                with open(p, "w") as f:
                    f.write(self.sb.real(text))
                self.written[name] = text
                self.t.append("cat > \"$F/%s\" <<EOF\n%sEOF" % (name, text.replace("@R@", "$R").replace(
                    "@S@", "$S").replace("@F@", "$F")))
        self.shell(argv)
        rc, rep, out, err = self.sb.tether([self.sb.real(a) for a in argv])
        if VERBOSE:
            print("  [%d] tether %s" % (rc, " ".join(self.sb.real(a) for a in argv)))
        for b in BUGS:
            if b in out or b in err:
                raise Failure("a bug report from " + s["kind"], "tether printed:\n%s%s" % (out, err))
        if rc not in (0, 1, 2, 3, 4):
            raise Failure("exit %d from %s" % (rc, s["kind"]), "stderr: %s" % err.strip())
        return rc, rep, err.strip()

    def history(self):
        """The runs tether history lists ({id: row}), checked readable."""
        rc, rep, out, err = self.sb.tether(["history"])
        if rc != 0 or rep is None or rep.get("unreadable"):
            self.t.append("tether --json history")
            raise Failure("history: a journal cannot be read", "tether history --json exit %d: %s%s" % (
                rc, (rep or {}).get("unreadable") or out, err.strip()))
        return {r["id"]: r for r in rep["runs"]}

    def check_history(self, rows, after):
        for rid, m in self.runs.items():
            if rid not in rows:
                self.t.append("tether --json history")
                raise Failure("history: a run is missing", "%s (%s) is not listed" % (rid, m["kind"]))
            undone = m["undone"] or (m["parent"] and self.runs[m["parent"]]["undone"])
            if (rows[rid]["state"] == "undone") != bool(undone):
                self.t.append("tether --json history")
                raise Failure("history: a run's state after " + after,
                              "%s (%s%s) says %r; the model: %s" % (rid, m["kind"], ", run by " + m["parent"]
                                                                   if m["parent"] else "", rows[rid]["state"],
                                                                   "undone" if undone else "not undone"))
        for rid, row in rows.items():
            if rid not in self.runs and rid not in self.undos:
                self.t.append("tether --json history")
                raise Failure("history: a run the model does not know", "%s: %s" % (rid, json.dumps(row)))

    def leftovers(self, snap, kind):
        left = [k for k in snap[0] if os.path.basename(k).startswith(".tether-")]
        if left:
            raise Failure("tether's names left behind by " + kind, ", ".join(left))

    def do(self, s):
        if s["kind"] in UNDO_KINDS:
            return self.undo(s)
        before = self.snap
        rc, rep, err = self.run(s)
        after = self.sb.snapshot()
        rows = self.history()
        new = sorted(set(rows) - set(self.ids))
        kind = s["kind"] + (" -n" if s["dry"] else "")
        said = (rep or {}).get("changed")
        if s["refuse"] and rc == 0:
            raise Failure("an invalid %s was not refused" % kind, "exit 0: %s" % changes(before, after))
        if s["dry"] or rc in (2, 3) or (after == before and not said):
            count("dry runs" if s["dry"] else "refused" if rc == 3 else "usage errors" if rc == 2
                  else "commands that changed nothing")
        if rc in (2, 3) or s["dry"]:
            if after != before:
                raise Failure("%s that exits %d changed the sandbox" % (kind, rc), changes(before, after))
            if new:
                raise Failure("%s that exits %d recorded a run" % (kind, rc), ", ".join(new))
            if s["dry"] and said and s["kind"] != "apply":  # (apply --check: "would change", docs/fleets.md)
                raise Failure('%s says "changed": true' % kind, "exit %d" % rc)
        elif after != before or said:
            if not new:
                raise Failure("%s changed the sandbox and recorded no run to undo" % kind,
                              "exit %d, %s" % (rc, changes(before, after)))
            rid = (rep or {}).get("id")
            if rid is not None and rid not in new:
                raise Failure("%s reports a run history does not list" % kind, "%s; new: %s" % (rid, new))
            rid = rid or new[-1]
            self.stack.append((rid, before, kind))
            count("runs")
            for n in new:
                self.runs[n] = {"undone": False, "parent": None if n == rid else rid, "kind": kind}
            if said is False:
                raise Failure('%s changed the sandbox but says "changed": false' % kind, changes(before, after))
        elif new:
            raise Failure("%s that changed nothing recorded a run" % kind, "exit %d, %s" % (rc, ", ".join(new)))
        self.leftovers(after, kind)
        self.check_history(rows, kind)
        self.snap, self.ids = after, rows
        if s["kind"] == "apply" and rc == 0 and not s["dry"]:
            self.apply_again(s)
        if s["kind"] == "run" and (rep is None or not isinstance(rep.get("changed"), bool) or
                                   (after != before and rep.get("id") != self.stack[-1][0])):
            raise Failure("tether --json run of a plan script: no report as a recipe gives",
                          'want {"changed": ..., "id": ...}; stdout %r' % (rep,))

    def apply_again(self, s):
        rc, rep, err = self.run(s)
        after = self.sb.snapshot()
        rows = self.history()
        if rc != 0 or (rep or {}).get("changed") is not False or after != self.snap or set(rows) != set(self.ids):
            raise Failure("a second apply of the same declaration is not a no-op",
                          "exit %d, changed %s, %s; new runs %s; %s" % (
                              rc, (rep or {}).get("changed"), changes(self.snap, after) or "same sandbox",
                              sorted(set(rows) - set(self.ids)), err))

    def undo(self, s):
        before = self.snap
        rc, rep, err = self.run(s)
        after = self.sb.snapshot()
        rows = self.history()
        new = sorted(set(rows) - set(self.ids))
        for n in new:
            if rows[n].get("recipe") != "undo":
                raise Failure("%s recorded a run that is not an undo" % s["kind"], json.dumps(rows[n]))
            self.undos.add(n)
        got = (rep or {}).get("id")
        top = self.stack[-1] if self.stack else None
        if s["dry"] or not top:
            if after != before:
                raise Failure("%s %schanged the sandbox" % (s["kind"], "" if top else "with nothing to undo "),
                              "exit %d, %s" % (rc, changes(before, after)))
            if top and (rc != 0 or got != top[0]):
                raise Failure("undo -n does not name the newest run not undone",
                              "exit %d, names %s; the model: %s (%s); %s" % (rc, got, top[0], top[2], err))
            if not top and (rc != 3 or "nothing to undo" not in err):
                raise Failure("undo with nothing to undo", "exit %d (want 3, 'nothing to undo'): %s" % (rc, err))
        else:
            if rc != 0:
                raise Failure("%s of %s failed" % (s["kind"], top[2]),
                              "exit %d: %s; the model: undo %s; sandbox %s" % (
                                  rc, err, top[0], changes(before, after) or "unchanged"))
            if got != top[0]:
                state = rows.get(got, {}).get("state")
                raise Failure("undo took another run than the newest not undone",
                              "took %s (%s, %s); the model: %s (%s)" % (
                                  got, self.runs.get(got, {}).get("kind"), "now " + str(state), top[0], top[2]))
            if after != top[1]:
                raise Failure("undo of %s did not restore the sandbox" % top[2],
                              "%s; what differs from before the run: %s" % (top[0], changes(top[1], after)))
            self.stack.pop()
            self.runs[top[0]]["undone"] = True
            count("undos")
        self.leftovers(after, s["kind"])
        self.check_history(rows, s["kind"])
        self.snap, self.ids = after, rows

    def unwind(self):
        while self.stack:
            self.undo(step("undo", "undo", "--yes"))
        self.undo(step("undo", "undo", "--yes"))
        if self.snap != self.initial:
            raise Failure("the sandbox after every undo", changes(self.initial, self.snap))


def shell_word(a, sb):
    """A templated argument as a shell word ($R, $S and $F left to the shell)."""
    if "@" not in a:
        return a if a and all(c.isalnum() or c in "-_./=" for c in a) else "'" + a.replace("'", "'\\''") + "'"
    return '"' + a.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace(
        "@R@", "$R").replace("@S@", "$S").replace("@F@", "$F") + '"'


# ---------------------------------------------------------------------------------------
# Running histories, and cutting a failing one down.

def replay(work, steps, setup=SETUP, gen=None, n=0):
    """Runs the steps (or n steps drawn by gen) and the undos that end every history on a
    fresh sandbox; returns (the Failure or None, the steps run, the transcript)."""
    sb, transcript, done = Sandbox(work, setup), [], []
    try:
        model = Model(sb, transcript)
        for i in range(n if gen else len(steps)):
            s = gen.next(model.snap) if gen else steps[i]
            done.append(s)
            if VERBOSE:
                print(" step %d: %s" % (i + 1, s["kind"]))
            model.do(s)
        model.unwind()
        return None, done, transcript
    except Failure as f:
        for a, b in ((sb.R, "$R"), (sb.S, "$S"), (sb.F, "$F"), (sb.state, "$XDG_STATE_HOME"), ("@R@", "$R"),
                     ("@S@", "$S"), ("@F@", "$F")):
            f.detail = f.detail.replace(a, b)  # (as the transcript says them)
        return f, done, transcript
    finally:
        sb.close()


def ddmin(items, fails, deadline):
    """The classic delta debugging: drop chunks (then single items) while fails() holds."""
    n = 2
    while len(items) >= 2 and time.monotonic() < deadline:
        size = -(-len(items) // n)
        for i in range(0, len(items), size):
            rest = items[:i] + items[i + size:]
            if rest and fails(rest):
                items, n = rest, max(n - 1, 2)
                break
        else:
            if n >= len(items):
                break
            n = min(len(items), n * 2)
    return items


def minimize(work, failure, steps, seconds):
    deadline = time.monotonic() + seconds
    sig = failure.sig
    best = {"steps": steps, "setup": SETUP}

    def fails(st=None, su=None):
        f, _, _ = replay(work, st if st is not None else best["steps"], su if su is not None else best["setup"])
        return f is not None and f.sig == sig

    best["steps"] = ddmin(steps, lambda st: fails(st=st), deadline)
    for i, s in enumerate(best["steps"]):
        if len(s.get("parts") or ()) > 1:
            def fails_with(parts, i=i, s=s):
                return fails(st=best["steps"][:i] + [with_parts(s, parts)] + best["steps"][i + 1:])
            best["steps"] = best["steps"][:i] + [with_parts(s, ddmin(s["parts"], fails_with, deadline))] + \
                best["steps"][i + 1:]
    keep = [e for e in SETUP if e[1] in ("R/f1", "R/f2")]  # the invalid commands' fixed points
    best["setup"] = keep + ddmin([e for e in SETUP if e not in keep], lambda su: fails(su=keep + su), deadline)
    for _ in range(3):  # (a failure that depends on inode numbers being reused may need another try)
        f, _, transcript = replay(work, best["steps"], best["setup"])
        if f and f.sig == sig:
            break
    return best, f, transcript, time.monotonic() < deadline


def setup_shell(setup):
    lines = ['R=$(mktemp -d) S=$(mktemp -d /dev/shm/tether-XXXXXX) F=$(mktemp -d)',
             'export XDG_STATE_HOME=$(mktemp -d); cd "$R"']
    w = lambda p: shell_word(tpl(p), None)
    for e in setup:
        if e[0] == "dir":
            lines.append("mkdir %s" % w(e[1]))
        elif e[0] == "file":
            lines.append("printf %s > %s" % (shell_word(e[2].replace("\n", "\\n"), None), w(e[1])) +
                         ("; chmod %o %s" % (e[3], w(e[1])) if len(e) > 3 else ""))
        elif e[0] == "link":
            lines.append("ln -s %s %s" % (shell_word(e[2], None), w(e[1])))
        else:
            lines.append("ln %s %s" % (w(e[2]), w(e[1])))
    lines.append('find "$R" "$S" -type f -exec touch -d @%d {} +' % MTIME)
    return "\n".join(lines)


def report(seed, failure, transcript, work, steps, seconds):
    again = " ".join(["TETHER_MODEL_SEED=%d" % seed] + ["%s=%s" % (v, os.environ[v]) for v in (
        "TETHER_MODEL_STEPS", "TETHER_MODEL_ONLY", "TETHER_MODEL_SKIP") if os.environ.get(v)])
    print("FAIL: seed %d (%s repeats it): %s\n  %s" % (seed, again, failure.sig, failure.detail))
    print("  the history (the last command failed the check):\n    " + "\n    ".join(
        l.replace("\n", "\n    ") for l in transcript))
    if seconds <= 0:
        return
    seen = dict(SEEN)
    best, f, small, finished = minimize(work, failure, steps, seconds)
    SEEN.clear()
    SEEN.update(seen)  # (the counts say what the histories did, not their replays)
    if f is None:
        print("  (it did not fail again when replayed: a flaky failure?)")
        return
    print("  cut down%s to %d of %d steps (%d of %d sandbox entries): %s\n  %s\n----8<----\n%s\n%s\n----8<----" % (
        "" if finished else " (out of time)", len(best["steps"]), len(steps), len(best["setup"]), len(SETUP),
        f.sig, f.detail, setup_shell(best["setup"]), "\n".join(small)))


def main():
    work = os.environ.get("WORK") or tempfile.gettempdir()
    seconds = float(os.environ.get("TETHER_MODEL_SECONDS", "40"))
    length = int(os.environ.get("TETHER_MODEL_STEPS", "24"))
    mini = float(os.environ.get("TETHER_MODEL_MINIMIZE_SECONDS", "120"))
    only = [k for k in os.environ.get("TETHER_MODEL_ONLY", "").split(",") if k]
    skip = [k for k in os.environ.get("TETHER_MODEL_SKIP", "").split(",") if k]
    for k in only + skip:
        if k not in KINDS:
            sys.exit("history_model: no kind %r (kinds: %s)" % (k, ", ".join(KINDS)))
    kinds = [k for k in KINDS if (not only or k in only or k == "undo") and k not in skip]
    one = os.environ.get("TETHER_MODEL_SEED")
    first = os.environ.get("TETHER_MODEL_SEEDS", "1")
    seed = int(one) if one else random.SystemRandom().randrange(1, 2 ** 31) if first == "random" else int(first)
    end, runs, failures, seen = time.monotonic() + seconds, 0, 0, set()
    while runs == 0 or (not one and time.monotonic() < end and (failures == 0 or os.environ.get("TETHER_MODEL_ALL"))):
        if VERBOSE:
            print("seed %d:" % seed)
        f, steps, transcript = replay(work, None, gen=Generator(random.Random(seed), kinds), n=length)
        runs += 1
        if f:
            failures += 1
            report(seed, f, transcript, work, steps, mini if f.sig not in seen else 0)
            seen.add(f.sig)
        seed += 1
    print("history model: %d histories of %d steps from seed %d (kinds: %s): %s; %d failed" % (
        runs, length, seed - runs, ",".join(kinds), ", ".join("%d %s" % (v, k) for k, v in sorted(SEEN.items())) or "-",
        failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
