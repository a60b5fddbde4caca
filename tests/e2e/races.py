#!/usr/bin/env python3
"""Symlink races, driven by test_races.sh (run as root).

An attacker (uid 65534) owns directories inside a tree that root runs tether on, and
swaps one of them for a symlink to a root-only "victim" directory while tether works.
The victim holds what each recipe looks for (dangling links for prune, links under
--from for retarget, identical files for dedupe, a folder of the same name for migrate),
so a change that followed the swapped name would find something to do there. Three ways
of swapping:

  exchange  renameat2(RENAME_EXCHANGE) of the directory and the link, in a tight loop;
  inotify   one exchange each time tether creates, renames or removes a name in the
            directory (its temporary .tether-* names included): the swap lands right
            after tether looked;
  strace    the tight loop, with tether run under strace -e inject=...:delay_enter on
            every syscall that changes something, so that each one waits long enough for
            a swap to land between the check and the act.

Each recipe (prune, unlink, farm unlink, retarget, relativize, dedupe, undo of prune,
dedupe and retarget, migrate) runs ROUNDS rounds under attack, the modes taking turns.
A round passes when the victim is byte-for-byte and inode-for-inode what it was
(contents, types, link targets, inode numbers, link counts, modes, owners, times), tether
exited with a code of the brief and printed no traceback. The same runs on the same trees
without an attacker must give exactly the result they give without any threat.

usage: races.py [--rounds N] [--only RECIPE] [--show]
       races.py attack MODE A B CTL   (the attacker's side, as uid 65534)
"""
import ctypes
import hashlib
import os
import select
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time

NOBODY = 65534
AT_FDCWD = -100
RENAME_EXCHANGE = 2
libc = ctypes.CDLL(None, use_errno=True)


def exchange(a, b):
    return libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), RENAME_EXCHANGE)


# ---------------------------------------------------------------- the attacker's side

def attack(mode, a, b, ctl):
    """Swaps a and b until ctl/stop appears; writes ctl/ready once it is set up."""
    stop = os.path.join(ctl, "stop")
    if mode == "inotify":
        IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
        fd = libc.inotify_init1(os.O_NONBLOCK)
        # The watch follows the directory itself, whatever name it has at the moment.
        libc.inotify_add_watch(fd, a.encode(), IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE)
        open(os.path.join(ctl, "ready"), "w").close()
        while not os.path.exists(stop):
            ready, _, _ = select.select([fd], [], [], 0.01)
            if not ready:
                continue
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                continue
            at = 0
            while at < len(data):
                _, _, _, n = struct.unpack_from("iIII", data, at)
                at += 16 + n
                exchange(a, b)
        return
    open(os.path.join(ctl, "ready"), "w").close()
    n = 0
    while True:
        exchange(a, b)
        n += 1
        if n % 512 == 0 and os.path.exists(stop):
            return


if len(sys.argv) > 1 and sys.argv[1] == "attack":
    attack(*sys.argv[2:6])
    sys.exit(0)

# ---------------------------------------------------------------- the harness

TETHER = os.environ["TETHER"]
ROUNDS = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 50
ONLY = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
SHOW = "--show" in sys.argv  # print what tether said in each attacked round
MODES = ["exchange", "inotify", "strace"]
CODES = {0, 1, 3, 4}
passed = failed = 0


def note(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what + ("\n  " + detail.replace("\n", "\n  ") if detail else ""))
        sys.stdout.flush()


def bug_report(text):
    return any(s in text for s in ("Sanitizer", "runtime error:", "stack traceback", "internal error"))


