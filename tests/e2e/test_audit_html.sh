#!/usr/bin/env bash
# audit --format html: the page rendered by headless Chromium (Debian's chromium) from a
# generated tree: its summary against the JSON report, its filter against the JSON's
# sets, names that look like markup shown as text, no console errors; a screenshot kept
# in the build directory. Then -o's own rules (a directory, a link, a missing directory).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# -o: replaced whole, never written through a link; clear errors (the other kinds of
# FILE and a hostile user: test_audit_output.sh).
mkdir -p small && ln -s gone small/broken && ln -s ../small small/up
t audit small --format html -o out.html
check "-o: exit 1 (a broken link found)" is "$rc" 1
check "-o: the page was written" has "$(cat out.html)" "<!DOCTYPE html>"
check "-o: no temporary directory left" is "$(find . -maxdepth 1 -name '.tether-report-*' | wc -l)" 0
echo precious > precious
ln -s precious link.html
t audit small --format html -o link.html
check "-o over a link to a file: refused, named" is "$rc|$err" "3|tether: audit: cannot write link.html: link.html: leads to a regular file, which is replaced whole, never written through a link; name that file itself (EINVAL)"
check "-o over a link to a file: the link and its file untouched" is "$(readlink link.html)|$(cat precious)" "precious|precious"
t audit small --format html -o .
check "-o a directory: usage error named" is "$rc|$err" "2|tether: audit: -o .: is a directory; name the file to write"
t audit small --format html -o nowhere/r.html
check "-o into a missing directory: failure named" is "$rc" 3
check "-o into a missing directory: says where" has "$err" "nowhere"
# Failures on the way: a directory nothing can be made in, and a rename refused.
mkdir ro
if chattr +i ro 2>/dev/null; then
    t audit small --format html -o ro/r.html
    chattr -i ro
    check "-o into an immutable directory: failure named" is "$rc" 3
    check "-o into an immutable directory: says why" has "$err" "cannot write ro/r.html"
    check "-o into an immutable directory: nothing left" is "$(ls -A ro)" ""
else
    echo "skipped: -o into an immutable directory (chattr +i refused here)"
fi
if command -v strace >/dev/null; then
    export ASAN_OPTIONS=detect_leaks=0 # LeakSanitizer cannot work under ptrace
    out=$(strace -f -o /dev/null -e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:error=EIO \
        "$TETHER" audit small --format html -o ro/r.html 2>&1)
    rc=$?
    no_bug_report "tether audit -o (rename refused)" "$out"
    check "-o when the rename fails: exit 3, named" is "$rc|$(grep -c 'cannot write ro/r.html: .*(EIO)' <<<"$out")" "3|1"
    check "-o when the rename fails: no temporary directory left, no file" is "$(ls -A ro)" ""
else
    echo "skipped: -o with a failing rename (strace missing)"
fi
# A disk that fills up while the report is written: the error, not a cut report.
mkdir -p full many
for i in $(seq 300); do ln -s "../nowhere/a/long/enough/target/to/fill/the/disk/$i" "many/l$i"; done
if mount -t tmpfs -o size=16k tmpfs full 2>/dev/null; then
    t audit many --format html -o full/r.html
    left=$(ls -A full)
    umount full
    check "-o on a full disk: exit 3, named" is "$rc|$err" "3|tether: audit: cannot write full/r.html: No space left on device"
    check "-o on a full disk: no cut report, nothing left" is "$left" ""
else
    echo "skipped: -o on a full disk (mounting a tmpfs is not permitted here)"
fi
t audit small --format html --sort path
check "--sort with html: usage error" is "$rc" 2
t audit small --format csv -o small.csv
check "-o with csv: the rows in the file" is "$(head -n 1 small.csv)" "path,target,status,type,form,cross_fs,escapes,messy,errno"
check "-o with csv: nothing on stdout" is "$out" ""

browser=$(command -v chromium || command -v chromium-browser || true)
if [ "${TETHER_SANITIZE:-}" = ON ]; then
    echo "skipped: the page in a browser runs in the release pass (the browser is not what is sanitized)"
    finish
    exit
