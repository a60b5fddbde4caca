#!/usr/bin/env python3
"""What tether apply must do with any declaration, checked on generated ones.

For each declaration, on a fresh sandbox (a tree here and one on /dev/shm, another
filesystem, for migrations):
  - --check changes nothing, and its verdict is apply's: exit 0 exactly when apply
    succeeds; a refusal (exit 3) changes nothing and writes no journal;
  - the report's "changed" is true exactly when the tree changed;
  - a second apply changes nothing: exit 0, changed false, no new journal;
  - tether undo of the run puts the tree back exactly (types, link targets, contents,
    modes, hard-link groups).

  apply_model.py pairs           every pair of item kinds, one at or in the other's path
  apply_model.py random SECONDS  random small declarations over random trees for that
                                 long (TETHER_APPLY_SEED=N repeats a run; each failure
                                 prints its seed)
TETHER names the binary. Exit status 1 when any declaration failed a check."""
import hashlib, itertools, json, os, random, shutil, stat, subprocess, sys, tempfile, time

from checks import changes

TETHER = os.environ["TETHER"]
VERBOSE = os.environ.get("TETHER_APPLY_VERBOSE")  # each declaration's outcome printed
BUGS = ("Sanitizer", "runtime error:", "stack traceback", "internal error")


class Sandbox:
    def __init__(self, work):
        self.top = tempfile.mkdtemp(dir=work)
        self.root = os.path.join(self.top, "r")
        self.shm = tempfile.mkdtemp(prefix="tether-e2e-model-", dir="/dev/shm")
        self.state = os.path.join(self.top, "state")
        self.decl = os.path.join(self.top, "decl.json")
        os.mkdir(self.root)
        self.env = dict(os.environ, XDG_STATE_HOME=self.state, HOME=self.top, ASAN_OPTIONS="detect_leaks=0")

    def close(self):
        for d in (self.top, self.shm):
            subprocess.run(["chmod", "-R", "u+rwx", d], stderr=subprocess.DEVNULL)
            shutil.rmtree(d, ignore_errors=True)

    def tether(self, *args):
        """(exit code, the JSON report or None, stderr); a bug report is raised."""
        p = subprocess.run([TETHER, "--json", "--no-progress", *args], capture_output=True, text=True,
                           env=self.env, cwd=self.top)
        for b in BUGS:
            if b in p.stderr or b in p.stdout:
                raise AssertionError("tether %s showed a bug report:\n%s%s" % (" ".join(args), p.stdout, p.stderr))
        try:
            report = json.loads(p.stdout) if p.stdout.strip() else None
        except ValueError:
            raise AssertionError("tether %s: no JSON report:\n%s" % (" ".join(args), p.stdout))
        return p.returncode, report, p.stderr.strip()

    def journals(self):
        d = os.path.join(self.state, "tether", "journal")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def snapshot(self):
        """Every entry of both trees: type, mode, link target, content; hard-link groups."""
        out, groups = {}, {}
        for name, top in (("r", self.root), ("shm", self.shm)):
            for dirpath, dirs, files in os.walk(top):
                for n in dirs + files:
                    full = os.path.join(dirpath, n)
                    st = os.lstat(full)
                    rel = name + "/" + os.path.relpath(full, top)
                    e = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode))
                    if stat.S_ISLNK(st.st_mode):
                        e += (os.readlink(full),)
                    elif stat.S_ISREG(st.st_mode):
                        with open(full, "rb") as f:
                            e += (hashlib.sha256(f.read()).hexdigest(),)
                        if st.st_nlink > 1:
                            groups.setdefault((st.st_dev, st.st_ino), []).append(rel)
                    out[rel] = e
        return out, sorted(sorted(g) for g in groups.values())


