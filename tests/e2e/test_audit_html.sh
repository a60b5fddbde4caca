#!/usr/bin/env bash
# audit --format html. First -o's own rules (a directory, a link, a missing directory).
# Then the page rendered by headless Chromium (Debian's chromium) from generated trees:
# its summary against the JSON report, its filter against the JSON's sets, names that
# look like markup shown as text, no console errors, a screenshot kept in the build
# directory; the view it opens on; its picture (every box against the JSON report, a
# known tree's areas and colours, clicks and keys on it); the problem tree's top and
# where links resolve for every shape of root, / included (in a chroot); its policy
# keeping the network out.
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
    skip_all "the page in a browser runs in the release pass (the browser is not what is sanitized)"
fi
if [ -z "$browser" ] || ! command -v python3 >/dev/null; then
    skip_all "the HTML report in a browser (chromium cannot be installed here: apt-get install chromium)"
fi

python3 "$here/../../bench/gen.py" links gen 6000 7 >/dev/null
# Names that look like markup must show as text; names that are a script object's own
# properties are directories like any other; a directory with more subdirectories than
# the picture has room for.
ln -s '</script><b>x' 'gen/<b>bold<i>'
ln -s 'a&amp;b' 'gen/q"uote'
for d in __proto__ constructor hasOwnProperty; do mkdir "gen/$d" && ln -s gone "gen/$d/l"; done
for i in $(seq 300); do mkdir -p "gen/wide/d$i" && ln -s ../../n1 "gen/wide/d$i/l"; done

t audit gen --format html -o "$WORK/report.html"
check "html written: exit 1 (broken links in the tree)" is "$rc" 1
t audit gen --format json
echo "$out" >"$WORK/report.json"
out=""

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

# The page driven as a person would: a script appended to a copy of the page (its CSP
# lets inline scripts run) runs after the page's own, acts through the DOM (a click where
# a box is drawn, on whatever is drawn there; keys) and writes what the page then shows
# as JSON into the DOM, which the browser dumps.
PROBE_JS=$(cat <<'EOF'
var P = {
  $: function (s) { return document.querySelector(s); },
  all: function (s, f) { return [].map.call(document.querySelectorAll(s), f); },
  facts: function () {
    var legend = {};
    P.all(".legend span[data-status]", function (e) { legend[e.dataset.status] = getComputedStyle(e).backgroundColor; });
    return {
      status: P.$("#status").value, hash: location.hash, errors: P.$("#errors").textContent,
      resources: performance.getEntriesByType("resource").length, legend: legend,
      counts: P.all("#summary td.n", function (e) { return [e.id, e.textContent]; }),
      rows: P.all("#rows tr", function (tr) { return [].map.call(tr.cells, function (c) { return c.textContent; }); }),
      cells: P.all("#map rect[data-i]", function (r) {
        return { path: r.dataset.path, kind: r.dataset.kind, n: +r.dataset.n, status: r.dataset.status,
                 fill: getComputedStyle(r).fill, x: +r.getAttribute("x"), y: +r.getAttribute("y"),
                 w: +r.getAttribute("width"), h: +r.getAttribute("height"),
                 about: r.getAttribute("aria-label"), tab: r.getAttribute("tabindex") };
      }),
      map: P.$("#map svg") && P.$("#map svg").getAttribute("viewBox"),
      alt: P.all("#map-table tbody tr", function (tr) { return [].map.call(tr.cells, function (c) { return c.textContent; }); }),
      tops: P.all("#tree > details > summary", function (e) { return e.firstChild.textContent.trim(); }),
      tree: P.all("#tree summary, #tree .leaf", function (e) { return e.textContent; }),
      info: P.$("#map-info").textContent, within: P.$("#dir-filter").hidden ? "" : P.$("#dir-name").textContent
    };
  },
  cell: function (path, kind) {
    return P.$('#map rect[data-path="' + CSS.escape(path) + '"][data-kind="' + (kind || "dir") + '"]');
  },
  click: function (el) {
    el.scrollIntoView({ block: "center" });
    var b = el.getBoundingClientRect(), x = b.left + b.width / 2, y = b.top + b.height / 2;
    var hit = document.elementFromPoint(x, y);
    hit.dispatchEvent(new MouseEvent("click", { bubbles: true, clientX: x, clientY: y }));
    return hit === el;
  },
  key: function (el, key) { el.dispatchEvent(new KeyboardEvent("keydown", { key: key, bubbles: true })); },
  out: function (o) {
    var pre = document.createElement("pre");
    pre.id = "probe";
    pre.textContent = JSON.stringify(o);
    document.body.appendChild(pre);
  }
};
EOF
)
# probe PAGE FRAGMENT JS OUT: PAGE opened at FRAGMENT, with P (above) and then JS run
# after the page's script; what JS gave P.out, as JSON, in OUT; the console in OUT.err.
probe() {
    python3 - "$1" "$WORK/probe.html" "$PROBE_JS
$3" <<'EOF'
import sys
src, dst, js = sys.argv[1:4]
page = open(src, encoding="utf-8").read()
i = page.rindex("</body>")
open(dst, "w", encoding="utf-8").write(page[:i] + "<script>\n" + js + "\n</script>\n" + page[i:])
EOF
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$WORK/chrome" \
        --window-size=1280,1000 --enable-logging=stderr --v=0 --dump-dom "file://$WORK/probe.html$2" 2>"$4.err" |
        python3 -c 'import html, re, sys
m = re.search(r"<pre id=\"probe\">(.*?)</pre>", sys.stdin.read(), re.S)
print(html.unescape(m.group(1)) if m else "{}")' >"$4"
}
# What a page's picture must be against the JSON report of the same roots (the rules of
# the picture, checked on every report below): the boxes fill it; each box's area is its
# share of the links; each box holds, in count and worst status (its colour), exactly the
# links of the JSON report under its directory (or directly in it, or for a group of
# directories, those under its parent that no other box holds); its text names no "//";
# the table beside the picture lists the same boxes. Then every row's "resolves to" is
# where the link's own directory, really, joined with its target leads.
cat >"$WORK/page.py" <<'EOF'
import json, os

