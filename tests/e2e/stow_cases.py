#!/usr/bin/env python3
"""GNU Stow's own behaviour tests, ported as data and run against real stow: each case
lays out a tree (packages, what is already in the target, .stowrc files), runs the same
stow command line(s) with stow in one copy and with `tether farm` in another, and after
every command compares the WHOLE trees (target, stow directories, rc files: every path,
type, link target and file content), the verdict (both succeed / both refuse with
conflicts / both stop with an error), stow's conflict report line for line, and stow's
warnings (a stow directory skipped, an absolute link ignored).

The cases come from the t/*.t files of stow 2.3.1 (Debian's source); the comment before
each group names the file, and each case keeps the test's name. Ported (PORTED below
counts them by file): every case of stow.t, unstow.t, unstow_orig.t (-p), dotfiles.t,
foldable.t, cleanup_invalid_links.t, defer.t, ignore.t, rc_options.t, cli_options.t,
cli.t and examples.t that describes behaviour. Where a test calls an internal function
(foldable(), cleanup_invalid_links(), defer(), ignore(), process_options()), the case
drives the same situation through the command line, whose outcome shows the function's
answer (a directory folded or not, a link pruned or not, a path deferred or a
conflict, a file linked or not).

Left out, and why (LEFT_OUT below, printed at the end):
  - join_paths.t, parent.t, find_stowed_path.t: unit tests of Perl helpers (path
    string arithmetic) with no command line that shows them apart from the cases here;
  - chkstow.t: tests chkstow, a separate program farm does not replace;
  - examples.t "BUG 2" as written calls Stow->set_stow_dir() between two plans inside one
    Stow object, which the command line cannot do; it is ported as two commands (one per
    stow directory), which shows the same behaviour (a folded link into another, marked
    stow directory is unfolded);
  - examples.t "BUG 1" likewise plans a stow and an unstow in that order in one object
    (the command line always unstows first): ported as two commands;
  - ignore.t's memoization checks (invalidate_memoized_regexp) and the exact Perl text of
    the regex error ("Quantifier follows nothing"): internal, or Perl's wording (the
    verdict, an error naming the file, is compared);
  - rc_options.t / cli_options.t checks of the compiled regex objects (qr(\\Aman)): shown
    instead by what --defer/--override/--ignore do to a tree;
  - tests that run with TEST_VERBOSE debug output: no behaviour.

Where tether farm differs from stow on purpose, the case says so (DIFFERS): what stow does,
what farm does instead, and why; the test checks both sides of the difference.

usage: stow_cases.py TETHER WORKDIR [TEXT]   (only the cases whose name holds TEXT;
exit 0 when every case agrees)"""
import concurrent.futures, os, re, shlex, shutil, subprocess, sys, time

TETHER, WORK = sys.argv[1], sys.argv[2]
STATE = os.path.join(WORK, "state")  # tether's journals, outside the compared trees

CASES = []
LEFT_OUT = [
    ("join_paths.t", 1, "a Perl path helper"),
    ("parent.t", 1, "a Perl path helper"),
    ("find_stowed_path.t", 1, "a Perl helper (its answers are shown by the unstow and marked-directory cases)"),
    ("chkstow.t", 1, "chkstow is another program"),
]


class Diff:
    """A deliberate difference: stow's verdict, farm's, what farm's tree must hold
    (path -> 'd', 'f CONTENT' or 'l TARGET'), and what stow prints."""
    def __init__(self, why, stow, farm, farm_has=(), stow_says=None):
        self.why, self.stow, self.farm, self.farm_has, self.stow_says = why, stow, farm, dict(farm_has), stow_says


def case(src, name, tree, *runs, cwd="target", env=None, differs=None, mirror=False, farm_says=None):
    """A case from stow's t/SRC: TREE is lines 'd PATH', 'f PATH [CONTENT]' (the content
    defaults to the path; \\n is a newline), 'e PATH' (an empty file), 'l PATH TARGET'
    (paths from the sandbox's top, which is also $HOME); each run is a command line (a
    string, $ROOT standing for the sandbox) or (cwd, command line). mirror=True makes
    every directory of the stow directory's packages in the target too (so stow must go
    into each, for the ignore cases). farm_says: text farm's stderr must hold."""
    CASES.append(dict(src=src, name=name, tree=tree, runs=runs, cwd=cwd, env=env or {}, differs=differs,
                      mirror=mirror, farm_says=farm_says))


def build(root, tree, mirror):
    for line in tree.strip().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kind, rest = line[0], line[2:]
        rest = rest.replace("$ROOT", root)
        if kind == "d":
            os.makedirs(os.path.join(root, rest), exist_ok=True)
        elif kind == "e":
            os.makedirs(os.path.dirname(os.path.join(root, rest)) or root, exist_ok=True)
            open(os.path.join(root, rest), "w").close()
        elif kind == "f":
            p, _, content = rest.partition(" ")
            os.makedirs(os.path.dirname(os.path.join(root, p)) or root, exist_ok=True)
            with open(os.path.join(root, p), "w") as f:
                f.write(content.replace("\\n", "\n") if content else p + "\n")
        elif kind == "l":
            p, target = rest.split(" ", 1)
            os.makedirs(os.path.dirname(os.path.join(root, p)) or root, exist_ok=True)
            os.symlink(target, os.path.join(root, p))
        else:
            raise SystemExit("bad tree line: " + line)
    if mirror:
        stow = os.path.join(root, "stow")
        for pkg in os.listdir(stow):
            for d, dirs, _ in os.walk(os.path.join(stow, pkg)):
                for x in dirs:
                    os.makedirs(os.path.join(root, "target", os.path.relpath(os.path.join(d, x), os.path.join(stow, pkg))),
                                exist_ok=True)


def listing(root):
    """Every path below root: type, link target or content ($ROOT for the root)."""
    out = {}
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(d, name)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = "l " + os.readlink(p).replace(root, "$ROOT")
            elif os.path.isdir(p):
                out[rel] = "d"
            else:
                with open(p, "rb") as f:
                    out[rel] = "f " + f.read().decode("utf-8", "replace").replace(root, "$ROOT")
    return out


