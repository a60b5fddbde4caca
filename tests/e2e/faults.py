#!/usr/bin/env python3
"""The fault matrix of docs/migration.md, driven by test_migrate_faults.sh.

Every step of a migration, of its undo and of its rollback meets every fault (SIGKILL;
EPERM from chattr +i, or a 0555 directory for an unprivileged user; EACCES; EBUSY from a
mount; ENOSPC from a full disk; DEST filled by another process), provoked for real at the
instant the step begins (tether's test hook runs the command then). The faulted command
must end with an exit code of the brief. Then the obstacle is taken away and each recovery
a user can reach is tried on its own copy of that state: none (what the run did by
itself), --resume, --rollback, undo, and each of those killed at its first step and run
again. After that, whatever --status says still needs doing is done, and the data must be
whole (the original at SRC, or SRC a link to a complete DEST; compared with a pristine
copy, metadata included), with no .tether-* name left and no traceback ever printed.

usage: faults.py [--sample N]  (N: run every Nth scenario, rotating; for the sanitizer pass)
The scenarios are shared by two worker processes, one sandbox each.
"""
import glob
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import treecmp  # noqa: E402

TETHER = os.environ["TETHER"]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.geteuid() == 0
SAMPLE = int(sys.argv[sys.argv.index("--sample") + 1]) if "--sample" in sys.argv else 1

passed = failed = 0
log = []


def note(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what + ("\n  " + detail.replace("\n", "\n  ") if detail else ""))


def sh(cmd):
    subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Sandbox:
    """SRC's parent on the root filesystem, DEST's parent and the journal each on a small
    tmpfs of their own (so a full disk can be made), everything owned by `who`."""

    def __init__(self, who):
        self.who = who
        self.work = tempfile.mkdtemp(prefix="tether-faults-", dir=os.environ.get("TMPDIR", "/tmp"))
        os.chmod(self.work, 0o755)
        self.sp = os.path.join(self.work, "sp")
        self.dp = os.path.join(self.work, "dp")
        self.state = os.path.join(self.work, "state")
        self.pristine = os.path.join(self.work, "pristine")
        self.mounts = []
        for d in (self.sp, self.dp, self.state):
            os.mkdir(d)
        if ROOT:
            for d, opts in ((self.sp, "size=16m,nr_inodes=300"), (self.dp, "size=16m"), (self.state, "size=4m")):
                if subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", d]).returncode == 0:
                    self.mounts.append(d)
        self.src = os.path.join(self.sp, "src")
        self.dest = os.path.join(self.dp, "dest")
        self.make_data(self.pristine)

    def make_data(self, d):
        """A small tree with what a migration must keep: a sub-directory, a hard link, a
        relative and an inner absolute link, odd modes and times."""
        os.makedirs(os.path.join(d, "sub", "deep"))
        for i in range(12):
            with open(os.path.join(d, "sub", "f%d" % i), "wb") as f:
                f.write(os.urandom(1000 + 997 * i))
        with open(os.path.join(d, "top"), "w") as f:
            f.write("top\n")
        with open(os.path.join(d, "sub", "deep", "leaf"), "w") as f:
            f.write("leaf\n")
        os.link(os.path.join(d, "sub", "f1"), os.path.join(d, "hard"))
        os.symlink("sub/f2", os.path.join(d, "rel"))
        os.symlink(os.path.join(self.src, "top"), os.path.join(d, "abs"))
        os.chmod(os.path.join(d, "top"), 0o640)
        os.utime(os.path.join(d, "sub", "f3"), ns=(1_000_000_000_123, 1_000_000_000_123))

    def unmount(self, keep):
        """Takes away what a fault mounted under the sandbox (deepest first)."""
        with open("/proc/self/mountinfo") as f:
            points = [line.split()[4].replace("\\040", " ") for line in f]
        for m in sorted((m for m in points if m.startswith(self.work + "/") and m not in keep),
                        key=len, reverse=True):
            subprocess.run(["umount", "-l", m], stderr=subprocess.DEVNULL)

    def reset(self):
        """A fresh SRC (a copy of the pristine tree), nothing else, everything unlocked."""
        sh("chattr -R -i '%s' '%s' '%s' 2>/dev/null" % (self.sp, self.dp, self.state))
        self.unmount(self.mounts)
        sh("chmod -R u+rwx '%s' '%s' '%s' 2>/dev/null" % (self.sp, self.dp, self.state))
        os.chmod(self.sp, 0o755)
        os.chmod(self.dp, 0o755)
        for d in (self.sp, self.dp, self.state):
            for e in os.listdir(d):
                p = os.path.join(d, e)
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p)
                else:
                    os.unlink(p)
        subprocess.run(["cp", "-a", self.pristine, self.src], check=True)
        if self.who != "root":
            sh("chown -R 65534:65534 '%s' '%s' '%s' '%s'" % (self.sp, self.dp, self.state, self.pristine))

    def close(self):
        sh("chattr -R -i '%s' 2>/dev/null" % self.work)
        self.unmount([])
        sh("chmod -R u+rwx '%s'" % self.work)
        shutil.rmtree(self.work, ignore_errors=True)

    def subst(self, cmd):
        return cmd.format(SP=self.sp, DP=self.dp, S=self.src, D=self.dest, J=self.state,
                          T=self.dp + "/.tether-tmp-*-dest", B=self.sp + "/.tether-backup-*-src",
                          BT=self.sp + "/.tether-undo-*-src", BA=self.dp + "/.tether-backup-*-dest")

    def run(self, args, env=None):
        """tether ARGS as the sandbox's user; (rc, stdout, stderr)."""
        e = dict(os.environ, XDG_STATE_HOME=self.state)
        e.pop("TETHER_CRASH_AT", None)
        e.pop("TETHER_TEST_AT", None)
        e.update(env or {})
        cmd = [TETHER, "-q"] + args
        if self.who != "root":
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + cmd
        p = subprocess.run(cmd, cwd=self.sp, env=e, capture_output=True, text=True)
        rc = p.returncode if p.returncode >= 0 else 128 - p.returncode  # as a shell says it
        log.append("%s -> %d %s" % (" ".join(args), rc, p.stderr.strip()))
        for bug in ("stack traceback", "internal error", "Sanitizer", "runtime error:"):
            note(bug not in p.stderr, "no bug report from tether " + " ".join(args), p.stderr)
        return rc, p.stdout, p.stderr

    def status(self):
        rc, out, err = self.run(["--json", "migrate", "--status"])
        runs = json.loads(out)["runs"] if rc == 0 and out.strip() else []
        return runs[-1] if runs else None