def load(name):
    return json.load(open(name, encoding="utf-8"))

def as_dir(p):
    return p if p.endswith("/") else p + "/"

def holds(c, p):
    d = as_dir(c["path"])
    if p == c["path"]:
        return True
    return p.startswith(d) and (c["kind"] != "here" or "/" not in p[len(d):])

def worst(statuses):
    s = set(statuses)
    return "bad" if s & {"broken", "loop"} else "warn" if s & {"denied", "error"} else "ok"

def picture(f, report):
    links, cells, bad = report["links"], f["cells"], []
    if not cells:
        return ["no boxes"]
    width, height = map(float, f["map"].split()[2:])
    if abs(sum(c["w"] * c["h"] for c in cells) / (width * height) - 1) > 0.001:
        bad.append("the boxes do not fill the picture")
    for i, c in enumerate(cells):  # inside it, and none over another (to the rounding)
        if c["x"] < -0.01 or c["y"] < -0.01 or c["x"] + c["w"] > width + 0.02 or c["y"] + c["h"] > height + 0.02:
            bad.append(("outside the picture", c["path"]))
        for o in cells[i + 1:]:
            if min(c["x"] + c["w"], o["x"] + o["w"]) - max(c["x"], o["x"]) > 0.02 and \
                    min(c["y"] + c["h"], o["y"] + o["h"]) - max(c["y"], o["y"]) > 0.02:
                bad.append(("boxes overlap", c["path"], o["path"]))
    if sum(c["n"] for c in cells) != len(links):
        bad.append("the boxes hold %d links, not %d" % (sum(c["n"] for c in cells), len(links)))
    if [c["tab"] for c in cells].count("0") != 1:
        bad.append("not one tab stop")
    held = [c for c in cells if c["kind"] != "group"]
    for c in cells:
        share = c["w"] * c["h"] / (width * height) / (c["n"] / len(links))
        if abs(share - 1) > 0.01:
            bad.append(("area not in proportion", c["path"], c["kind"], share))
        if c["fill"] != f["legend"][c["status"]]:
            bad.append(("colour not the legend's", c["path"], c["fill"]))
        if c["kind"] == "group":
            mine = [l["status"] for l in links if holds(dict(c, kind="dir"), l["path"])
                    and not any(holds(o, l["path"]) for o in held)]
        else:
            mine = [l["status"] for l in links if holds(c, l["path"])]
        if len(mine) != c["n"] or worst(mine) != c["status"]:
            bad.append(("count or colour", c["path"], c["kind"], c["n"], len(mine), c["status"], worst(mine)))
        if "//" in c["about"]:
            bad.append(("//", c["about"]))
    if sorted(int(r[1]) for r in f["alt"]) != sorted(c["n"] for c in cells) or \
            any(int(r[1]) != sum(map(int, r[2:])) for r in f["alt"]):
        bad.append("the table beside the picture differs from it")
    return bad