def listing(top):
    """Everything about every entry under top, and top itself: what must not change."""
    out = {}
    for dirpath, dirs, files in os.walk(top):
        for name in ["."] + dirs + files:
            p = os.path.normpath(os.path.join(dirpath, name))
            st = os.lstat(p)
            entry = (stat.S_IFMT(st.st_mode), st.st_ino, st.st_nlink, stat.S_IMODE(st.st_mode), st.st_uid,
                     st.st_gid, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            if stat.S_ISLNK(st.st_mode):
                entry += (os.readlink(p),)
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    entry += (hashlib.sha256(f.read()).hexdigest(),)
            out[os.path.relpath(p, top)] = entry
    return out


def differences(a, b):
    keys = sorted(set(a) | set(b))
    return ["%s: %s -> %s" % (k, a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k)][:8]


class Round:
    """One sandbox: base/{tree (the attacker's), victim (root's, 0700), state, ctl}."""

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="tether-races-", dir=os.environ.get("TMPDIR", "/tmp"))
        os.chmod(self.base, 0o755)
        self.shm = tempfile.mkdtemp(prefix="tether-races-", dir="/dev/shm")
        for d, mode in (("tree", 0o755), ("victim", 0o700), ("state", 0o700), ("ctl", 0o755)):
            os.mkdir(self.p(d), mode)
        os.chown(self.p("tree"), NOBODY, NOBODY)
        os.chown(self.p("ctl"), NOBODY, NOBODY)
        self.env = dict(os.environ, XDG_STATE_HOME=self.p("state"))

    def p(self, *rel):
        return os.path.join(self.base, *rel)

    def mkdir(self, rel, owner=0):
        os.makedirs(self.p(rel), exist_ok=True)
        os.chown(self.p(rel), owner, owner)

    def file(self, rel, text, mtime=1_700_000_000):
        with open(self.p(rel), "w") as f:
            f.write(text)
        os.chmod(self.p(rel), 0o644)
        os.utime(self.p(rel), (mtime, mtime))

    def link(self, target, rel, owner=0):
        os.symlink(target, self.p(rel))
        os.lchown(self.p(rel), owner, owner)

    def tether(self, args, mode=None):
        cmd = [TETHER, "-q", "--no-progress"] + args
        if mode == "strace":
            acts = "unlinkat,unlink,rmdir,renameat,renameat2,rename,symlinkat,symlink,linkat,link,mkdirat,fchmodat,fchownat"
            cmd = ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + acts,
                   "-e", "inject=" + acts + ":delay_enter=3000"] + cmd
        env = self.env
        if mode == "strace":  # LeakSanitizer cannot work under ptrace; the rest of ASan can
            env = dict(env, ASAN_OPTIONS=":".join(filter(None, [env.get("ASAN_OPTIONS"), "detect_leaks=0"])))
        r = subprocess.run(cmd, cwd=self.base, env=env, capture_output=True, text=True, timeout=120)
        return r.returncode, r.stdout, r.stderr

    def attacker(self, mode, a, b):
        """Starts the attacker swapping base/a and base/b; returns its process."""
        proc = subprocess.Popen(["setpriv", "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups",
                                 sys.executable, os.path.abspath(__file__), "attack",
                                 "inotify" if mode == "inotify" else "exchange", self.p(a), self.p(b),
                                 self.p("ctl")])
        for _ in range(500):
            if os.path.exists(self.p("ctl", "ready")) or proc.poll() is not None:
                break
            time.sleep(0.01)
        return proc

    def stop(self, proc):
        open(self.p("ctl", "stop"), "w").close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for name in ("stop", "ready"):
            if os.path.exists(self.p("ctl", name)):
                os.unlink(self.p("ctl", name))

    def close(self):
        for top in (self.base, self.shm):
            subprocess.run(["chmod", "-R", "u+rwx", top], stderr=subprocess.DEVNULL)
            shutil.rmtree(top, ignore_errors=True)


# ---------------------------------------------------------------- the recipes
#
# Each scenario: build(r) makes the tree and the victim and returns the swap (A, B):
# A the attacker's directory in the tree, B the attacker's link beside it that leads
# into the victim; prep(r) runs what comes before the attacked command (without an
# attacker); args(r) is that command; result(r) describes the tree after it (compared
# between runs without an attacker: it must be what it is without any threat).

N = 12


def dead_links(r, where, owner=0):
    r.mkdir(where)
    for i in range(N):
        r.link("missing-%d" % i, "%s/dead%d" % (where, i), owner)


def swap_to_victim(r, a, vdir):
    """The attacker's link B beside A, leading to victim/vdir: (A, B)."""
    b = os.path.join(os.path.dirname(a), ".x")
    r.link(r.p("victim", vdir), b, NOBODY)
    os.chown(r.p(a), NOBODY, NOBODY)
    return a, b


def links_of(r, top):
    """Every link under top (relative to base): its target."""
    out = {}
    for dirpath, dirs, files in os.walk(r.p(top)):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            if os.path.islink(p) and name != ".x":  # the attacker's own link is not the result
                out[os.path.relpath(p, r.base)] = os.readlink(p).replace(r.base, "BASE")
    return out


def inodes_of(r, top):
    """Which files under top share an inode (groups of names)."""
    groups = {}
    for dirpath, dirs, files in os.walk(r.p(top)):
        for name in files:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode):
                groups.setdefault(st.st_ino, []).append(os.path.relpath(p, r.base))
    return sorted(sorted(g) for g in groups.values())


def build_prune(r):
    dead_links(r, "tree/d")
    r.file("tree/d/keep", "kept")
    dead_links(r, "victim/d")
    r.file("victim/d/secret", "root's")
    return swap_to_victim(r, "tree/d", "d")


def build_unlink(r):
    return build_prune(r)