# The matrix: (sequence, step, fault, who, hook command, fix command, exit codes the
# faulted command may end with). Hooks run at "STEP:begin" ("undo-STEP:begin" for the
# undo, "rollback-STEP:begin" for a rollback's step), or SIGKILL there for "kill".
# The journal's disk full, or gone read-only, at that instant: injected (a record still
# fits tmpfs's last page, and chattr +i does not stop a file already open).
JOURNAL_FULL = ("journal:ENOSPC", "")
JOURNAL_EPERM = ("journal:EPERM", "")
INODES_FULL = "i=0; while touch {SP}/fill$i 2>/dev/null; do i=$((i+1)); done"
DEST_FULL = ("dd if=/dev/zero of={DP}/filler bs=64k 2>/dev/null; true", "rm -f {DP}/filler")
FOREIGN_DEST = ("mkdir -p {D} && echo theirs > {D}/foreign", "true")
M = [
    # migrate
    ("migrate", "copy", "kill", "root", "copy:3", "", (137,)),
    ("migrate", "copy", "EPERM", "root", "chattr +i {T}", "chattr -i {T}", (4,)),  # at copy:3
    ("migrate", "copy", "EACCES", "nobody", "chmod 000 {S}/sub", "chmod 755 {S}/sub", (3,)),
    ("migrate", "copy", "EBUSY", "root", "mount -t tmpfs tmpfs {S}/sub", "umount {S}/sub", (3,)),
    ("migrate", "copy", "ENOSPC", "root") + DEST_FULL + ((3,),),
    ("migrate", "copy", "DEST", "root") + FOREIGN_DEST + ((3,),),
    ("migrate", "verify", "kill", "root", "verify:5", "", (137,)),
    ("migrate", "verify", "EPERM", "root") + JOURNAL_EPERM + ((4,),),
    ("migrate", "verify", "EACCES", "nobody", "chmod 000 {T}/sub", "chmod 755 {T}/sub", (3, 4)),
    ("migrate", "verify", "EBUSY", "root", "mount -t tmpfs tmpfs {T}/sub", "umount {T}/sub", (3, 4)),
    ("migrate", "verify", "ENOSPC", "root") + JOURNAL_FULL + ((4,),),
    ("migrate", "verify", "DEST", "root") + FOREIGN_DEST + ((3,),),
    ("migrate", "place", "kill", "root", "place:begin", "", (137,)),
    ("migrate", "place", "EPERM", "root", "chattr +i {DP}", "chattr -i {DP}", (4,)),
    ("migrate", "place", "EACCES", "nobody", "chmod 555 {DP}", "chmod 755 {DP}", (4,)),
    ("migrate", "place", "EBUSY", "root", "mount -t tmpfs tmpfs {T}", "umount {T}", (3, 4)),
    ("migrate", "place", "ENOSPC", "root") + JOURNAL_FULL + ((4,),),
    ("migrate", "place", "DEST", "root") + FOREIGN_DEST + ((3,),),
    ("migrate", "aside", "kill", "root", "aside:begin", "", (137,)),
    ("migrate", "aside", "EPERM", "root", "chattr +i {SP}", "chattr -i {SP}", (3,)),
    ("migrate", "aside", "EACCES", "nobody", "chmod 555 {SP}", "chmod 755 {SP}", (3,)),
    ("migrate", "aside", "EBUSY", "root", "mount -t tmpfs tmpfs {S}", "umount {S}", (3, 4)),
    ("migrate", "aside", "ENOSPC", "root") + JOURNAL_FULL + ((4,),),
    ("migrate", "aside", "DEST", "root", "echo theirs > {D}/foreign", "true", (0,)),
    ("migrate", "check", "kill", "root", "check:begin", "", (137,)),
    ("migrate", "check", "EPERM", "root", "for d in {B}; do echo late > $d/foreign; done", "true", (3,)),  # a late write
    ("migrate", "check", "EACCES", "nobody", "chmod 000 {B}/sub", "chmod 755 {S}/sub {B}/sub 2>/dev/null; true", (3, 4)),
    ("migrate", "check", "EBUSY", "root", "mount -t tmpfs tmpfs {B}/sub", "umount {S}/sub {B}/sub 2>/dev/null; true", (3, 4)),
    ("migrate", "check", "ENOSPC", "root") + JOURNAL_FULL + ((4,),),
    ("migrate", "check", "DEST", "root", "echo theirs > {D}/foreign", "true", (0,)),
    ("migrate", "link", "kill", "root", "link:begin", "", (137,)),
    ("migrate", "link", "EPERM", "root", "chattr +i {SP}", "chattr -i {SP}", (4,)),
    ("migrate", "link", "EACCES", "nobody", "chmod 555 {SP}", "chmod 755 {SP}", (4,)),
    ("migrate", "link", "EBUSY", "root", "mkdir {S} && mount -t tmpfs tmpfs {S}", "umount {S} && rmdir {S}", (4,)),
    ("migrate", "link", "ENOSPC", "root", INODES_FULL, "rm -f {SP}/fill*", (3,)),  # no inode for the link
    ("migrate", "link", "DEST", "root", "echo theirs > {D}/foreign", "true", (0,)),
    ("migrate", "cleanup", "kill", "root", "cleanup:begin", "", (137,)),
    ("migrate", "cleanup", "EPERM", "root", "chattr +i {B}/sub/f4", "chattr -i {B}/sub/f4", (4,)),
    ("migrate", "cleanup", "EACCES", "nobody", "chmod 555 {B}/sub", "true", (0,)),  # its own: made writable
    ("migrate", "cleanup", "EBUSY", "root", "mount -t tmpfs tmpfs {B}/sub", "umount {S}/sub {B}/sub 2>/dev/null; true", (4,)),
    ("migrate", "cleanup", "ENOSPC", "root") + JOURNAL_FULL + ((4,),),
    ("migrate", "cleanup", "DEST", "root", "echo theirs > {D}/foreign", "true", (0,)),
    # undo of a finished migration
    ("undo", "copy", "kill", "root", "undo-copy:2", "", (137,)),
    ("undo", "copy", "EPERM", "root", "chattr +i {SP}", "chattr -i {SP}", (3,)),
    ("undo", "copy", "EACCES", "nobody", "chmod 000 {D}/sub", "chmod 755 {D}/sub", (3,)),
    ("undo", "copy", "EBUSY", "root", "mount -t tmpfs tmpfs {D}/sub", "umount {D}/sub", (3,)),
    ("undo", "copy", "ENOSPC", "root") + JOURNAL_FULL + ((4,),),
    ("undo", "copy", "DEST", "root", "echo theirs > {D}/foreign", "true", (3,)),  # caught by its check
    ("undo", "verify", "kill", "root", "undo-verify:begin", "", (137,)),
    ("undo", "verify", "EPERM", "root") + JOURNAL_EPERM + ((4,),),
    ("undo", "verify", "EACCES", "nobody", "chmod 000 {BT}/sub", "chmod 755 {BT}/sub", (3, 4)),
    ("undo", "verify", "EBUSY", "root", "mount -t tmpfs tmpfs {BT}/sub", "umount {BT}/sub", (3, 4)),
    ("undo", "verify", "ENOSPC", "root") + JOURNAL_FULL + ((4,),),
    ("undo", "verify", "DEST", "root", "echo theirs > {D}/foreign", "true", (3,)),
    ("undo", "aside", "kill", "root", "undo-aside:begin", "", (137,)),
    ("undo", "aside", "EPERM", "root", "chattr +i {DP}", "chattr -i {DP}", (3,)),
    ("undo", "aside", "EACCES", "nobody", "chmod 555 {DP}", "chmod 755 {DP}", (3,)),
    ("undo", "aside", "EBUSY", "root", "mount -t tmpfs tmpfs {D}", "umount {D}", (3, 4)),
    ("undo", "aside", "ENOSPC", "root") + JOURNAL_FULL + ((4,),),
    ("undo", "aside", "DEST", "root", "echo theirs > {D}/foreign", "true", (3,)),
    ("undo", "check", "kill", "root", "undo-check:begin", "", (137,)),
    ("undo", "check", "EPERM", "root", "for d in {BA}; do echo late > $d/sub/foreign; done", "true", (3,)),  # a late write
    ("undo", "check", "EACCES", "nobody", "chmod 000 {BA}/sub", "chmod 755 {D}/sub {BA}/sub 2>/dev/null; true", (3, 4)),
    ("undo", "check", "EBUSY", "root", "mount -t tmpfs tmpfs {BA}/sub", "umount {D}/sub {BA}/sub 2>/dev/null; true", (3, 4)),
    ("undo", "check", "ENOSPC", "root") + JOURNAL_FULL + ((4,),),
    ("undo", "check", "DEST", "root", "for d in {BA}; do echo theirs > $d/foreign; done", "true", (3,)),
    ("undo", "unlink", "kill", "root", "undo-unlink:begin", "", (137,)),
    ("undo", "unlink", "EPERM", "root", "chattr +i {SP}", "chattr -i {SP}", (4,)),
    ("undo", "unlink", "EACCES", "nobody", "chmod 555 {SP}", "chmod 755 {SP}", (4,)),
    ("undo", "unlink", "ENOSPC", "root") + JOURNAL_FULL + ((4,),),
    ("undo", "unlink", "DEST", "root", "mkdir {D} && echo theirs > {D}/foreign", "true", (0,)),
    ("undo", "place", "kill", "root", "undo-place:begin", "", (137,)),
    ("undo", "place", "EPERM", "root", "chattr +i {SP}", "chattr -i {SP}", (4,)),
    ("undo", "place", "EACCES", "nobody", "chmod 555 {SP}", "chmod 755 {SP}", (4,)),
    ("undo", "place", "EBUSY", "root", "mount -t tmpfs tmpfs {BT}", "umount {BT}", (4,)),
    ("undo", "place", "ENOSPC", "root") + JOURNAL_FULL + ((4,),),
    ("undo", "place", "DEST", "root", "mkdir {D} && echo theirs > {D}/foreign", "true", (0,)),
    ("undo", "cleanup", "kill", "root", "undo-cleanup:begin", "", (137,)),
    ("undo", "cleanup", "EPERM", "root", "chattr +i {BA}/sub/f4", "chattr -i {BA}/sub/f4", (4,)),
    ("undo", "cleanup", "EACCES", "nobody", "chmod 555 {BA}/sub", "true", (0,)),
    ("undo", "cleanup", "EBUSY", "root", "mount -t tmpfs tmpfs {BA}/sub", "umount {D}/sub {BA}/sub 2>/dev/null; true", (4,)),
    ("undo", "cleanup", "ENOSPC", "root") + JOURNAL_FULL + ((4,),),
    ("undo", "cleanup", "DEST", "root", "mkdir {D} && echo theirs > {D}/foreign", "true", (0,)),
    # a rollback (after a kill just before the check) and its steps
    ("rollback", "aside", "kill", "root", "rollback-aside:begin", "", (137,)),
    ("rollback", "aside", "EPERM", "root", "chattr +i {SP}", "chattr -i {SP}", (4,)),
    ("rollback", "aside", "EACCES", "nobody", "chmod 555 {SP}", "chmod 755 {SP}", (4,)),
    ("rollback", "aside", "EBUSY", "root", "mount -t tmpfs tmpfs {B}", "umount {B}", (4,)),
    ("rollback", "aside", "ENOSPC", "root") + JOURNAL_FULL + ((4,),),
    ("rollback", "aside", "DEST", "root", "echo theirs > {D}/foreign", "rm -f {T}/foreign", (4,)),
    ("rollback", "place", "kill", "root", "rollback-place:begin", "", (137,)),
    ("rollback", "place", "EPERM", "root", "chattr +i {DP}", "chattr -i {DP}", (4,)),
    ("rollback", "place", "EACCES", "nobody", "chmod 555 {DP}", "chmod 755 {DP}", (4,)),
    ("rollback", "place", "EBUSY", "root", "mount -t tmpfs tmpfs {D}", "umount {D}", (4,)),
    ("rollback", "place", "ENOSPC", "root") + JOURNAL_FULL + ((4,),),
    ("rollback", "place", "DEST", "root", "echo theirs > {D}/foreign", "rm -f {T}/foreign", (4,)),
    ("rollback", "copy", "kill", "root", "rollback-copy:begin", "", (137,)),
    ("rollback", "copy", "EPERM", "root", "chattr +i {T}/sub/f4", "chattr -i {T}/sub/f4", (4,)),
    ("rollback", "copy", "EACCES", "nobody", "chmod 555 {T}/sub", "true", (0,)),  # its own copy
    ("rollback", "copy", "EBUSY", "root", "mount -t tmpfs tmpfs {T}/sub", "umount {T}/sub", (4,)),
    ("rollback", "copy", "ENOSPC", "root") + JOURNAL_FULL + ((4,),),
    ("rollback", "copy", "DEST", "root", "mkdir {D} && echo theirs > {D}/foreign", "true", (0,)),
]
# Cells whose fault comes at another instant than the step's beginning.
LABEL = {("migrate", "copy", "EPERM"): "copy:3", ("undo", "copy", "DEST"): "undo-copy:2"}
RECOVERIES = ["auto", "resume", "rollback", "undo", "kill-resume", "kill-rollback", "kill-undo"]