def resolved(f, cwd, real=os.path.realpath):
    bad = []
    for path, target, shown in (r[:3] for r in f["rows"]):
        want = os.path.normpath(os.path.join(real(os.path.join(cwd, os.path.dirname(path))), target))
        if shown != want:
            bad.append((path, target, shown, want))
    return bad
EOF
pagecheck() { PYTHONPATH=$WORK python3 - "$@"; }

# Opens on the problems when there are some, on everything when none; the counts stay;
# the fragment still sets the view.
probe "$WORK/report.html" "" 'P.out(P.facts());' "$WORK/first.facts"
probe "$WORK/report.html" "#status=all" 'P.out(P.facts());' "$WORK/all.facts"
got=$(pagecheck "$WORK" <<'EOF'
import sys
from page import *
work = sys.argv[1]
report = load(work + "/report.json")
for name, status, keep in (("first", "problems", lambda l: l["status"] != "ok"), ("all", "all", lambda l: True)):
    f = load(work + "/" + name + ".facts")
    want = sorted(l["path"] for l in report["links"] if keep(l))
    print(name, f["status"] == status, sorted(r[0] for r in f["rows"]) == want, len(f["counts"]) == 12,
          repr(f["errors"]), f["resources"], picture(f, report), len(f["cells"]) <= 250)
EOF
)
check "with problems: opens on them, the counts kept, the picture right" is "$(sed -n 1p <<<"$got")" "first True True True '' 0 [] True"
check "with problems, #status=all: every link, the picture right" is "$(sed -n 2p <<<"$got")" "all True True True '' 0 [] True"
check "opened without a fragment: no console errors" is "$(grep -c ':CONSOLE' "$WORK/first.facts.err")" 0

mkdir -p fine/a && ln -s ../a fine/a/up && ln -s up fine/a/up2
t audit fine --format html -o "$WORK/fine.html"
probe "$WORK/fine.html" "" 'P.out(P.facts());' "$WORK/fine.facts"
probe "$WORK/fine.html" "#status=problems" 'P.out(P.facts());' "$WORK/fine-problems.facts"
got=$(pagecheck "$WORK" <<'EOF'
import sys
from page import *
for name in ("fine", "fine-problems"):
    f = load(sys.argv[1] + "/" + name + ".facts")
    print(f["status"], sorted(r[0] for r in f["rows"]), [(c["path"], c["status"]) for c in f["cells"]], f["tree"],
          repr(f["errors"]))
EOF
)
check "without problems: opens on every link" is "$(sed -n 1p <<<"$got")" "all ['fine/a/up', 'fine/a/up2'] [('fine/a', 'ok')] [] ''"
check "without problems, #status=problems: none listed" is "$(sed -n 2p <<<"$got")" "problems [] [('fine/a', 'ok')] [] ''"