def check(sb, decl):
    """Runs the declaration through --check, apply, apply again and undo; returns the
    problems found (empty when it behaved) and a word on what happened."""
    with open(sb.decl, "w") as f:
        json.dump(decl, f)
    problems = []
    s0, j0 = sb.snapshot(), sb.journals()
    rc_c, rep_c, err_c = sb.tether("apply", sb.decl, "--check")
    if sb.snapshot() != s0 or sb.journals() != j0:
        problems.append("--check changed something: %s" % changes(s0, sb.snapshot()))
    if rc_c not in (0, 2, 3):
        problems.append("--check exit %d: %s" % (rc_c, err_c))
    rc, rep, err = sb.tether("apply", sb.decl)
    s1, j1 = sb.snapshot(), sb.journals()
    if rc != rc_c:
        problems.append("--check exit %d (%s), apply exit %d (%s)" % (rc_c, err_c, rc, err))
    if rc != 0:
        if s1 != s0:
            problems.append("apply exit %d changed the tree: %s" % (rc, changes(s0, s1)))
        if j1 != j0:
            problems.append("apply exit %d wrote a journal" % rc)
        why = [i["item"] + ": " + i["reason"] for i in (rep or {}).get("items", []) if i.get("reason")]
        return problems, ("refused: " + (" | ".join(why) or err.splitlines()[0])) if VERBOSE else "refused"
    if rep["changed"] != (s1 != s0):
        problems.append('"changed": %s, but the tree %s' % (rep["changed"], "changed" if s1 != s0 else "did not change"))
    rc2, rep2, err2 = sb.tether("apply", sb.decl)
    if rc2 != 0 or (rep2 or {}).get("changed") is not False:
        problems.append("a second apply: exit %d, changed %s: %s %s" % (rc2, (rep2 or {}).get("changed"), err2,
                        [(i["item"], i["changes"]) for i in (rep2 or {}).get("items", []) if i["status"] != "ok"]))
    elif sb.snapshot() != s1 or sb.journals() != j1:
        problems.append("a second apply changed something: %s" % changes(s1, sb.snapshot()))
    if rep["changed"]:
        rc3, _, err3 = sb.tether("undo", "--yes", rep["id"])
        if rc3 != 0:
            problems.append("undo exit %d: %s" % (rc3, err3))
        elif sb.snapshot() != s0:
            problems.append("undo left the tree changed: %s" % changes(s0, sb.snapshot()))
    return problems, "applied" if rep["changed"] else "held"


# ---------------------------------------------------------------------------------------
# Every pair of kinds. Each kind is set up with one of its paths (its anchors) at a given
# place: what it needs there first (a link to replace, data to migrate, a package), and
# the item that declares it.

ANCHORS = {"link": ["path"], "absent": ["path"], "dir": ["path"], "hard": ["path"],
           "migration": ["from", "to"], "farm": ["target", "package"], "retarget": ["under"]}


def quietly(fn, *args):
    try:
        fn(*args)
    except OSError:
        pass  # the other item's setup took the place: that is one of the cases


def write(p, text):
    with open(p, "w") as f:
        f.write(text)


def base_tree(r):
    for d in ("targets/old", "targets/t1", "targets/t2", "old", "new", "a"):
        os.makedirs(os.path.join(r, d))
    write(r + "/targets/old/in-old", "old\n")
    write(r + "/targets/file", "hard\n")
    write(r + "/old/x", "x\n")
    write(r + "/new/x", "x\n")