def run_id(sb):
    st = sb.status()
    return st and st["id"]


def recovery_args(what, rid):
    return {"resume": ["migrate", "--resume", rid], "rollback": ["migrate", "--rollback", rid],
            "undo": ["undo", rid]}[what]


def settle(sb, name):
    """Does what --status says still needs doing, until the run has ended."""
    for _ in range(4):
        st = sb.status()
        if not st or st["ended"] or not st.get("next"):
            return st
        args = st["next"].split(" (")[0].split()[1:]  # "tether migrate --resume ID (or ...)"
        rc, _, err = sb.run(args)
        note(rc in (0, 3, 4), name + ": '" + " ".join(args) + "' ends with an exit code of the brief", err)
    return sb.status()


def data_whole(sb, name):
    foreign = ["--ignore", "foreign"]
    if os.path.islink(sb.src):
        dest = os.readlink(sb.src)
        cmp = ["python3", HERE + "/treecmp.py"] + foreign + [sb.pristine, dest, sb.src, dest]
    elif os.path.isdir(sb.src):
        cmp = ["python3", HERE + "/treecmp.py"] + foreign + [sb.pristine, sb.src]
    else:
        note(False, name + ": SRC is the original or a link to a complete DEST", "SRC is missing")
        return
    differs = treecmp.compare(*cmp[2:])
    note(not differs, name + ": the data is whole", "\n".join(differs))