def build_farm(r):
    r.mkdir("stow/pkg/bin")
    for i in range(N):
        r.file("stow/pkg/bin/tool%d" % i, "tool %d" % i)
    r.mkdir("tree/t/bin")
    r.file("tree/t/bin/mine", "not the package's")
    r.mkdir("victim/bin")
    for i in range(N):  # root's own links into the package, as farm makes them
        r.link("../../stow/pkg/bin/tool%d" % i, "victim/bin/tool%d" % i)
    return swap_to_victim(r, "tree/t/bin", "bin")


def farm_args(verb):
    return lambda r: ["farm", verb, "pkg", "--dir", "stow", "--target", "tree/t"]


def build_retarget(r, target_dir="old"):
    r.mkdir("old")
    r.mkdir("new")
    for i in range(N):
        r.file("old/f%d" % i, "old %d" % i)
        r.file("new/f%d" % i, "new %d" % i)
    r.mkdir("tree/d")
    r.mkdir("victim/d")
    for i in range(N):
        r.link(r.p(target_dir, "f%d" % i), "tree/d/l%d" % i)
        r.link(r.p(target_dir, "f%d" % i), "victim/d/l%d" % i)
    return swap_to_victim(r, "tree/d", "d")


def build_relativize(r):
    return build_retarget(r, "new")


def build_dedupe(r):
    r.mkdir("tree/d")
    r.mkdir("tree/e")
    r.mkdir("victim/d")
    for i in range(N):
        text = "content %d\n" % i * 50
        r.file("tree/d/f%d" % i, text)
        r.file("tree/e/f%d" % i, text)
        r.file("victim/d/f%d" % i, text)
    r.file("victim/d/secret", "root's secret\n")
    return swap_to_victim(r, "tree/d", "d")


def build_migrate(r):
    r.mkdir("tree/d/proj/sub")
    r.mkdir("victim/d/proj/sub")
    for i in range(N):
        r.file("tree/d/proj/sub/f%d" % i, "project %d\n" % i)
        r.file("victim/d/proj/sub/f%d" % i, "root's %d\n" % i)
    return swap_to_victim(r, "tree/d", "d")


def real_dir(r, a):
    """Where the attacker's directory is now (at A, or at the link's name B)."""
    b = os.path.join(os.path.dirname(a), ".x")
    return r.p(a) if not os.path.islink(r.p(a)) else r.p(b)


def files_whole(r, a, want):
    """The user's files kept their content, wherever the swaps left their directory
    (A, or a folder below A)."""
    top, rest = (a, "") if a.count("/") <= 1 else ("/".join(a.split("/")[:2]), "/".join(a.split("/")[2:]))
    d = os.path.join(real_dir(r, top), rest)
    for name, text in want.items():
        p = os.path.join(d, name)
        if not os.path.isfile(p):
            return False
        with open(p) as f:
            if f.read() != text:
                return False
    return True


def dedupe_whole(r):
    want = {"f%d" % i: "content %d\n" % i * 50 for i in range(N)}
    return files_whole(r, "tree/d", want) and files_whole(r, "tree/e", want)


def migrate_whole(r):
    """The project is whole: still the folder, or a link to a complete copy."""
    want = {"sub/f%d" % i: "project %d\n" % i for i in range(N)}
    proj = os.path.join(real_dir(r, "tree/d"), "proj")
    if os.path.islink(proj):
        return os.readlink(proj) == os.path.join(r.shm, "dest") and files_whole(r, "tree/d/proj", want)
    return files_whole(r, "tree/d/proj", want)


def migrate_result(r):
    src = r.p("tree/d/proj")
    return (os.readlink(src).replace(r.shm, "SHM") if os.path.islink(src) else "not a link",
            sorted(os.listdir(os.path.join(r.shm, "dest", "sub"))))


# What must hold after an attacked round besides the victim: the user's data whole.
WHOLE = {"dedupe": dedupe_whole, "undo of dedupe": dedupe_whole, "migrate": migrate_whole}

SCENARIOS = [
    ("prune", build_prune, None, lambda r: ["prune", "tree"], lambda r: links_of(r, "tree")),
    ("unlink", build_unlink, None, lambda r: ["unlink"] + ["tree/d/dead%d" % i for i in range(N)],
     lambda r: links_of(r, "tree")),
    ("farm unlink", build_farm, farm_args("link"), farm_args("unlink"), lambda r: links_of(r, "tree")),
    ("retarget", build_retarget, None, lambda r: ["retarget", "tree", "--from", r.p("old"), "--to", r.p("new")],
     lambda r: links_of(r, "tree")),
    ("relativize", build_relativize, None, lambda r: ["relativize", "tree"], lambda r: links_of(r, "tree")),
    ("dedupe", build_dedupe, None, lambda r: ["dedupe", "tree"], lambda r: inodes_of(r, "tree")),
    ("undo of prune", build_prune, lambda r: ["prune", "tree"], lambda r: ["undo"], lambda r: links_of(r, "tree")),
    ("undo of dedupe", build_dedupe, lambda r: ["dedupe", "tree"], lambda r: ["undo"],
     lambda r: inodes_of(r, "tree")),
    ("undo of retarget", build_retarget,
     lambda r: ["retarget", "tree", "--from", r.p("old"), "--to", r.p("new")], lambda r: ["undo"],
     lambda r: links_of(r, "tree")),
    ("migrate", build_migrate, None, lambda r: ["migrate", "tree/d/proj", os.path.join(r.shm, "dest")],
     migrate_result),
]