# A known tree: geo/a 30 links, all ok; geo/b 10, one broken; geo/top. The areas are 3:1, b is in
# the problem colour, a in the ok colour; pointing at b says what it holds; a click on a
# box lists its links (keeping the problems filter where the box has problems, else
# showing all); the arrows and Enter do the same from the keyboard, and so does the
# table beside the picture.
mkdir -p geo/a geo/b
for i in $(seq 30); do ln -s ../b "geo/a/l$i"; done
for i in $(seq 9); do ln -s ../a "geo/b/l$i"; done
ln -s gone geo/b/broken
ln -s a geo/top
t audit geo --format html -o "$WORK/geo.html"
t audit geo --format json
echo "$out" >"$WORK/geo.json"
out=""
probe "$WORK/geo.html" "" '
var out = { first: P.facts() }, a = P.cell("geo/a"), b = P.cell("geo/b");
b.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
out.pointed = P.$("#map-info").textContent;
out.hit_b = P.click(b); out.b = P.facts();
out.hit_a = P.click(a); out.a = P.facts();
P.click(P.$("#dir-clear")); out.cleared = P.facts();
var first = P.$("#map rect[tabindex=\"0\"]");
first.focus(); P.key(first, "ArrowRight");
out.moved = [document.activeElement.getAttribute("data-i"), document.activeElement.getAttribute("tabindex"), first.getAttribute("tabindex")];
P.key(document.activeElement, "Enter"); out.entered = P.facts(); out.entered.chose = document.activeElement.dataset.path;
P.click(P.$("#map-table button")); out.table = P.facts();
out.hit_here = P.click(P.cell("geo", "here")); out.here = P.facts();
P.out(out);' "$WORK/geo.facts"
probe "$WORK/geo.html" "#dir=geo%2Fb&status=all" '
P.out(P.facts());
fetch("http://127.0.0.1:9/tether-probe").catch(function () {});
new Image().src = "http://127.0.0.1:9/tether-probe.png";' "$WORK/geo-b.facts"
got=$(pagecheck "$WORK" <<'EOF'
import sys
from page import *
work = sys.argv[1]
report, o = load(work + "/geo.json"), load(work + "/geo.facts")
f = o["first"]
area = {c["path"]: c["w"] * c["h"] for c in f["cells"]}
colour = {c["path"]: c["fill"] for c in f["cells"]}
print("boxes", sorted(area), round(area["geo/a"] / area["geo/b"], 2), picture(f, report))
print("colours", colour["geo/b"] == f["legend"]["bad"] != colour["geo/a"] == f["legend"]["ok"])
print("pointed", o["pointed"])
paths = lambda f: sorted(r[0] for r in f["rows"])
print("click b", o["hit_b"], o["b"]["status"], paths(o["b"]), o["b"]["within"], o["b"]["hash"])
print("click a", o["hit_a"], o["a"]["status"], paths(o["a"]) == sorted("geo/a/l%d" % i for i in range(1, 31)), o["a"]["hash"])
print("cleared", o["cleared"]["status"], len(o["cleared"]["rows"]), o["cleared"]["within"])
print("keys", o["moved"], o["entered"]["chose"], paths(o["entered"]) == sorted(l["path"] for l in report["links"] if l["path"].startswith(o["entered"]["chose"] + "/")))
print("table", o["table"]["within"], len(o["table"]["rows"]))
print("here", o["hit_here"], paths(o["here"]), o["here"]["within"], o["here"]["hash"])
print("errors", set(repr(x["errors"]) for x in (f, o["b"], o["a"], o["cleared"], o["entered"], o["table"], o["here"])),
      f["resources"])
g = load(work + "/geo-b.facts")
print("fragment", g["status"], len(g["rows"]), g["within"], repr(g["errors"]))
print("count", [(c["path"], c["kind"], c["n"]) for c in f["cells"]])
EOF
)
check "picture: a box per directory, areas 3:1 as their links" has "$got" "boxes ['geo', 'geo/a', 'geo/b'] 3.0 []"
check "picture: the boxes' counts" has "$got" "count [('geo/a', 'dir', 30), ('geo/b', 'dir', 10), ('geo', 'here', 1)]"
check "picture: the box holding a broken link in the problem colour" has "$got" "colours True"
check "picture: pointing at a box says what it holds" has "$got" "pointed geo/b/ — 10 links: 1 broken, 9 ok"
check "picture: a click on b lists its problem (the filter kept)" has "$got" "click b True problems ['geo/b/broken'] geo/b/ #status=problems&sort=0&dir=geo%2Fb"
check "picture: a click on a (all ok) lists all its links" has "$got" "click a True all True #status=all&sort=0&dir=geo%2Fa"
check "picture: the directory filter cleared" has "$got" "cleared all 41 "$'\n'
check "picture: arrows move the one tab stop, Enter lists the box's links" has "$got" "keys ['1', '0', '-1'] geo/"
check "picture: Enter lists the links of the box focused" has "$got" "True"$'\n'"table"
check "picture: the table beside it filters too" has "$got" "table geo/b/ 10"
check "picture: the box of the links directly in geo lists only those" has "$got" "here True ['geo/top'] geo/ (not below) #status=all&sort=0&here=geo"
check "picture: no script error, nothing loaded" has "$got" "errors {\"''\"} 0"
check "#dir=geo/b&status=all opens on b's links" has "$got" "fragment all 10 geo/b/ ''"
csp=$(grep ':CONSOLE' "$WORK/geo-b.facts.err")
check "the page's policy stops a request to the network (and only that is logged)" is \
    "$(grep -c 'Content Security Policy' <<<"$csp")|$(grep -vc '127.0.0.1:9/tether-probe' <<<"$csp")" "3|0"