def verdict(rc, err):
    if rc == 0:
        return "ok"
    return "conflicts" if "All operations aborted." in err else "error"


def report_lines(err):
    """Stow's conflict report (in its order), and its warnings of directories skipped
    and links ignored (sorted: stow meets them in readdir's order, farm in name order)."""
    lines, warnings = [], []
    for line in err.splitlines():
        if line.startswith("WARNING! ") or line.startswith("  * ") or line == "All operations aborted.":
            lines.append(line)
        m = re.search(r"(?:WARNING: |tether: farm: )(skipping .*)$", line) or \
            re.search(r"(?i)(?:^|tether: farm: )(ignoring an absolute symlink: .*)$", line)
        if m:
            warnings.append(m.group(1)[0].lower() + m.group(1)[1:])
    return lines + sorted(warnings)


def run(root, cmd, program, cwd, env):
    e = dict(os.environ, HOME=root, XDG_STATE_HOME=STATE, LC_ALL="C")
    e.pop("STOW_DIR", None)
    for k, v in env.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v.replace("$ROOT", root)
    argv = [a.replace("$ROOT", root) for a in shlex.split(cmd)]
    argv = ["stow"] + argv if program == "stow" else [TETHER, "farm"] + argv
    p = subprocess.run(argv, cwd=os.path.join(root, cwd), env=e, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stderr


def check(n, c):
    """Runs case c in two sandboxes; returns a list of failure messages."""
    base = os.path.join(WORK, "c%03d" % n)
    a, b = base + "s", base + "t"  # stow's copy and farm's copy (same name length)
    fails = []
    for root in (a, b):
        for d in ("target", "stow", "run_from"):
            os.makedirs(os.path.join(root, d))
        build(root, c["tree"], c["mirror"])
    for r in c["runs"]:
        cwd, cmd = r if isinstance(r, tuple) else (c["cwd"], r)
        src, srcerr = run(a, cmd, "stow", cwd, c["env"])
        frc, ferr = run(b, cmd, "farm", cwd, c["env"])
        for bug in ("Sanitizer", "runtime error:", "stack traceback", "internal error"):
            if bug in ferr:
                fails.append("a bug report from tether farm %s:\n%s" % (cmd, ferr))
        if c["farm_says"] and c["farm_says"].replace("$ROOT", b) not in ferr:
            fails.append("%s: farm does not say %r: %s" % (cmd, c["farm_says"], ferr))
        sv, fv = verdict(src, srcerr), verdict(frc, ferr)
        sl, fl = listing(a), listing(b)
        d = c["differs"]
        if d:
            if sv != d.stow:
                fails.append("%s: stow's verdict is %s, the case says %s (stderr: %s)" % (cmd, sv, d.stow, srcerr))
            if fv != d.farm:
                fails.append("%s: farm's verdict is %s, want %s (stderr: %s)" % (cmd, fv, d.farm, ferr))
            if d.stow_says and d.stow_says not in srcerr:
                fails.append("%s: stow no longer says %r: %s" % (cmd, d.stow_says, srcerr))
            for p, want in d.farm_has.items():
                if fl.get(p) != want:
                    fails.append("%s: farm's tree has %s = %r, want %r" % (cmd, p, fl.get(p), want))
            continue
        if sv != fv:
            fails.append("%s: stow %s (rc %d), farm %s (rc %d)\n  stow: %s\n  farm: %s" % (cmd, sv, src, fv, frc,
                                                                                          srcerr.strip(), ferr.strip()))
        if report_lines(srcerr) != report_lines(ferr):
            fails.append("%s: reports differ\n  stow: %s\n  farm: %s" % (cmd, report_lines(srcerr), report_lines(ferr)))
        if sl != fl:
            diff = ["  %s: stow %r, farm %r" % (p, sl.get(p), fl.get(p)) for p in sorted(set(sl) | set(fl))
                    if sl.get(p) != fl.get(p)]
            fails.append("%s: trees differ\n%s" % (cmd, "\n".join(diff)))
    if not fails:
        shutil.rmtree(a)
        shutil.rmtree(b)
    return fails


# Most of stow's tests run in the target with the stow directory beside it.
S = "-d ../stow -t ."

# ---- t/stow.t --------------------------------------------------------------------------
case("stow.t", "stow a simple tree minimally", """
    f stow/pkg1/bin1/file1""", S + " pkg1")
case("stow.t", "stow a simple tree into an existing directory", """
    f stow/pkg2/lib2/file2
    d target/lib2""", S + " pkg2")
case("stow.t", "unfold existing tree", """
    f stow/pkg3a/bin3/file3a
    l target/bin3 ../stow/pkg3a/bin3
    f stow/pkg3b/bin3/file3b""", S + " pkg3b")
case("stow.t", "link to new dir bin4 conflicts with existing non-directory", """
    f target/bin4
    f stow/pkg4/bin4/file4""", S + " pkg4")
case("stow.t", "link to new dir bin4a conflicts with existing non-directory", """
    f target/bin4a
    f stow/pkg4a/bin4a/file4a""", S + " pkg4a")
case("stow.t", "bin4a with --adopt (commented out in stow.t)", """
    f target/bin4a
    f stow/pkg4a/bin4a/file4a""", S + " --adopt pkg4a",
     differs=Diff("stow --adopt moves a file of the target INTO the package's directory of that name "
                  "(File::Copy::move) and links the directory in its place; farm refuses: adopting "
                  "is for a file the package has as a file", stow="ok", farm="conflicts",
                  farm_has={"target/bin4a": "f target/bin4a\n"}))
case("stow.t", "link to files file4b and bin4b conflict with existing files", """
    f target/file4b file4b - version originally in target
    f target/bin4b/file4b bin4b/file4b - version originally in target
    f stow/pkg4b/file4b file4b - version originally in stow package
    f stow/pkg4b/bin4b/file4b bin4b/file4b - version originally in stow package""", S + " pkg4b")
case("stow.t", "files do not conflict with existing files with --adopt", """
    f target/file4c file4c - version originally in target\\n
    f target/bin4c/file4c bin4c/file4c - version originally in target\\n
    f stow/pkg4c/file4c file4c - version originally in stow package\\n
    f stow/pkg4c/bin4c/file4c bin4c/file4c - version originally in stow package\\n""", S + " --adopt pkg4c")
case("stow.t", "target already exists but is not owned by stow", """
    d target/bin5
    l target/bin5/file5 ../../empty
    d stow/pkg5/bin5/file5""", S + " pkg5")
case("stow.t", "replace existing but invalid target", """
    l target/file6 ../stow/path-does-not-exist
    f stow/pkg6/file6""", S + " pkg6")
case("stow.t", "link to new dir conflicts with existing stowed non-directory", """
    f stow/pkg7a/bin7/node7
    l target/bin7/node7 ../../stow/pkg7a/bin7/node7
    f stow/pkg7b/bin7/node7/file7""", S + " pkg7b")
case("stow.t", "stowing directories named 0", """
    f stow/pkg8a/0/file8a
    l target/0 ../stow/pkg8a/0
    f stow/pkg8b/0/file8b""", S + " pkg8b")
case("stow.t", "overriding existing documentation files", """
    f stow/pkg9a/man9/man1/file9.1
    l target/man9/man1/file9.1 ../../../stow/pkg9a/man9/man1/file9.1
    f stow/pkg9b/man9/man1/file9.1""", S + " --override=man9 --override=info9 pkg9b")
case("stow.t", "defer to existing documentation files", """
    f stow/pkg10a/man10/man1/file10.1
    l target/man10/man1/file10.1 ../../../stow/pkg10a/man10/man1/file10.1
    f stow/pkg10b/man10/man1/file10.1""", S + " --defer=man10 --defer=info10 pkg10b")
case("stow.t", "ignore temp files", r"""
    f stow/pkg11/man11/man1/file11.1
    f stow/pkg11/man11/man1/file11.1~
    f stow/pkg11/man11/man1/.#file11.1
    d target/man11/man1""", S + r" --ignore='~' --ignore='\.#.*' pkg11")
case("stow.t", "stow links to libraries", """
    f stow/pkg12/lib12/lib.so.1
    l stow/pkg12/lib12/lib.so lib.so.1
    d target/lib12""", S + " pkg12")
case("stow.t", "unfolding to stow links to libraries", """
    f stow/pkg13a/lib13/liba.so.1
    l stow/pkg13a/lib13/liba.so liba.so.1
    l target/lib13 ../stow/pkg13a/lib13
    f stow/pkg13b/lib13/libb.so.1
    l stow/pkg13b/lib13/libb.so libb.so.1""", S + " pkg13b")
case("stow.t", "stowing to stow dir should fail", """
    f target/stow/pkg14/stow/pkg15/node15""", "-d stow -t . pkg14")
case("stow.t", "minimal stow of a simple tree when cwd isn't target", """
    f stow/pkg16/bin16/file16""", "-d stow -t target pkg16", cwd=".")
case("stow.t", "minimal stow of a simple tree with absolute stow dir", """
    f stow/pkg17/bin17/file17""", "-d $ROOT/stow -t target pkg17", cwd=".")
case("stow.t", "minimal stow of a simple tree with absolute stow and target dirs", """
    f stow/pkg18/bin18/file18""", "-d $ROOT/stow -t $ROOT/target pkg18", cwd=".")


def no_folding_pkg(id_, pkg, stowed):
    """stow.t's create_pkg and unstow.t's create_and_stow_pkg."""
    sp = "stow/%s-%s" % (id_, pkg)
    rel = "../" + sp
    if not stowed:
        return """
        f {sp}/{i}-file-{p}
        f {sp}/{i}-{p}-only-new/{i}-file-{p}
        f {sp}/{i}-{p}-only-new2/subdir/{i}-file-{p}
        l {sp}/{i}-{p}-only-new2/current subdir
        f {sp}/{i}-{p}-only-old/{i}-file-{p}
        l target/{i}-{p}-only-old {rel}/{i}-{p}-only-old
        f {sp}/{i}-shared/{i}-file-{p}
        f {sp}/{i}-shared2/{i}-file-{p}
        f {sp}/{i}-shared2/subdir-{p}/{i}-file-{p}""".format(sp=sp, i=id_, p=pkg, rel=rel)
    return """
        f {sp}/{i}-file-{p}
        f {sp}/{i}-{p}-only-folded/file-{p}
        l target/{i}-{p}-only-folded {rel}/{i}-{p}-only-folded
        f {sp}/{i}-{p}-only-folded2/subdir/file-{p}
        l target/{i}-{p}-only-folded2 {rel}/{i}-{p}-only-folded2
        f {sp}/{i}-{p}-only-unfolded/file-{p}
        l target/{i}-{p}-only-unfolded/file-{p} ../{rel}/{i}-{p}-only-unfolded/file-{p}
        f {sp}/{i}-{p}-only-unfolded2/subdir/file-{p}
        l target/{i}-{p}-only-unfolded2/subdir/file-{p} ../../{rel}/{i}-{p}-only-unfolded2/subdir/file-{p}
        f {sp}/{i}-shared/file-{p}
        l target/{i}-shared/file-{p} ../{rel}/{i}-shared/file-{p}
        f {sp}/{i}-shared2/file-{p}
        f {sp}/{i}-shared2/subdir/file-{p}
        l target/{i}-shared2/file-{p} ../{rel}/{i}-shared2/file-{p}
        l target/{i}-shared2/subdir/file-{p} ../../{rel}/{i}-shared2/subdir/file-{p}""".format(
        sp=sp, i=id_, p=pkg, rel=rel)


case("stow.t", "stow a tree with no-folding enabled (package a, then b)",
     no_folding_pkg("no-folding", "a", False) + no_folding_pkg("no-folding", "b", False),
     S + " --no-folding no-folding-a", S + " --no-folding no-folding-b")

# ---- t/unstow.t and t/unstow_orig.t (the same cases with -p, stow's legacy algorithm) ---
# unstow_orig.t's cases run with the stow directories that unstow.t's earlier cases left in
# the target (target/stow and target/stow2, both marked with .stow): -p scans the whole
# target and must skip them, with a warning.
MARKED = """
    f target/stow/.stow
    f target/stow2/.stow"""
for compat, src in (("", "unstow.t"), ("-p ", "unstow_orig.t")):
    U = S + " " + compat
    around = MARKED if compat else ""
    case(src, "unstow a simple tree", """
        f stow/pkg1/bin1/file1
        l target/bin1 ../stow/pkg1/bin1""" + around, U + "-D pkg1")
    case(src, "unstow simple tree from a pre-existing directory", """
        f stow/pkg2/lib2/file2
        l target/lib2/file2 ../../stow/pkg2/lib2/file2""" + around, U + "-D pkg2")
    case(src, "fold tree after unstowing", """
        f stow/pkg3a/bin3/file3a
        l target/bin3/file3a ../../stow/pkg3a/bin3/file3a
        f stow/pkg3b/bin3/file3b
        l target/bin3/file3b ../../stow/pkg3b/bin3/file3b""" + around, U + "-D pkg3b")
    case(src, "remove invalid link owned by stow", """
        f stow/pkg4/bin4/file4
        l target/bin4/file4 ../../stow/pkg4/bin4/does-not-exist""" + around, U + "-D pkg4")
    case(src, "existing link not owned by stow (a conflict; none with -p)", """
        d stow/pkg5/bin5
        l target/bin5 ../not-stow""" + around, U + "-D pkg5")
    case(src, "ignore existing link that points to a different package", """
        f stow/pkg6a/bin6/file6
        l target/bin6/file6 ../../stow/pkg6a/bin6/file6
        f stow/pkg6b/bin6/file6""" + around, U + "-D pkg6b")
    case(src, "don't unlink any nodes under the stow directory", """
        f target/stow/pkg7a/stow/pkg7b/file7b
        l target/stow/pkg7b ../stow/pkg7a/stow/pkg7b""", "-d stow -t . " + compat + "-D pkg7b")
    case(src, "don't unlink any nodes under another stow directory", """
        f target/stow2/.stow
        f target/stow/pkg8a/stow2/pkg8b/file8b
        l target/stow2/pkg8b ../stow/pkg8a/stow2/pkg8b""", "-d stow -t . " + compat + "-D pkg8a")
    case(src, "overriding existing documentation files", """
        f stow/pkg9a/man9/man1/file9.1
        l target/man9/man1/file9.1 ../../../stow/pkg9a/man9/man1/file9.1
        f stow/pkg9b/man9/man1/file9.1""" + around, U + "--override=man9 --override=info9 -D pkg9b")
    case(src, "defer to existing documentation files", """
        f stow/pkg10a/man10/man1/file10a.1
        l target/man10/man1/file10a.1 ../../../stow/pkg10a/man10/man1/file10a.1
        f stow/pkg10b/man10/man1/file10b.1
        l target/man10/man1/file10b.1 ../../../stow/pkg10b/man10/man1/file10b.1
        f stow/pkg10c/man10/man1/file10a.1""" + around, U + "--defer=man10 --defer=info10 -D pkg10c")
    case(src, "ignore temp files; unstow an already unstowed package", """
        f stow/pkg12/man12/man1/file12.1
        f stow/pkg12/man12/man1/file12.1~
        f stow/pkg12/man12/man1/.#file12.1
        d target/man12/man1
        l target/man12/man1/file12.1 ../../../stow/pkg12/man12/man1/file12.1""" + around,
         U + r"--ignore='~' --ignore='\.#.*' -D pkg12", U + "-D pkg12")
    case(src, "unstow never stowed package pkg12", """
        f stow/pkg12/man12/man1/file12.1""", U + "-D pkg12")
    case(src, "unstow pkg12 for third time: a real file in the target", """
        f stow/pkg12/man12/man1/file12.1
        f target/man12/man1/file12.1""" + around, U + "-D pkg12")
    case(src, "unstow a simple tree when cwd isn't target", """
        f stow/pkg13/bin13/file13
        l target/bin13 ../stow/pkg13/bin13""", "-d stow -t target " + compat + "-D pkg13", cwd=".")
    case(src, "unstow a simple tree with absolute stow dir", """
        f stow/pkg14/bin14/file14
        l target/bin14 ../stow/pkg14/bin14""", "-d $ROOT/stow -t target " + compat + "-D pkg14", cwd=".")
    case(src, "unstow a simple tree with absolute stow and target dirs", """
        f stow/pkg15/bin15/file15
        l target/bin15 ../stow/pkg15/bin15""", "-d $ROOT/stow -t $ROOT/target " + compat + "-D pkg15", cwd=".")
case("unstow.t", "unstow a tree with no-folding enabled: no refolding",
     no_folding_pkg("no-folding", "a", True) + no_folding_pkg("no-folding", "b", True),
     S + " --no-folding -D no-folding-b")
# Beyond unstow_orig.t: what -p does that the default does not, found in Stow.pm's
# unstow_node_orig: a stale link into the stow directory goes whatever package it names,
# and --override takes another package's link.
case("unstow_orig.t", "-p removes a stale link of another package anywhere in the target", """
    f stow/pkg1/bin1/file1
    l target/bin1 ../stow/pkg1/bin1
    l target/elsewhere/gone ../../stow/pkg2/gone
    f target/elsewhere/.keep""", S + " -p -D pkg1")
case("unstow_orig.t", "-p --override unlinks another package's link", """
    f stow/pkg1/man/file
    f stow/pkg2/man/file
    l target/man/file ../../stow/pkg2/man/file""", S + " -p --override=man -D pkg1")
case("unstow_orig.t", "-p with -R restows", """
    f stow/pkg1/bin/file1
    f stow/pkg1/bin/file2
    l target/bin/file1 ../../stow/pkg1/bin/file1""", S + " -p -R pkg1")

# ---- t/dotfiles.t ----------------------------------------------------------------------
case("dotfiles.t", "processed dotfile", """
    f stow/dotfiles/dot-foo""", S + " --dotfiles dotfiles")
case("dotfiles.t", "unprocessed dotfile", """
    f stow/dotfiles/dot-foo""", S + " dotfiles")
case("dotfiles.t", "processed dotfile folder", """
    f stow/dotfiles/dot-emacs/init.el""", S + " --dotfiles dotfiles")
case("dotfiles.t", "dot- and dot-. are not expanded", """
    f stow/dotfiles/dot-
    f stow/dotfiles/dot-./foo""", S + " --dotfiles dotfiles")
case("dotfiles.t", "unstow a simple dotfile", """
    f stow/dotfiles/dot-bar
    l target/.bar ../stow/dotfiles/dot-bar""", S + " --dotfiles -D dotfiles")
# Beyond dotfiles.t: stow 2.3.1 cannot go into a dot- directory (it looks in the package
# for the target's name, .config, not dot-config).
case("dotfiles.t", "--dotfiles into an existing .config", """
    f stow/dotfiles/dot-config/fish/config.fish
    d target/.config""", S + " --dotfiles dotfiles",
     differs=Diff("stow 2.3.1 looks for the package's .config instead of dot-config and stops", stow="error",
                  farm="ok", stow_says="stow_contents() called with non-directory path",
                  farm_has={"target/.config": "d",
                            "target/.config/fish": "l ../../stow/dotfiles/dot-config/fish"}))
case("dotfiles.t", "--dotfiles unfolds .config for a second package", """
    f stow/a/dot-config/a.conf
    l target/.config ../stow/a/dot-config
    f stow/b/dot-config/b.conf""", S + " --dotfiles b",
     differs=Diff("stow 2.3.1 looks for a/.config instead of a/dot-config and stops", stow="error", farm="ok",
                  stow_says="stow_contents() called with non-directory path",
                  farm_has={"target/.config": "d",
                            "target/.config/a.conf": "l ../../stow/a/dot-config/a.conf",
                            "target/.config/b.conf": "l ../../stow/b/dot-config/b.conf"}))
case("dotfiles.t", "--dotfiles --no-folding makes .config a directory", """
    f stow/dotfiles/dot-config/fish/config.fish""", S + " --dotfiles --no-folding dotfiles",
     differs=Diff("stow 2.3.1 tests the package's .config (not dot-config) for --no-folding, so it folds "
                  "dot-config into one link all the same", stow="ok", farm="ok",
                  farm_has={"target/.config": "d", "target/.config/fish": "d",
                            "target/.config/fish/config.fish": "l ../../../stow/dotfiles/dot-config/fish/config.fish"}))
case("dotfiles.t", "--dotfiles --adopt moves the file to dot-x", """
    f stow/dotfiles/dot-bashrc package's
    f target/.bashrc user's""", S + " --dotfiles --adopt dotfiles",
     differs=Diff("stow 2.3.1 moves .bashrc to the package's .bashrc (not dot-bashrc) and links a dot-bashrc "
                  "that still has the package's text", stow="ok", farm="ok",
                  farm_has={"target/.bashrc": "l ../stow/dotfiles/dot-bashrc",
                            "stow/dotfiles/dot-bashrc": "f user's"}))

# ---- t/foldable.t: foldable() is asked when a package is unstowed from a directory -----
X = """
    f stow/pkgX/{d}/x
    l target/{d}/x ../../stow/pkgX/{d}/x"""
case("foldable.t", "can fold a simple tree", """
    f stow/pkg1/bin1/file1
    l target/bin1/file1 ../../stow/pkg1/bin1/file1""" + X.format(d="bin1"), S + " -D pkgX")
case("foldable.t", "can't fold an empty directory", """
    f stow/pkg2/bin2/file2
    d target/bin2""" + X.format(d="bin2"), S + " -D pkgX")
case("foldable.t", "can't fold a dir containing non-links", """
    f stow/pkg3/bin3/file3
    l target/bin3/file3 ../../stow/pkg3/bin3/file3
    f target/bin3/non-link""" + X.format(d="bin3"), S + " -D pkgX")
case("foldable.t", "can't fold if links point to different dirs", """
    f stow/pkg4a/bin4/file4a
    l target/bin4/file4a ../../stow/pkg4a/bin4/file4a
    f stow/pkg4b/bin4/file4b
    l target/bin4/file4b ../../stow/pkg4b/bin4/file4b""" + X.format(d="bin4"), S + " -D pkgX")

# ---- t/cleanup_invalid_links.t: run when a package is unstowed from a directory ---------
case("cleanup_invalid_links.t", "nothing to clean", """
    f stow/pkg1/bin1/file1
    l target/bin1 ../stow/pkg1/bin1""", S + " -D pkg1")
case("cleanup_invalid_links.t", "cleanup a bad link in a simple tree", """
    f stow/pkg2/bin2/file2a
    l target/bin2/file2a ../../stow/pkg2/bin2/file2a
    l target/bin2/file2b ../../stow/pkg2/bin2/file2b""" + X.format(d="bin2"), S + " -D pkgX")
case("cleanup_invalid_links.t", "dont cleanup a bad link not owned by stow", """
    f stow/pkg3/bin3/file3a
    l target/bin3/file3a ../../stow/pkg3/bin3/file3a
    l target/bin3/file3b ../../empty""", S + " -D pkg3")
case("cleanup_invalid_links.t", "a bad link not owned by stow keeps its directory from folding", """
    f stow/pkg3/bin3/file3a
    l target/bin3/file3a ../../stow/pkg3/bin3/file3a
    l target/bin3/file3b ../../empty""" + X.format(d="bin3"), S + " -D pkgX",
     differs=Diff("stow 2.3.1 overlooks the link that leads nowhere when it checks whether bin3 can be folded, "
                  "removes file3a and x, then fails to remove the directory, which is not empty, and stops "
                  "part-way; farm sees the link and leaves bin3 a directory", stow="error", farm="ok",
                  stow_says="Could not remove directory: bin3",
                  farm_has={"target/bin3": "d", "target/bin3/file3a": "l ../../stow/pkg3/bin3/file3a",
                            "target/bin3/file3b": "l ../../empty", "target/bin3/x": None}))

# ---- t/defer.t: defer() decides whether a path stowed by another package is left to it --
DEFER = """
    f stow/pkgA/{p}
    l target/{p} {up}stow/pkgA/{p}
    f stow/dummy/{p}"""
for name, opts, p in (("simple success", "--defer=man", "man/man1/file.1"),
                      ("simple failure", "--defer=lib", "man/man1/file.1"),
                      ("complex success", "--defer=lib --defer=man --defer=share", "man/man1/file.1"),
                      ("complex failure", "--defer=lib --defer=man --defer=share", "bin/file")):
    case("defer.t", name, DEFER.format(p=p, up="../" * p.count("/")), S + " " + opts + " dummy")

# ---- t/ignore.t: each list's answers, shown by what a package links -----------------------
BUILT_IN = ["CVS", ".cvsignore", "#autosave#", ".#lock-file"]


def variants(names, dirs=("", "foo/bar/")):
    out = []
    for d in dirs:
        for n in names:
            out += [d + n, d + "prefix." + n, d + n + ".suffix"]
    return out


USER = ["exact", "0exact", "exact1", "0exact1", "substring", "0substring", "substring1", "0substring1"]
LOCAL = ["random", "foo2/bar/random", "foo2/bars", "foo2/bazqux", "xfoo2/bazqux"]
GLOBAL_LIST = r"""
    f .stow-global-ignore exact\n.+substring.+ # here's a comment\n.+\.extension\nmyprefix.+       #hi mum\n"""


def files(pkg, paths):
    return "".join("\n    f stow/%s/%s" % (pkg, p) for p in paths)


everything = variants(BUILT_IN) + [d + n for d in ("", "foo/bar/") for n in USER] + LOCAL + ["subdir/.stow-local-ignore"]
case("ignore.t", "when using built-in list", files("ign", everything), S + " ign", mirror=True)
case("ignore.t", "when using ~/.stow-global-ignore", GLOBAL_LIST + files("ign", everything), S + " ign", mirror=True)
for what, text in (("empty", ""), ("with only path segment regexps", r"random\n"),
                   ("with only full path regexps", r"foo2/bar\n"),
                   ("with mixture of regexps", r"foo2/bar\nrandom\nfoo2/baz.+\n")):
    case("ignore.t", "when using %s .stow-local-ignore" % what,
         GLOBAL_LIST + files("ign", everything) + ("\n    f stow/ign/.stow-local-ignore " + text if text else
                                                  "\n    e stow/ign/.stow-local-ignore"), S + " ign", mirror=True)
for re_, ignored in (("bazqux", True), ("baz.*", True), (".*qux", True), ("bar/.*x", True), ("^/foo/.*qux", True),
                     ("bar", False), ("baz", False), ("qux", False), ("o/bar/b", False)):
    case("ignore.t", "(example from manual) %s %s foo/bar/bazqux" % (re_, "ignores" if ignored else "keeps"), """
        f stow/ign/foo/bar/bazqux
        f stow/ign/foo/bar/other
        f stow/ign/.stow-local-ignore %s\\n""" % re_, S + " ign", mirror=True)
for what, text in (("Invalid segment regexp in list", r"this one's ok\nthis one isn't|*!\nbut this one is\n"),
                   ("Invalid full path regexp in list", r"this one's ok\nthis/one isn't|*!\nbut this one is\n")):
    case("ignore.t", what, """
        f stow/ign/foo/bar/bazqux
        f stow/ign/.stow-local-ignore """ + text, S + " ign")
case("ignore.t", "top dir ignored", r"""
    f stow/pkg1/foo/bar/baz
    f stow/pkg1/.stow-local-ignore foo""", S + " pkg1")
for ign in ("bar", "foo/bar", "/foo/bar", "^/foo/bar", "^/fo.+ar"):
    case("ignore.t", "bar ignored via %s; qux not ignored and stowed" % ign, """
        f stow/pkg1/foo/bar/baz
        f stow/pkg1/foo/qux
        d target/foo
        f stow/pkg1/.stow-local-ignore %s""" % ign, S + " pkg1")

# ---- t/rc_options.t ----------------------------------------------------------------------
PKG = """
    f stow/dummy/bin/dummy
    f run_from/dummy/bin/dummy"""
case("rc_options.t", "default --target with no .stowrc (and $HOME not set)", PKG, "dummy", cwd="run_from",
     env={"HOME": None})
case("rc_options.t", "relative --target and -d from $PWD/.stowrc, $HOME not set", PKG + r"""
    f run_from/.stowrc     -d ../stow\n    --target ../target\n""", "dummy", cwd="run_from", env={"HOME": None})
case("rc_options.t", "absolute --target and -d from $PWD/.stowrc", PKG + r"""
    f run_from/.stowrc     -d $ROOT/stow\n    --target $ROOT/target\n""", "dummy", cwd="run_from")
case("rc_options.t", "relative --target and -d from $HOME/.stowrc", PKG + r"""
    f .stowrc     -d ../stow\n    --target ../target\n""", "dummy", cwd="run_from")
case("rc_options.t", "absolute --target and -d from $HOME/.stowrc", PKG + r"""
    f .stowrc     -d $ROOT/stow\n    --target $ROOT/target\n""", "dummy", cwd="run_from")
DEFERRED = """
    f stow/other/info/dummy
    f stow/other/man/dummy
    l target/info/dummy ../../stow/other/info/dummy
    l target/man/dummy ../../stow/other/man/dummy
    f stow/dummy/info/dummy
    f stow/dummy/man/dummy"""
case("rc_options.t", "--target, -d and --defer=man of $PWD/.stowrc after ~/.stowrc's (defer man and info)", DEFERRED + r"""
    f .stowrc     -d $ROOT/stow-will-be-overridden\n    --target $ROOT/target-will-be-overridden\n    --defer=info\n
    f run_from/.stowrc     -d $ROOT/stow\n    --target $ROOT/target\n    --defer=man\n""", "dummy", cwd="run_from")
case("rc_options.t", "cli overwrite scalar rc option", PKG + r"""
    f .stowrc     -d bad/path\n""", "-d $ROOT/stow -t $ROOT/target dummy", cwd="run_from")
case("rc_options.t", "list cli option merges with .stowrc option: defer man and info", DEFERRED + r"""
    f .stowrc     --defer=info\n""", "-d $ROOT/stow -t $ROOT/target --defer=man dummy", cwd="run_from")
case("rc_options.t", "only --defer=man: info is a conflict", DEFERRED, "-d $ROOT/stow -t $ROOT/target --defer=man dummy",
     cwd="run_from")
case("rc_options.t", "expand $HOME and ${HOME} in --dir and --target", PKG + r"""
    f .stowrc --dir=$HOME/stow\n--target=${HOME}/target\n""", "dummy", cwd="run_from")
for var in ("$UNDEFINED", "${UNDEFINED}"):
    case("rc_options.t", "expand %s: undefined, an error" % var, PKG + r"""
        f .stowrc --dir=%s/stow\n""" % var, "dummy", cwd="run_from")
case("rc_options.t", "expand ${WITH_UNDERSCORE}", PKG + r"""
    f .stowrc --target=${WITH_UNDERSCORE}\n""", "-d ../stow dummy", cwd="run_from", env={"WITH_UNDERSCORE": "$ROOT/target"})
case("rc_options.t", r"expand \$HOME: a directory named $HOME; middle ~ not expanded; escaped tilde", PKG + r"""
    d run_from/$HOME/x/~/y
    d run_from/~/z
    f .stowrc --target=\$HOME/x/~/y\n""", "-d ../stow dummy", "-d ../stow -S dummy --target=~/z", cwd="run_from")
case("rc_options.t", r"escaped tilde in .stowrc", PKG + r"""
    d run_from/~/z
    f .stowrc --target=\~/z\n""", "-d ../stow dummy", cwd="run_from")
case("rc_options.t", "tilde expansion on $HOME/.stowrc --dir and --target", PKG + r"""
    f .stowrc --dir=~/stow\n--target=~/target\n""", "dummy", cwd="run_from")
case("rc_options.t", "expansion not applied on --ignore, --defer and --override", r"""
    f stow/dummy/a$HOME
    f stow/dummy/b~/stow
    f stow/dummy/c
    f .stowrc --dir=~/stow\n--target=~/target\n--ignore=\$HOME\n--ignore=~/stow\n--defer=\$HOME\n--override=~/stow\n""",
     "dummy", cwd="run_from")
case("rc_options.t", "--verbose=1 and --no-folding in ~/.stowrc", PKG + r"""
    f .stowrc --verbose=1 -d ~/stow\n-t ~/target --no-folding\n""", "dummy", "-D dummy", cwd="run_from")
case("rc_options.t", "-n in .stowrc changes nothing", PKG + r"""
    f .stowrc -n --simulate --no -p\n""", "-d ../stow -t ../target dummy", cwd="run_from")
case("rc_options.t", "a .stowrc's option without its value is an error", PKG + r"""
    f .stowrc -d ../stow\n\n--target\n""", "dummy", cwd="run_from",
     farm_says="tether: farm: $ROOT/.stowrc:3: --target needs DIR; see tether help farm")
case("rc_options.t", "an unknown option in .stowrc is an error", PKG + r"""
    f run_from/.stowrc -v\n  --bogus\n""", "dummy", cwd="run_from",
     farm_says="tether: farm: ./.stowrc:2: unknown option '--bogus'")
case("rc_options.t", "an undefined variable in .stowrc is an error naming the line", PKG + r"""
    f .stowrc -v\n--dir=${UNDEFINED}/stow\n""", "dummy", cwd="run_from",
     farm_says="tether: farm: $ROOT/.stowrc:2: --dir references undefined environment variable $UNDEFINED")

# ---- t/cli_options.t and t/cli.t ---------------------------------------------------------
case("cli_options.t", "verbose option; stow dir option", PKG, "-v -d ../stow -t ../target dummy", cwd="run_from")
MIXED = "".join("\n    f stow/%s/%s" % (p, p) for p in ("d1", "d2", "d3", "s1", "s2", "s3", "r1", "r2")) + \
    "".join("\n    l target/%s ../stow/%s/%s" % (p, p, p) for p in ("d1", "d2", "d3", "r1")) + \
    "\n    f stow/r2/new\n    l target/r2 ../stow/r2/gone"
case("cli_options.t", "mixed deletes and stows", MIXED, S + " -v -D d1 d2 -S s1 -R r1 -D d3 -S s2 s3 -R r2")
case("cli_options.t", "defer man and info", DEFERRED, S + " --defer=man --defer=info dummy")
case("cli_options.t", "override man and info", DEFERRED, S + " --override=man --override=info dummy")
case("cli_options.t", "ignore temp files", r"""
    f stow/dummy/tmp/file~
    f stow/dummy/tmp/.#file
    f stow/dummy/tmp/file
    d target/tmp""", S + r" --ignore=~ --ignore=\.#.* dummy")
case("cli_options.t", "no expansion on the command line", PKG + """
    d $HOME""", "-d ../stow --target=../$HOME dummy", cwd="run_from")
case("cli.t", "--help should return 0 exit code", PKG, "--help")
case("cli.t", "unrecognised option should return 1 exit code (farm: 2, a usage error)", PKG, "--foo dummy")
# Every other option of stow(8), each with its meaning.
for opts in ("-n", "--no", "--simulate", "-nv", "-vvv", "-v3", "--verbose=2", "-v 2", "--verbose 2", "-V",
             "-p", "--compat", "--adopt", "--no-folding", "--dotfiles"):
    case("cli_options.t", "stow(8): %s" % opts, PKG + ("\n    f target/bin/dummy target's" if opts == "--adopt" else ""),
         S + " " + opts + " dummy")
case("cli_options.t", "stow(8): -n with a conflict", PKG + "\n    f target/bin/dummy target's", S + " -n dummy")
case("cli_options.t", "--verbose=x is an error", PKG, S + " --verbose=x dummy")
case("cli_options.t", "a package name with a trailing slash", PKG, S + " dummy/ -D dummy//")
case("cli_options.t", "slashes are not permitted in package names", PKG, S + " dummy/bin")
case("cli_options.t", "no packages to stow or unstow", PKG, S + " -v")
case("cli_options.t", "--dir value is not a valid directory", PKG, "-d ../nowhere -t . dummy")
case("cli_options.t", "--target value is not a valid directory", PKG, "-d ../stow -t nowhere dummy")
case("cli_options.t", "no such package", PKG, S + " nosuch")
case("cli_options.t", "an empty --dir is no directory", PKG, "-d '' -t . dummy",
     farm_says="tether: farm: --dir cannot be empty; see tether help farm")
case("cli_options.t", "an empty --target is no directory", PKG, "-d ../stow -t '' dummy",
     farm_says="tether: farm: --target cannot be empty; see tether help farm")
case("cli_options.t", "the packages . and ..", PKG + """
    f stow/other/lib/x""", S + " .", S + " -D .", S + " ..")
case("cli_options.t", "$STOW_DIR is the default stow directory", PKG, "dummy", cwd="target", env={"STOW_DIR": "$ROOT/stow"})
case("cli_options.t", "the default target is the parent of -d by name", PKG + """
    f stow/sub/bin/x
    d stow/sub2""", "-d stow/sub/.. sub", "-d stow/ dummy", "-d ./stow dummy", "-d $ROOT/stow -R dummy", cwd=".")
case("cli_options.t", "a package that is a link to a directory", """
    f elsewhere/pkg/bin/file
    l stow/pkg ../elsewhere/pkg""", S + " pkg", S + " -D pkg")
case("stow.t", "an absolute symlink at the package's top is a conflict", """
    l stow/pkg/abs /etc/hostname
    f stow/pkg/rel""", S + " pkg")
case("stow.t", "an absolute symlink deeper in the package", """
    l stow/pkg/bin/abs /etc/hostname
    d target/bin""", S + " pkg",
     differs=Diff("stow 2.3.1 tests the link text from the wrong directory below the package's top, so it "
                  "links an absolute symlink there (which it cannot unstow later); farm refuses it anywhere",
                  stow="ok", farm="conflicts", farm_has={"target/bin": "d"}))
case("unstow.t", "ignoring an absolute symlink in the target", """
    f stow/pkg/bin/file
    l target/bin/file /etc/hostname""", S + " -D pkg")

# ---- t/examples.t ------------------------------------------------------------------------
PERL_EMACS = """
    f target/stow/perl/bin/perl
    f target/stow/perl/bin/a2p
    f target/stow/perl/info/perl
    d target/stow/perl/lib/perl
    f target/stow/perl/man/man1/perl.1
    f target/stow/emacs/bin/emacs
    f target/stow/emacs/bin/etags
    f target/stow/emacs/info/emacs
    d target/stow/emacs/libexec/emacs
    f target/stow/emacs/man/man1/emacs.1"""
case("examples.t", "stow perl into an empty target", PERL_EMACS, "-d stow -t . perl")
case("examples.t", "stow perl into a non-empty target", PERL_EMACS + """
    d target/bin
    d target/lib
    d target/man/man1""", "-d stow -t . perl")
case("examples.t", "stow perl into an empty target, then stow emacs", PERL_EMACS, "-d stow -t . perl emacs",
     "-d stow -t . -D perl", "-d stow -t . -R emacs -S perl")
case("examples.t", "bug 1: stowing empty dirs (as two commands)", """
    d target/stow/pkg1a/bin1
    f target/stow/pkg1b/bin1/file1b""", "-d stow -t . pkg1a pkg1b", "-d stow -t . -D pkg1b")
case("examples.t", "bug 2: tree split by packages from multiple stow directories (as two commands)", """
    f target/stow2a/pkg2a/bin2/file2a
    f target/stow2a/.stow
    f target/stow2b/pkg2b/bin2/file2b
    f target/stow2b/.stow""", "-d stow2a -t . pkg2a", "-d stow2b -t . pkg2b", "-d stow2a -t . -D pkg2a")

# Cases per stow test file, for the summary.
PORTED = {}
for c in CASES:
    PORTED[c["src"]] = PORTED.get(c["src"], 0) + 1

if __name__ == "__main__":
    start = time.time()
    if len(sys.argv) > 3:
        CASES = [c for c in CASES if sys.argv[3] in c["name"]]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda nc: check(*nc), enumerate(CASES)))
    failed = 0
    for c, fails in zip(CASES, results):
        label = "%s: %s" % (c["src"], c["name"])
        if c["differs"]:
            label += " (DIFFERS on purpose: %s)" % c["differs"].why
        if fails:
            failed += 1
            print("FAIL: " + label)
            for f in fails:
                print("  " + f.replace("\n", "\n  "))
    print("stow's cases ported, by file: " + ", ".join("%s %d" % kv for kv in sorted(PORTED.items())))
    print("left out: " + "; ".join("%s (%s)" % (f, why) for f, _, why in LEFT_OUT))
    print("%d cases, %d differ on purpose, %d failed, %.1f s" % (len(CASES), sum(1 for c in CASES if c["differs"]),
                                                                failed, time.time() - start))
    sys.exit(1 if failed else 0)