def run(name, build, prep, args, result, mode):
    """One round; mode None: no attacker. Returns (exit code, result) or None."""
    r = Round()
    try:
        a, b = build(r)
        if prep:
            code, out, err = r.tether(prep(r))
            if code != 0:
                note(False, "%s: preparing" % name, err)
                return None
        before = listing(r.p("victim"))
        proc = r.attacker(mode, a, b) if mode else None
        try:
            code, out, err = r.tether(args(r), mode)
        finally:
            if proc:
                r.stop(proc)
        what = "%s, %s" % (name, mode or "no attacker")
        after = listing(r.p("victim"))
        note(after == before, what + ": the victim is unchanged", "\n".join(differences(before, after)))
        note(code in CODES and not bug_report(out + err), what + ": exit %d, no bug report" % code, err)
        if name in WHOLE:
            note(WHOLE[name](r), what + ": the user's data is whole", err)
        if mode:
            if SHOW:
                print("  %s: exit %d: %s" % (what, code, err.strip().replace("\n", "\n    ")))
            return code
        return code, result(r), err
    finally:
        r.close()


def main():
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("skipped: the races need root and setpriv (an attacker at uid 65534, a root-only victim)")
        return 0
    probe = ["strace", "-qq", "-o", "/dev/null", "-e", "trace=getpid", "-e", "inject=getpid:delay_enter=1", "true"]
    if not shutil.which("strace") or subprocess.run(probe, capture_output=True).returncode != 0:
        print("note: strace cannot inject delays here (not installed, or ptrace refused): "
              "the rounds take turns between the other two ways of swapping")
        MODES.remove("strace")
    start = time.time()
    for name, build, prep, args, result in SCENARIOS:
        if ONLY and name != ONLY:
            continue
        # Without an attacker: twice, the same result both times, and exit 0.
        calm = [run(name, build, prep, args, result, None) for _ in range(2)]
        if None not in calm:
            note(calm[0][0] == 0, "%s without an attacker: exit 0" % name, calm[0][2])
            note(calm[0][1] == calm[1][1], "%s without an attacker: the same result every time" % name,
                 "%s\n%s" % (calm[0][1], calm[1][1]))
            note(calm[0][1] == EXPECTED[name], "%s without an attacker: the expected result" % name,
                 "got %s" % (calm[0][1],))
        t0 = time.time()
        codes = {}
        for i in range(ROUNDS):
            mode = MODES[i % len(MODES)]
            code = run(name, build, prep, args, result, mode)
            codes.setdefault(mode, []).append(code)
        print("%s: %d rounds under attack, %.1f s; exit codes: %s" % (
            name, ROUNDS, time.time() - t0,
            ", ".join("%s %s" % (m, " ".join(str(c) for c in sorted(set(v)))) for m, v in codes.items())))
        sys.stdout.flush()
    print("%d passed, %d failed (%.0f s)" % (passed, failed, time.time() - start))
    return 1 if failed else 0


# What each recipe does to the tree when nobody interferes (BASE and SHM: the sandbox).
EXPECTED = {
    "prune": {},
    "unlink": {},
    "farm unlink": {},
    "retarget": {"tree/d/l%d" % i: "BASE/new/f%d" % i for i in range(N)},
    "relativize": {"tree/d/l%d" % i: "../../new/f%d" % i for i in range(N)},
    "dedupe": sorted(sorted(["tree/d/f%d" % i, "tree/e/f%d" % i]) for i in range(N)),
    "undo of prune": {"tree/d/dead%d" % i: "missing-%d" % i for i in range(N)},
    "undo of dedupe": sorted([["tree/d/f%d" % i] for i in range(N)] + [["tree/e/f%d" % i] for i in range(N)]),
    "undo of retarget": {"tree/d/l%d" % i: "BASE/old/f%d" % i for i in range(N)},
    "migrate": ("SHM/dest", sorted("f%d" % i for i in range(N))),
}

if __name__ == "__main__":
    sys.exit(main())