def setup(sb, kind, anchor, q, n):
    """Makes what item n of this kind needs with its anchor at q; returns (list, item)."""
    r = sb.root
    if kind == "link":  # a link elsewhere now, replaced: a change to a link on others' way
        quietly(os.symlink, r + "/targets/old", q)
        return "links", {"path": q, "target": r + "/targets/t%d" % n, "relative": True, "force": True}
    if kind == "absent":
        quietly(os.symlink, r + "/targets/old", q)
        return "absent", q
    if kind == "dir":
        return "dirs", q
    if kind == "hard":
        return "links", {"path": q, "target": r + "/targets/file", "type": "hard"}
    if kind == "migration":
        src, dst = (q, sb.shm + "/m%d" % n) if anchor == "from" else (r + "/msrc%d" % n, q)
        quietly(os.makedirs, src, 0o755, True)
        quietly(write, src + "/data", "data %d\n" % n)
        quietly(os.symlink, r + "/old/x", src + "/into-old")  # a retarget's business, wherever it moves
        return "migrations", {"from": src, "to": dst}
    if kind == "farm":
        if anchor == "target":
            stow, pkg, target = r + "/stow%d" % n, "pkg", q
        else:
            stow, pkg, target = os.path.dirname(q), os.path.basename(q), r + "/ftarget%d" % n
        quietly(os.makedirs, os.path.join(stow, pkg, "pd"), 0o755, True)
        quietly(write, os.path.join(stow, pkg, "pf"), "pf\n")
        quietly(write, os.path.join(stow, pkg, "pd", "x"), "x\n")
        quietly(os.makedirs, target, 0o755, True)
        return "farms", {"dir": stow, "target": target, "packages": [pkg]}
    if kind == "retarget":
        quietly(os.makedirs, q, 0o755, True)
        quietly(os.symlink, r + "/old/x", q + "/rl")
        return "retarget", {"under": q, "from": r + "/old", "to": r + "/new"}
    raise ValueError(kind)


def pairs(work):
    failures, seen = 0, {}
    for (x, y) in itertools.product(ANCHORS, repeat=2):
        for ax, ay, where in itertools.product(ANCHORS[x], ANCHORS[y], ("at", "in")):
            for swap in (False, True):
                sb = Sandbox(work)
                try:
                    base_tree(sb.root)
                    q = sb.root + "/a/p"
                    lx, ix = setup(sb, x, ax, q, 1)
                    ly, iy = setup(sb, y, ay, q if where == "at" else q + "/q", 2)
                    if swap and lx != ly:
                        continue  # in two lists: their order is the kinds'
                    decl = {}
                    for lst, it in ((ly, iy), (lx, ix)) if swap else ((lx, ix), (ly, iy)):
                        decl.setdefault(lst, []).append(it)
                    name = "%s.%s, %s %s %s" % (x, ax, "then" if not swap else "after", where, "%s.%s" % (y, ay))
                    problems, outcome = check(sb, decl)
                    if VERBOSE:
                        print("%s: %s" % (name, outcome))
                        outcome = outcome.split(":")[0]
                    seen[outcome] = seen.get(outcome, 0) + 1
                    if problems:
                        failures += 1
                        print("FAIL: %s\n  declaration: %s\n  %s" % (name, json.dumps(decl), "\n  ".join(problems)))
                except AssertionError as e:
                    failures += 1
                    print("FAIL: %s: %s" % (x + "/" + y, e))
                finally:
                    sb.close()
    print("pairs: %s; %d failed" % (", ".join("%d %s" % (v, k) for k, v in sorted(seen.items())), failures))
    return failures


# ---------------------------------------------------------------------------------------
# Random declarations over random trees: a few names, each a directory, a file, a link
# (relative or absolute, to another name, perhaps missing) or nothing; an alias (a link
# to a directory) so that one path has two spellings.

NAMES = ["a", "a/b", "a/b/c", "a/d", "e", "e/f", "al", "al/b", "al/b/c", "e/g"]
FRESH = ["a/x", "a/b/x", "e/x", "al/x", "al/b/x", "x"]  # never made by the tree: free places


def random_tree(rng, r):
    base_tree(r)
    for name in NAMES:
        p = os.path.join(r, name)
        what = rng.choice(["dir", "dir", "file", "link", "link", "none", "none"])
        if name == "al" and rng.random() < 0.7:
            what = "alias"
        if what == "dir":
            quietly(os.makedirs, p, 0o755, True)
        elif what == "file":
            quietly(write, p, name + "\n")
        elif what == "alias":
            quietly(os.symlink, "a", p)
        elif what == "link":
            # (Not to itself: tether cannot make such a link, so an undo that must put one
            # back fails, apply or not; that is tether.symlink's to fix.)
            t = rng.choice([n for n in NAMES if n != name] + ["targets/t1", "targets/old", "nowhere"])
            quietly(os.symlink, os.path.relpath(os.path.join(r, t), os.path.dirname(p)) if rng.random() < 0.5
                    else os.path.join(r, t), p)