def no_leftovers(sb, name):
    left = glob.glob(sb.sp + "/.tether-*") + glob.glob(sb.dp + "/.tether-*")
    note(not left, name + ": no .tether-* names left", " ".join(left))


def scenario(sb, cell, recovery):
    seq, step, fault, who, hook, fix, expect = cell
    name = "%s %s %s / %s" % (seq, step, fault, recovery)
    del log[:]
    failed_before = failed
    sb.reset()
    src, dest = ["src", sb.dest]
    if seq == "undo":
        rc, _, err = sb.run(["migrate"] + [src, dest])
        note(rc == 0, name + ": the migration to undo", err)
    if seq == "rollback":
        rc, _, _ = sb.run(["migrate", src, dest], {"TETHER_CRASH_AT": "check:begin"})
    label = LABEL.get(cell[:3]) or \
        ("undo-" if seq == "undo" else "rollback-" if seq == "rollback" else "") + step + ":begin"
    if fault == "kill":
        env = {"TETHER_CRASH_AT": hook}
    elif hook.startswith("journal:"):
        env = {"TETHER_TEST_JOURNAL_FAILS_AT": label + "=" + hook.split(":")[1]}
    else:
        env = {"TETHER_TEST_AT": label + "=" + sb.subst(hook)}
    args = {"migrate": ["migrate", src, dest], "undo": ["undo"], "rollback": ["migrate", "--rollback"]}[seq]
    rc, _, err = sb.run(args, env)
    note(rc in expect, name + ": the faulted command ends with %s" % (expect,), "exit %d: %s" % (rc, err))
    if rc == 4:
        st = sb.status()
        note(st is not None and st.get("next"), name + ": --status names the command that finishes", str(st))
    if fix:
        sh(sb.subst(fix))
    rid = run_id(sb)
    if recovery != "auto" and rid:
        what = recovery.replace("kill-", "")
        if recovery.startswith("kill-"):
            rc, _, err = sb.run(recovery_args(what, rid), {"TETHER_CRASH_AT": "first"})
            note(rc in (137, 3, 0), name + ": killed, refused, or (tidying a lock) done before any step", err)
        rc, _, err = sb.run(recovery_args(what, rid))
        note(rc in (0, 3, 4), name + ": " + what + " ends with an exit code of the brief", err)
    st = settle(sb, name)
    note(st is None or st["ended"] or not st.get("next"), name + ": the run has ended", str(st))
    data_whole(sb, name)
    no_leftovers(sb, name)
    if failed != failed_before:
        print("  log of " + name + ":\n    " + "\n    ".join(log))


def worker(jobs):
    """Runs its share of the scenarios; returns (passed, failed)."""
    boxes = {}
    try:
        for cell, recovery in jobs:
            if cell[3] not in boxes:
                boxes[cell[3]] = Sandbox(cell[3])
            scenario(boxes[cell[3]], cell, recovery)
            sys.stdout.flush()
            if failed > 40:
                break
    finally:
        for b in boxes.values():
            b.close()
    return passed, failed


def main():
    cells = [c for c in M if ROOT or c[3] != "root"]
    if not ROOT:
        print("skipped: the root cells (chattr, mounts, full disks); run as root for the whole matrix")
    if not shutil.which("setpriv") or not ROOT:
        cells = [c for c in cells if c[3] == "root"]
    jobs = [(c, r) for c in cells for r in RECOVERIES]
    jobs = [j for n, j in enumerate(jobs, 1) if n % SAMPLE == 0]
    with multiprocessing.Pool(2) as pool:
        results = pool.map(worker, [jobs[0::2], jobs[1::2]])
    p, f = sum(r[0] for r in results), sum(r[1] for r in results)
    print("%d scenarios; %d passed, %d failed" % (len(jobs), p, f))
    sys.exit(1 if f else 0)


if __name__ == "__main__":
    main()