check "no console errors (the picture driven)" is "$(grep -c ':CONSOLE' "$WORK/geo.facts.err")" 0

# More subdirectories than the picture has room for: the largest kept, the rest grouped.
for i in $(seq 400); do mkdir -p "wide/d$i" && ln -s ../d1 "wide/d$i/l"; done
ln -s gone wide/d7/broken
t audit wide --format html -o "$WORK/wide.html"
t audit wide --format json
echo "$out" >"$WORK/wide.json"
out=""
probe "$WORK/wide.html" "" 'P.out(P.facts());' "$WORK/wide.facts"
got=$(pagecheck "$WORK" <<'EOF'
import sys
from page import *
f = load(sys.argv[1] + "/wide.facts")
print(len(f["cells"]) <= 250, [c["path"] for c in f["cells"] if c["kind"] == "group"], picture(f, load(sys.argv[1] + "/wide.json")))
EOF
)
check "a wide directory: at most 250 boxes, the rest one group, right" is "$got" "True ['wide'] []"

# Every shape of root: the problem tree's top named as the walk names the root ("/" for
# /, never "//"), the picture and where links resolve right for each.
mkdir -p shapes/dir/a shapes/other
ln -s nowhere shapes/dir/a/br
ln -s a shapes/dir/ok
ln -s ../dir/a/../nothing shapes/dir/messy
ln -s ../dir/missing shapes/other/x
ln -s dir shapes/lroot
shape() { # shape NAME TOPS ROOT...: the report of the ROOTs made in shapes/, checked
    local name=$1 tops=$2
    shift 2
    (cd shapes && "$TETHER" -q audit "$@" --format html -o "$WORK/$name.html"
     "$TETHER" audit "$@" --format json >"$WORK/$name.json")
    probe "$WORK/$name.html" "#status=all" 'P.out(P.facts());' "$WORK/$name.facts"
    got=$(pagecheck "$WORK" "$name" "$PWD/shapes" <<'EOF'
import sys
from page import *
work, name, cwd = sys.argv[1:4]
f, report = load(work + "/" + name + ".facts"), load(work + "/" + name + ".json")
print(f["tops"], [t for t in f["tree"] if "//" in t], picture(f, report), resolved(f, cwd), repr(f["errors"]))
EOF
)
    check "root shape $name ($*)" is "$got" "$tops [] [] [] ''"
}
shape dot "['./']" .
shape dir-slash "['dir/']" dir/
shape dir-slashes "['dir/']" dir//
shape relative-up "['../shapes/dir/']" ../shapes/dir
shape two "['dir/', 'other/']" dir other
shape link "['lroot/']" lroot
shape absolute "['$PWD/shapes/dir/']" "$PWD/shapes/dir"
# The real root: a small tree made the root of a private mount namespace (chroot), with
# tether and the libraries it loads.
jail=$WORK/jail
mkdir -p "$jail/bin" "$jail/a" "$jail/b/c"
cp "$TETHER" "$jail/bin/tether"
for lib in $(ldd "$TETHER" | grep -o '/[^ ]*'); do
    mkdir -p "$jail$(dirname "$lib")" && cp -L "$lib" "$jail$lib"
done
ln -s nowhere "$jail/a/br"
ln -s ../bin "$jail/a/ok"
ln -s ../../nothing "$jail/b/c/gone"
if unshare -rm chroot "$jail" /bin/tether --version >/dev/null 2>"$WORK/jail.err"; then
    unshare -rm chroot "$jail" /bin/tether -q audit / --format html -o /slash.html
    unshare -rm chroot "$jail" /bin/tether audit / --format json >"$WORK/slash.json"
    probe "$jail/slash.html" "#status=all" 'P.out(P.facts());' "$WORK/slash.facts"
    got=$(pagecheck "$WORK" <<'EOF'
import os, sys
from page import *
work = sys.argv[1]
f, report = load(work + "/slash.facts"), load(work + "/slash.json")
print(f["tops"], [t for t in f["tree"] if "//" in t], picture(f, report), resolved(f, "/", lambda p: p),
      repr(f["errors"]))
EOF
)
    check "root shape / (in a chroot)" is "$got" "['/'] [] [] [] ''"
else
    echo "skipped: the root / (unshare -rm chroot refused here: $(head -c 200 "$WORK/jail.err"))"
fi

finish