def random_item(rng, sb, n, taken):
    r = sb.root

    def at():  # a place no other item names as typed (as two spellings, it may)
        name = rng.choice([p for p in NAMES + FRESH if p not in taken] or NAMES)
        taken.add(name)
        return os.path.join(r, name)

    kind = rng.choice(["link", "link", "link", "absent", "dir", "dir", "hard", "migration", "farm", "retarget"])
    if kind == "link":
        target = rng.choice(NAMES + ["targets/t1", "targets/t2", "targets/old"])
        it = {"path": at(), "target": os.path.join(r, target)}
        if rng.random() < 0.5:
            it["relative"] = True
        if rng.random() < 0.5:
            it["force"] = True
        return "links", it
    if kind == "absent":
        return "absent", at()
    if kind == "dir":
        return "dirs", at()
    if kind == "hard":
        return "links", {"path": at(), "target": rng.choice([r + "/targets/file", at()]), "type": "hard"}
    if kind == "migration":
        return "migrations", {"from": at(), "to": rng.choice([sb.shm + "/m%d" % n, at()])}
    if kind == "farm":
        stow = r + "/stow"
        for pkg in ("p1", "p2"):
            quietly(os.makedirs, os.path.join(stow, pkg, "pd"), 0o755, True)
            quietly(write, os.path.join(stow, pkg, pkg + "-file"), pkg + "\n")
            quietly(write, os.path.join(stow, pkg, "pd", pkg), pkg + "\n")
        return "farms", {"dir": stow, "target": at(), "packages": rng.sample(["p1", "p2"], rng.randint(1, 2))}
    quietly(os.symlink, r + "/old/x", os.path.join(r, rng.choice(NAMES), "rl"))
    return "retarget", {"under": at(), "from": r + "/old", "to": r + "/new"}


def randomized(work, seconds):
    first = int(os.environ.get("TETHER_APPLY_SEED", "0")) or random.SystemRandom().randrange(1, 2 ** 31)
    end, failures, runs, seen = time.monotonic() + seconds, 0, 0, {}
    seed = first
    while runs == 0 or (time.monotonic() < end and "TETHER_APPLY_SEED" not in os.environ):
        rng, decl = random.Random(seed), {}
        sb = Sandbox(work)
        try:
            random_tree(rng, sb.root)
            decl = {}
            taken = set()
            for n in range(rng.randint(1, 4)):
                lst, it = random_item(rng, sb, n, taken)
                decl.setdefault(lst, []).append(it)
            problems, outcome = check(sb, decl)
            if VERBOSE:
                print("seed %d: %s: %s" % (seed, json.dumps(decl), outcome))
                outcome = outcome.split(":")[0]
            seen[outcome] = seen.get(outcome, 0) + 1
        except AssertionError as e:
            problems = [str(e)]
        finally:
            sb.close()
        if problems:
            failures += 1
            print("FAIL: seed %d (TETHER_APPLY_SEED=%d repeats it)\n  declaration: %s\n  %s"
                  % (seed, seed, json.dumps(decl), "\n  ".join(problems)))
        runs += 1
        seed += 1
    print("random: %d declarations from seed %d (%s); %d failed"
          % (runs, first, ", ".join("%d %s" % (v, k) for k, v in sorted(seen.items())), failures))
    return failures


if __name__ == "__main__":
    work = os.environ.get("WORK") or tempfile.gettempdir()
    if sys.argv[1] == "pairs":
        sys.exit(1 if pairs(work) else 0)
    sys.exit(1 if randomized(work, float(sys.argv[2])) else 0)