fi
if [ -z "$browser" ] || ! command -v python3 >/dev/null; then
    echo "skipped: the HTML report in a browser (chromium cannot be installed here: apt-get install chromium)"
    finish
    exit
fi

python3 "$here/../../bench/gen.py" links gen 6000 7 >/dev/null
# Names that look like markup must show as text.
ln -s '</script><b>x' 'gen/<b>bold<i>'
ln -s 'a&amp;b' 'gen/q"uote'

t audit gen --format html -o "$WORK/report.html"
check "html written: exit 1 (broken links in the tree)" is "$rc" 1
t audit gen --format json
echo "$out" >"$WORK/report.json"

render() { # render FRAGMENT OUT: the DOM after the page's script ran; console on OUT.err
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$WORK/chrome" \
        --enable-logging=stderr --v=0 --dump-dom "file://$WORK/report.html$1" >"$2" 2>"$2.err"
}
render "#status=broken" "$WORK/broken.dom"
render "#status=problems" "$WORK/problems.dom"
"$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$WORK/chrome" --hide-scrollbars \
    --window-size=1280,1600 --screenshot="${TETHER_BUILD_DIR:-$WORK}/audit-report.png" \
    "file://$WORK/report.html#status=problems" >/dev/null 2>&1

got=$(python3 - "$WORK" <<'EOF'
import html.parser, json, sys
work = sys.argv[1]
report = json.load(open(work + "/report.json"))

class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.counts, self.rows, self.cell, self.stack, self.errors = {}, [], None, [], ""
        self.tags = set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        if tag == "td" and a.get("class") == "n": self.cell = ("n", a["id"][2:])
        elif tag == "tr" and self.stack == ["rows"]: self.rows.append([a.get("class"), ""])
        elif tag == "td" and a.get("class") == "path": self.cell = ("path", None)
        elif tag == "pre" and a.get("id") == "errors": self.cell = ("errors", None)
        if a.get("id") == "rows": self.stack.append("rows")
    def handle_endtag(self, tag):
        if tag == "tbody" and self.stack: self.stack.pop()
        if tag in ("td", "pre"): self.cell = None
    def handle_data(self, data):
        if not self.cell: return
        kind, key = self.cell
        if kind == "n": self.counts[key] = int(data)
        elif kind == "path": self.rows[-1][1] += data
        elif kind == "errors": self.errors += data

def dom(name):
    d = Dom()
    d.feed(open(work + "/" + name + ".dom", encoding="utf-8", errors="replace").read())
    return d

s = report["summary"]
want = dict(s["status"], **s["form"], **s["flags"], **s["type"])
everything = dom("broken") # the summary and the names' markup are the same in any view
print("summary", everything.counts == want, "no markup from names", "b" not in everything.tags)
links = report["links"]
for name, keep in (("broken", lambda l: l["status"] == "broken"), ("problems", lambda l: l["status"] != "ok")):
    d = dom(name)
    shown = sorted(p for _, p in d.rows)
    print(name, shown == sorted(l["path"] for l in links if keep(l)), len(shown) > 0,
          all(c == "broken" for c, _ in d.rows) if name == "broken" else True, repr(d.errors))
print("odd names", "gen/<b>bold<i>" in [p for _, p in dom("problems").rows])
EOF
)
check "summary counts equal the JSON report's" has "$got" "summary True"
check "names are text, not markup" has "$got" "no markup from names True"
check "filtered to broken: exactly the broken set" has "$got" "broken True True True ''"
check "filtered to problems: exactly audit --broken's set" has "$got" "problems True True True ''"
check "a name like markup is listed as it is" has "$got" "odd names True"
for f in broken problems; do
    check "no console errors ($f)" is "$(grep -c ':CONSOLE' "$WORK/$f.dom.err")" 0
done
check "screenshot kept in the build directory" is "$(head -c 4 "${TETHER_BUILD_DIR:-$WORK}/audit-report.png" | od -An -c | tr -d ' ')" '211PNG'
check "the page asks for nothing from the network" is "$(grep -cE '(src|href)="(https?:)?//' "$WORK/report.html")" 0

finish
