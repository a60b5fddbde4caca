"""What the Python end-to-end drivers share: one assertion that counts and says what
failed, the signs of a bug in what tether printed, the closing line of a run, and how
two snapshots of a tree differ."""
import subprocess

passed, failed = 0, 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s%s" % (name, ("\n  " + detail) if detail else ""))


def run(cmd, show=False, **kw):
    """Runs tether (cmd); a sanitizer report, a traceback or an "internal error" fails."""
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    for bug in ("Sanitizer", "runtime error:", "stack traceback", "internal error"):
        check("no bug report from %s" % " ".join(cmd), bug not in p.stderr, p.stderr)
    if show:
        print("$ %s -> %d\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    return p


def changes(a, b, most=10):
    """A few words on how snapshot b differs from a: each a pair (entries, hard-link
    groups), the entries a dict path -> what it is."""
    (ea, ga), (eb, gb) = a, b
    diff = ["-%s %s" % (k, ea[k]) for k in sorted(set(ea) - set(eb))]
    diff += ["+%s %s" % (k, eb[k]) for k in sorted(set(eb) - set(ea))]
    diff += ["~%s %s -> %s" % (k, ea[k], eb[k]) for k in sorted(set(ea) & set(eb)) if ea[k] != eb[k]]
    if ga != gb:
        diff.append("hard-link groups %s -> %s" % (ga, gb))
    return "; ".join(diff[:most]) + ("; ..." if len(diff) > most else "")


def finish():
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
