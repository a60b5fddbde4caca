-- tether.report: a recipe's report of a long list (the links an audit finds) as a table,
-- CSV, JSON, a tree or an HTML page, written as the list is found (memory does not grow
-- with it) to standard output or to a file that is replaced whole once the report is
-- complete (tether.output), so a report cut short (^C, a full disk) leaves nothing.
--
-- The HTML page is one self-contained file (no network, no script, style or font from
-- elsewhere). The summary is plain HTML; the links are JSON inside the page, which its
-- own script turns into a picture of where the links and their problems are, a sortable,
-- filterable table and a collapsible tree of the directories that hold problems. Rows are
-- streamed, the summary comes last in the file and is shown first by the style sheet.
local tether = require "tether"
local json = require "tether.json"
local output = require "tether.output"
local path = require "tether.path"

local M = {}

local function esc(s)
  return (tostring(s):gsub('[&<>"]', { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

local HEAD = [==[
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>%s</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; display: flex; flex-direction: column; }
h1 { font-size: 1.3em; margin: 0 0 .5em; order: 0; }
h2 { font-size: 1.1em; margin: .8em 0 .3em; }
#summary { order: 1; } #map-view { order: 2; } #controls { order: 3; } #links-view { order: 4; } #tree-view { order: 5; }
#errors { order: 6; color: #b00; }
table { border-collapse: collapse; }
#summary table { margin: 0 2em 1em 0; display: inline-table; vertical-align: top; }
#summary td, #summary th { padding: .15em .6em; text-align: left; }
#summary td.n, #map-table td { text-align: right; font-variant-numeric: tabular-nums; }
#map svg { display: block; width: 100%%; max-width: 1000px; height: auto; }
#map rect { stroke: #fff; stroke-width: 1; cursor: pointer; }
#map rect:hover, #map rect:focus { stroke: #000; stroke-width: 2; outline: none; }
#map rect.frame { fill: none; stroke: #555; stroke-width: 1; pointer-events: none; }
#map text { font: 11px system-ui, sans-serif; fill: #111; pointer-events: none; }
#map-info { min-height: 1.4em; margin: .2em 0; font-family: ui-monospace, monospace; font-size: 12.5px; }
#map-help, .legend { margin: .2em 0; } .legend span { display: inline-block; width: .9em; height: .9em; margin: 0 .3em 0 1em; vertical-align: -.1em; }
.legend span:first-child { margin-left: 0; }
#map-table td, #map-table th { padding: .1em .5em; } #map-table th { text-align: left; }
#map-table button { font-family: ui-monospace, monospace; font-size: 12.5px; text-align: left; background: none; border: 0; padding: 0; color: #05a; text-decoration: underline; cursor: pointer; }
#controls { margin: .5em 0; display: flex; gap: 1em; align-items: center; flex-wrap: wrap; }
#links { width: 100%%; font-family: ui-monospace, monospace; font-size: 12.5px; }
#links th { position: sticky; top: 0; background: #eee; cursor: pointer; text-align: left; padding: .3em .5em; user-select: none; }
#links th[aria-sort=ascending]::after { content: " \25B2"; } #links th[aria-sort=descending]::after { content: " \25BC"; }
#links td { padding: .1em .5em; border-bottom: 1px solid #eee; word-break: break-all; vertical-align: top; }
#links td.status, #links td.nw { white-space: nowrap; word-break: normal; }
tr.broken td.status, tr.loop td.status { color: #b00; font-weight: bold; }
tr.denied td.status, tr.error td.status { color: #a60; font-weight: bold; } tr.ok td.status { color: #070; }
details { margin-left: 1.2em; } summary { cursor: pointer; font-family: ui-monospace, monospace; }
#map-view details { margin: .3em 0; } #map-view summary { font-family: inherit; }
.count { color: #666; } .leaf { margin-left: 2.4em; font-family: ui-monospace, monospace; }
button { font: inherit; } #dir-name { font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<h1>%s</h1>
<script>
window.addEventListener("error", function (ev) {
  document.getElementById("errors").textContent += "script error: " + ev.message + "\n";
});
</script>
<script type="application/json" id="links-data">[
]==]

-- The page's script: reads the JSON, draws the picture (a squarified treemap of the
-- directories, area by links, colour by their worst status), renders the table (a first
-- batch, then the rest on request, so that a large report opens at once) and the problem
-- tree. The page opens on the problems when there are any; the address's fragment
-- (#status=broken&q=text&sort=path&dir=PATH, or here=PATH for one directory without the
-- ones below it) sets the view, so a view can be linked.
local TAIL = [==[
<section id="map-view">
<h2 id="map-title">Where the links are</h2>
<p id="map-help">Each box is a directory with what is below it, its area the number of links in it
(a box marked * holds the links directly in that directory). Click a box to list its links.</p>
<p class="legend"><span data-status="bad"></span>some broken or looping <span data-status="warn"></span>some
denied or in error, none broken <span data-status="ok"></span>all ok</p>
<div id="map"></div>
<p id="map-info" aria-live="polite"></p>
<details><summary>The picture as a table</summary><table id="map-table"><thead><tr><th>directory</th>
<th>links</th><th>broken</th><th>loop</th><th>denied</th><th>error</th><th>ok</th></tr></thead><tbody></tbody></table></details>
</section>
<section id="controls">
<label>Status <select id="status">
<option value="all">all</option><option value="problems">problems (not ok)</option>
<option value="broken">broken</option><option value="loop">loop</option>
<option value="denied">denied</option><option value="error">error</option><option value="ok">ok</option>
</select></label>
<label>Path or target contains <input id="q" type="search" size="30"></label>
<span id="dir-filter" hidden>In <span id="dir-name"></span> <button id="dir-clear">every directory</button></span>
<span id="shown" aria-live="polite"></span>
<button id="more" hidden>show all</button>
</section>
<section id="links-view">
<table id="links">
<thead><tr><th data-col="0">path</th><th data-col="1">stored target</th><th data-col="5">resolves to</th><th data-col="2">status</th><th data-col="3">errno</th><th data-col="4">flags</th></tr></thead>
<tbody id="rows"></tbody>
</table>
</section>
<section id="tree-view"><h2>Directories with problems</h2><div id="tree"></div></section>
<pre id="errors"></pre>
<script>
(function () {
  "use strict";
  var PAGE = 2000, CELLS = 250, W = 1000, H = 400;
  var FLAGS = { a: "absolute", r: "relative", x: "cross-fs", e: "escapes", m: "messy", j: "junction" };
  var ORDER = { broken: 1, loop: 2, denied: 3, error: 4, ok: 5 };
  var STATUS = ["broken", "loop", "denied", "error", "ok"];
  var COLOUR = { bad: "#d9534f", warn: "#f0ad4e", ok: "#a9c9a4" };
  var rows = JSON.parse(document.getElementById("links-data").textContent);
  var dirs = JSON.parse(document.getElementById("dirs-data").textContent);
  var roots = JSON.parse(document.getElementById("roots-data").textContent);
  var SEP = roots.length ? roots[0].sep : "/";
  var $ = function (id) { return document.getElementById(id); };
  function endsInSep(p) { return p.slice(-1) === "/" || p.slice(-1) === SEP; }
  function asDir(p) { return endsInSep(p) ? p : p + SEP; }
  /* Each directory's names below its root, however the root was spelled: a dir is [root,
   * its path as the walk spells it, ending in a separator]; the walk spells a root's own
   * path as its "top" (".", "/", "dir" for "dir//"). */
  var under = dirs.map(function (d) {
    var top = roots[d[0]].top, p = d[1];
    return p.length > top.length ? p.slice(top.length).replace(/^[\/\\]+|[\/\\]+$/g, "") : "";
  });
  /* Each row: [directory, name, stored target, status, errno, flags, resolved?]. Where a
   * link resolves to is written out only where the names cannot tell (a target spelled
   * with ".." after a name, a link given as a root, Windows); otherwise it is the link's
   * real directory joined with the target, in normal form. Made [path, stored target,
   * status, errno, flags, resolved, directory]. */
  function normal(p) {
    var out = [];
    p.split("/").forEach(function (part) {
      if (part === "..") out.pop();
      else if (part !== "" && part !== ".") out.push(part);
    });
    return "/" + out.join("/");
  }
  rows.forEach(function (r) {
    var di = r[0], d = dirs[di], path = d[1] + r[1];
    if (r.length < 7) {
      var root = roots[d[0]], t = r[2];
      r[6] = root.real === null || t === "" ? "" :
        normal(t[0] === "/" ? t : root.real + "/" + under[di] + "/" + t);
    }
    r.splice(0, 2, path);
    r.push(di);
  });

  /* The directories as a tree, one per root: own counts links directly in a directory,
   * tot those in it and below, both by status (in STATUS order). */
  function Node(name, path, parent) {
    this.name = name; this.path = path; this.parent = parent;
    this.kids = Object.create(null); this.nk = 0; this.own = [0, 0, 0, 0, 0]; this.bad = [];
  }
  var tops = [], known = [];
  function nodeAt(root, names) { /* names below the root, "" for the root itself */
    var seen = known[root] || (known[root] = new Map()), node = seen.get(names);
    if (node) return node;
    if (names === "") {
      tops.push(node = new Node(roots[root].top, roots[root].top, null));
    } else {
      var cut = Math.max(names.lastIndexOf("/"), names.lastIndexOf(SEP)), name = names.slice(cut + 1);
      var parent = nodeAt(root, cut < 0 ? "" : names.slice(0, cut));
      node = parent.kids[name] = new Node(name, asDir(parent.path) + name, parent);
      parent.nk++;
    }
    seen.set(names, node);
    return node;
  }
  var dirNode = dirs.map(function (d, i) { return nodeAt(d[0], under[i]); });
  rows.forEach(function (r) {
    var n = dirNode[r[6]], s = ORDER[r[2]] - 1;
    n.own[s]++;
    if (s < 4) n.bad.push(r);
  });
  function sum(t) { return t[0] + t[1] + t[2] + t[3] + t[4]; }
  function problems(t) { return t[0] + t[1] + t[2] + t[3]; }
  function totals(n) {
    var t = n.own.slice();
    for (var k in n.kids) {
      var c = totals(n.kids[k]);
      for (var i = 0; i < 5; i++) t[i] += c[i];
    }
    n.tot = t;
    n.v = sum(t);
    return t;
  }
  tops.forEach(totals);
  function label(n) { return n.parent ? n.name + "/" : asDir(n.path); }
  function kidsByName(n) {
    return Object.keys(n.kids).sort().map(function (k) { return n.kids[k]; });
  }

  var st = { status: "all", q: "", col: 0, dir: 1, limit: PAGE, within: null };
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  function flags(f) {
    var out = [];
    for (var i = 0; i < f.length; i++) out.push(FLAGS[f[i]] || f[i]);
    return out.join(", ");
  }
  function inDir(r) {
    var d = st.within;
    if (r[0] === d.path) return true; /* a link given as a root */
    return d.here ? dirs[r[6]][1] === asDir(d.path) : r[0].lastIndexOf(asDir(d.path), 0) === 0;
  }
  function wanted(r) {
    if (st.status === "problems" ? r[2] === "ok" : st.status !== "all" && r[2] !== st.status) return false;
    if (st.within && !inDir(r)) return false;
    return !st.q || r[0].indexOf(st.q) >= 0 || r[1].indexOf(st.q) >= 0;
  }
  function cmp(a, b) {
    var c = st.col, x = a[c], y = b[c];
    if (c === 2) { x = ORDER[x]; y = ORDER[y]; }
    if (x !== y) return (x < y ? -1 : 1) * st.dir;
    return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
  }
  function render() {
    var list = rows.filter(wanted).sort(cmp), n = Math.min(list.length, st.limit), html = [];
    for (var i = 0; i < n; i++) {
      var r = list[i];
      html.push('<tr class="' + r[2] + '"><td class="path">' + esc(r[0]) + "</td><td>" + esc(r[1]) +
        "</td><td>" + esc(r[5]) + '</td><td class="status">' + r[2] + '</td><td class="nw">' + esc(r[3]) +
        '</td><td class="nw">' + flags(r[4]) + "</td></tr>");
    }
    $("rows").innerHTML = html.join("");
    $("shown").textContent = (n < list.length ? n + " of " + list.length + " matching" : list.length) +
      " links shown (" + rows.length + " in all)";
    $("more").hidden = n >= list.length;
    $("more").textContent = "show all " + list.length;
    $("dir-filter").hidden = !st.within;
    $("dir-name").textContent = st.within ? asDir(st.within.path) + (st.within.here ? " (not below)" : "") : "";
    var ths = document.querySelectorAll("#links th");
    for (var j = 0; j < ths.length; j++)
      ths[j].setAttribute("aria-sort", +ths[j].dataset.col === st.col ? (st.dir > 0 ? "ascending" : "descending") : "none");
    var h = "status=" + encodeURIComponent(st.status) + (st.q ? "&q=" + encodeURIComponent(st.q) : "") +
      "&sort=" + st.col + (st.dir < 0 ? "-" : "") +
      (st.within ? (st.within.here ? "&here=" : "&dir=") + encodeURIComponent(st.within.path) : "");
    if (location.hash.slice(1) !== h) history.replaceState(null, "", "#" + h);
  }
  function fromHash() {
    var p = {};
    location.hash.slice(1).split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i > 0) p[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1));
    });
    var names = ["path", "target", "status", "errno", "flags", "resolved"];
    st.status = p.status || (tops.some(function (n) { return problems(n.tot); }) ? "problems" : "all");
    st.q = p.q || "";
    st.within = p.here ? { path: p.here, here: true } : p.dir ? { path: p.dir, here: false } : null;
    if (p.sort) {
      var col = names.indexOf(p.sort.replace(/-$/, ""));
      st.col = col >= 0 ? col : Math.max(0, Math.min(5, parseInt(p.sort, 10) || 0));
      st.dir = /-$/.test(p.sort) ? -1 : 1;
    }
    $("status").value = st.status;
    $("q").value = st.q;
  }

  /* The picture. The boxes are cut from the tree: starting from the roots, the largest
   * box that has directories below it is split into them (and one box for the links
   * directly in it), until there are about CELLS boxes; a directory with more
   * subdirectories than there is room for keeps its largest and groups the rest. A box
   * that mixes problems and ok links is split first, so the problems show where they are. */
  function worst(t) { return t[0] + t[1] ? "bad" : t[2] + t[3] ? "warn" : "ok"; }
  function parts(n) {
    var out = [];
    for (var k in n.kids) out.push({ kind: "dir", node: n.kids[k], v: n.kids[k].v, t: n.kids[k].tot });
    if (sum(n.own)) out.push({ kind: "here", node: n, v: sum(n.own), t: n.own });
    return out.sort(function (a, b) { return b.v - a.v; });
  }
  function grouped(n, rest) {
    var t = [0, 0, 0, 0, 0];
    rest.forEach(function (c) { for (var i = 0; i < 5; i++) t[i] += c.t[i]; });
    return { kind: "group", node: n, v: sum(t), t: t, n: rest.length };
  }
  function cut() {
    var top = tops.map(function (n) { return { kind: "dir", node: n, v: n.v, t: n.tot }; });
    var leaves = top.slice(), cells = leaves.length;
    for (;;) {
      var best = -1, key = 0;
      for (var i = 0; i < leaves.length; i++) {
        var c = leaves[i], p = problems(c.t);
        if (c.kind !== "dir" || c.done || !c.node.nk) continue;
        var k = c.v * (p && p < c.v ? 4 : 1);
        if (k > key) { key = k; best = i; }
      }
      if (best < 0) return top;
      var leaf = leaves[best], kids = parts(leaf.node), room = Math.max(1, CELLS - cells + 1);
      if (kids.length > 1 && room < 2) { leaf.done = true; continue; }
      if (kids.length > room) kids.push(grouped(leaf.node, kids.splice(room - 1)));
      leaf.items = kids;
      leaves.splice(best, 1);
      leaves.push.apply(leaves, kids);
      cells += kids.length - 1;
    }
  }
  /* Squarified treemap (Bruls, Huizing, van Wijk): rows of boxes along the shorter side,
   * each row grown while that brings its boxes nearer to squares. */
  function squarify(list, x, y, w, h, out, frames) {
    var total = 0, i = 0;
    list.forEach(function (c) { total += c.v; });
    var scale = w * h / total;
    while (i < list.length) {
      var side = Math.min(w, h), first = list[i].v * scale, s = 0, ratio = Infinity, j = i;
      for (; j < list.length; j++) {
        var a = list[j].v * scale, s2 = s + a;
        var r = Math.max(side * side * first / (s2 * s2), s2 * s2 / (side * side * a));
        if (r > ratio) break;
        ratio = r;
        s = s2;
      }
      var across = w >= h, thick = s / (across ? h : w), at = across ? y : x;
      for (var k = i; k < j; k++) {
        var len = list[k].v * scale / thick;
        if (across) place(list[k], x, at, thick, len, out, frames); else place(list[k], at, y, len, thick, out, frames);
        at += len;
      }
      if (across) { x += thick; w -= thick; } else { y += thick; h -= thick; }
      i = j;
    }
  }
  function place(c, x, y, w, h, out, frames) {
    if (c.items) {
      frames.push('<rect class="frame" x="' + x.toFixed(2) + '" y="' + y.toFixed(2) + '" width="' + w.toFixed(2) +
        '" height="' + h.toFixed(2) + '"/>');
      return squarify(c.items, x, y, w, h, out, frames);
    }
    c.x = x; c.y = y; c.w = w; c.h = h;
    out.push(c);
  }
  function links(n) { return n === 1 ? "1 link" : n + " links"; }
  function counts(t) {
    var out = [];
    for (var i = 0; i < 5; i++) if (t[i]) out.push(t[i] + " " + STATUS[i]);
    return links(sum(t)) + ": " + out.join(", ");
  }
  function where(c) {
    var d = asDir(c.node.path);
    return c.kind === "group" ? c.n + " more directories in " + d : c.kind === "here" ? d + " (directly in it)" : d;
  }
  function named(c) {
    var d = label(c.node);
    return c.kind === "group" ? "+" + c.n + " more" : c.kind === "here" ? d + "*" : d;
  }
  function fit(text, w) {
    var n = Math.floor((w - 6) / 6.2);
    return text.length <= n ? text : text.slice(0, n - 1) + "\u2026";
  }
  function picture() {
    var cells = [], svg = [], text = [], frames = [];
    if (!tops.length) { $("map").innerHTML = "<p>No links to draw.</p>"; return; }
    squarify(cut(), 0, 0, W, H, cells, frames);
    cells.forEach(function (c, i) {
      c.about = where(c) + " \u2014 " + counts(c.t);
      svg.push('<rect data-i="' + i + '" data-kind="' + c.kind + '" data-path="' + esc(c.node.path) + '" data-n="' +
        c.v + '" data-status="' + worst(c.t) + '" x="' + c.x.toFixed(2) + '" y="' + c.y.toFixed(2) + '" width="' +
        c.w.toFixed(2) + '" height="' + c.h.toFixed(2) + '" fill="' + COLOUR[worst(c.t)] + '" tabindex="' +
        (i ? -1 : 0) + '" role="button" aria-label="' + esc(c.about) + '"><title>' + esc(c.about) + "</title></rect>");
      if (c.w > 30 && c.h > 15)
        text.push('<text x="' + (c.x + 3).toFixed(2) + '" y="' + (c.y + 12).toFixed(2) + '">' + esc(fit(named(c), c.w)) + "</text>");
    });
    $("map").innerHTML = '<svg viewBox="0 0 ' + W + " " + H + '" role="group" aria-labelledby="map-title" ' +
      'aria-describedby="map-help">' + svg.join("") + frames.join("") + text.join("") + "</svg>";
    var order = cells.map(function (c, i) { return i; }).sort(function (a, b) {
      return problems(cells[b].t) - problems(cells[a].t) || cells[b].v - cells[a].v || a - b;
    });
    $("map-table").tBodies[0].innerHTML = order.map(function (i) {
      var c = cells[i];
      return '<tr><th><button data-i="' + i + '">' + esc(where(c)) + "</button></th><td>" + c.v + "</td><td>" +
        c.t.join("</td><td>") + "</td></tr>";
    }).join("");
    var info = $("map-info"), hint = "Point at or focus a box for its directory and counts.";
    info.textContent = hint;
    function cellOf(ev) { var i = ev.target.getAttribute("data-i"); return i === null ? null : cells[+i]; }
    function show(ev) { var c = cellOf(ev); if (c) info.textContent = c.about; }
    var map = $("map").firstChild;
    map.addEventListener("mouseover", show);
    map.addEventListener("focusin", show);
    map.addEventListener("mouseleave", function () { info.textContent = hint; });
    map.addEventListener("click", function (ev) { var c = cellOf(ev); if (c) choose(c); });
    $("map-table").addEventListener("click", function (ev) { var c = cellOf(ev); if (c) choose(c); });
    map.addEventListener("keydown", function (ev) { /* one tab stop; arrows move between boxes */
      var i = +ev.target.getAttribute("data-i"), to = i;
      if (ev.key === "Enter" || ev.key === " ") { choose(cells[i]); ev.preventDefault(); return; }
      if (ev.key === "ArrowRight" || ev.key === "ArrowDown") to = Math.min(cells.length - 1, i + 1);
      else if (ev.key === "ArrowLeft" || ev.key === "ArrowUp") to = Math.max(0, i - 1);
      else if (ev.key === "Home") to = 0;
      else if (ev.key === "End") to = cells.length - 1;
      else return;
      ev.preventDefault();
      ev.target.setAttribute("tabindex", "-1");
      var next = map.querySelector('rect[data-i="' + to + '"]');
      next.setAttribute("tabindex", "0");
      next.focus();
    });
  }
  /* A box chosen: the table lists its links, keeping the status filter unless the box
   * has none of that status. */
  function choose(c) {
    var t = c.kind === "here" ? c.node.own : c.node.tot;
    st.within = { path: c.node.path, here: c.kind === "here" };
    var n = st.status === "all" ? 1 : st.status === "problems" ? problems(t) : t[ORDER[st.status] - 1];
    if (!n) st.status = $("status").value = "all";
    st.limit = PAGE;
    render();
  }

  /* The tree of directories with problems: each level is built when it is opened, so a
   * report with thousands of problems opens at once. */
  function tree() {
    var nodes = [];
    function level(list, leaves, depth) {
      var out = [];
      list.forEach(function (d) {
        if (!problems(d.tot)) return;
        nodes.push(d);
        d.depth = depth;
        d.built = depth < 2;
        out.push("<details data-node=\"" + (nodes.length - 1) + "\"" + (d.built ? " open" : "") + "><summary>" +
          esc(label(d)) + ' <span class="count">(' + problems(d.tot) + ")</span></summary>" +
          (d.built ? level(kidsByName(d), d.bad, depth + 1) : "") + "</details>");
      });
      leaves.forEach(function (r) {
        out.push('<div class="leaf ' + r[2] + '">' + esc(r[0].slice(dirs[r[6]][1].length) || r[0]) + " &rarr; " +
          esc(r[1]) + " [" + r[2] + "]</div>");
      });
      return out.join("");
    }
    var some = tops.some(function (n) { return problems(n.tot); });
    $("tree").innerHTML = some ? level(tops, [], 0) : "<p>No problems found.</p>";
    $("tree").addEventListener("toggle", function (ev) {
      var d = nodes[ev.target.dataset.node];
      if (!d || d.built || !ev.target.open) return;
      d.built = true;
      ev.target.insertAdjacentHTML("beforeend", level(kidsByName(d), d.bad, d.depth + 1));
    }, true);
  }
  $("status").addEventListener("change", function () { st.status = this.value; st.limit = PAGE; render(); });
  var timer;
  $("q").addEventListener("input", function () {
    var v = this.value;
    clearTimeout(timer);
    timer = setTimeout(function () { st.q = v; st.limit = PAGE; render(); }, 150);
  });
  $("more").addEventListener("click", function () { st.limit = Infinity; render(); });
  $("dir-clear").addEventListener("click", function () { st.within = null; st.limit = PAGE; render(); });
  document.querySelector("#links thead").addEventListener("click", function (ev) {
    var col = ev.target.dataset && ev.target.dataset.col;
    if (col === undefined) return;
    st.dir = +col === st.col ? -st.dir : 1;
    st.col = +col;
    render();
  });
  window.addEventListener("hashchange", function () { fromHash(); render(); });
  var swatches = document.querySelectorAll(".legend span[data-status]");
  for (var i = 0; i < swatches.length; i++) swatches[i].style.background = COLOUR[swatches[i].dataset.status];
  fromHash();
  render();
  picture();
  tree();
  document.body.dataset.readyMs = String(Math.round(performance.now())); /* for bench/audit.sh */
})();
</script>
]==]

-- Flags of a link as letters (the page spells them out).
local function flag_letters(l)
  return (l.form == "absolute" and "a" or "r") .. (l.cross_fs and "x" or "") .. (l.escapes and "e" or "")
    .. (l.messy and "m" or "") .. (l.kind == "junction" and "j" or "")
end

-- A root's own path as the walk spells it ("dir" for "dir//"): the link's path without
-- the names below the root.
local function walk_top(l)
  local top = l.path
  for _ = 1, l.depth do top = path.dirname(top) end
  return top
end

-- Where link l resolves to, where its names cannot tell (messy, Windows, a root): the
-- kernel's way (through any link) to its parent. real: its root's real path, below
-- which its directory is the last depth - 1 names of its path.
local function resolved(l, real)
  local p, t = l.path, l.target
  local names = path.parts(p)
  local base = path.join(real, table.concat(names, "/", #names - l.depth + 1, #names - 1))
  if l.depth == 0 then base = tether.realpath(path.dirname(p)) or base end
  local parent = tether.realpath(path.join(base, path.dirname(t)))
  return parent and path.join(parent, path.basename(t)) or tether.absolute(path.join(base, t))
end

-- The page's summary section: the counts of summary s by status, form, place and kind,
-- and what could not be read.
local function write_summary(out, s, unreadable)
  out:write("<section id=\"summary\">\n<p>", esc(string.format(
    "%d links in %d entries (%d directories); %d unreadable", s.links, s.entries, s.dirs, #unreadable)), "</p>\n")
  local function tab(caption, keys, counts)
    out:write("<table><caption>", caption, "</caption>\n")
    for _, k in ipairs(keys) do
      out:write('<tr><th>', k[2], '</th><td class="n" id="n-', k[1], '">', counts[k[1]], "</td></tr>\n")
    end
    out:write("</table>\n")
  end
  tab("by status", { { "ok", "ok" }, { "broken", "broken" }, { "loop", "loop" }, { "denied", "denied" }, { "error", "error" } },
    s.status)
  tab("by form", { { "absolute", "absolute" }, { "relative", "relative" } }, s.form)
  tab("by place", { { "escapes", "escapes the roots" }, { "cross_fs", "cross-device" }, { "messy", "messy spelling" } }, s.flags)
  tab("by kind", { { "symlink", "symlink" }, { "junction", "junction" } }, s.type)
  if #unreadable > 0 then
    out:write("<p>Not read:</p><ul>\n")
    for _, u in ipairs(unreadable) do out:write("<li>", esc(u.message or u.path), "</li>\n") end
    out:write("</ul>\n")
  end
  out:write("</section>\n")
end

-- A writer of the report to `out` (a file handle) for the given roots. add(link, root)
-- streams one link; finish(summary, unreadable) writes the rest.
function M.writer(out, roots)
  local title = "tether audit: " .. table.concat(roots, ", ")
  out:write(string.format(HEAD, esc(title), esc(title)))
  local first = true
  local w = {}
  local dirs, dir_index, root_index, real, top = {}, {}, {}, {}, {}
  for i, r in ipairs(roots) do
    root_index[r] = i - 1
    real[i] = tether.realpath(r) or json.null
  end
  local windows = path.sep ~= "/"
  function w.add(l, root)
    local p, name = l.path, l.name or l.path
    if p:sub(-#name) ~= name then name = p end
    local dir = p:sub(1, #p - #name)
    local ri = root_index[root] or 0
    top[ri + 1] = top[ri + 1] or walk_top(l)
    local of_root = dir_index[root]
    if not of_root then of_root = {}; dir_index[root] = of_root end
    local di = of_root[dir]
    if not di then
      dirs[#dirs + 1] = { ri, dir }
      di = #dirs - 1
      of_root[dir] = di
    end
    local row = { di, name, l.target or "", l.status, l.status_error or "", flag_letters(l) }
    local r = real[ri + 1]
    if (l.messy or windows or l.depth == 0) and r ~= json.null and (l.target or "") ~= "" then
      row[7] = resolved(l, r)
    end
    local text = json.encode(row)
    if text:find("<", 1, true) then text = text:gsub("<", "\\u003c") end
    out:write(first and "" or ",\n", text)
    first = false
  end
  function w.finish(s, unreadable)
    local meta = {}
    for i, r in ipairs(roots) do meta[i] = { path = r, real = real[i], top = top[i] or r, sep = path.sep } end
    out:write("\n]</script>\n<script type=\"application/json\" id=\"dirs-data\">",
      (json.encode(json.array(dirs)):gsub("<", "\\u003c")), "</script>\n",
      "<script type=\"application/json\" id=\"roots-data\">", (json.encode(meta):gsub("<", "\\u003c")),
      "</script>\n")
    write_summary(out, s, unreadable)
    out:write(TAIL, "</body>\n</html>\n")
  end
  return w
end

-- A report: a list written item by item in one format, then the rest (report.open).
local Report = {}
Report.__index = Report

-- A field of CSV: exact data (RFC 4180 allows any byte inside quotes), but written to a
-- terminal its control characters are escaped (tether.quote, bare) as in the other formats:
-- a name must not drive the terminal that shows it.
local function csv_field(v, tty)
  if v == nil then return "" end
  local s = tostring(v)
  if tty then s = tether.quote(s, true) end
  if s:find('[,"\r\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

-- The tree: only the directories that lead to an item, indented by depth. The names
-- below the root are the last `depth` ones of the path, however the root was spelled
-- ("/", "dir//", "."); an item that is the root itself is its own line.
local function tree_line(r, l, root)
  local out, q = r.out, tether.quote
  if l.depth == 0 then
    out:write(q(l.path), " -> ", q(l.target), " [", l.status, "]\n")
    return
  end
  local names = path.parts(l.path)
  names = { table.unpack(names, #names - l.depth + 1) }
  if r.tree_root ~= root then -- headed by the root as the walk spells its paths
    r.tree_root, r.tree_stack = root, {}
    local top = walk_top(l)
    local sep = top:sub(-1) == "/" or top:sub(-1) == path.sep
    out:write(q(top), sep and "\n" or "/\n")
  end
  local stack = r.tree_stack
  for i = 1, #names - 1 do
    if stack[i] ~= names[i] then
      for j = i, #stack do stack[j] = nil end
      stack[i] = names[i]
      out:write(string.rep("  ", i), q(names[i]), "/\n")
    end
  end
  for j = #names, #stack do stack[j] = nil end
  out:write(string.rep("  ", #names), q(names[#names]), " -> ", q(l.target), " [", l.status, "]\n")
end

-- Each format: start (before the first item), add (one item), finish (the fields after
-- the list and the summary line, text).
local FORMATS = {}

FORMATS.table = {
  start = function() end,
  add = function(r, item) r.out:write(r.spec.line(item), "\n") end,
  finish = function(r, _, text) if text then r.out:write("\n", text, "\n") end end,
}

FORMATS.tree = {
  start = function(r) r.tree_stack = {} end,
  add = tree_line,
  finish = FORMATS.table.finish,
}

-- CSV stays a clean table wherever it goes; its summary line goes to stderr.
FORMATS.csv = {
  start = function(r) r.out:write(table.concat(r.spec.columns, ","), "\n") end,
  add = function(r, item)
    local rec, row = r.spec.record(item), {}
    for i, k in ipairs(r.spec.columns) do row[i] = csv_field(rec[k], r.tty) end
    r.out:write(table.concat(row, ","), "\n")
  end,
  finish = function(_, _, text) if text then io.stderr:write(text, "\n") end end,
}

-- One JSON object (docs/json.md): "recipe", the list, then the other fields in key order.
FORMATS.json = {
  start = function(r)
    r.out:write('{\n  "recipe": ', json.encode(r.spec.recipe), ",\n  ", json.encode(r.spec.list), ": [")
  end,
  add = function(r, item)
    r.out:write(r.count == 0 and "\n    " or ",\n    ", json.encode(r.spec.record(item)))
  end,
  finish = function(r, fields)
    r.out:write(r.count > 0 and "\n  ]" or "]")
    local keys = {}
    for k in pairs(fields) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do r.out:write(",\n  ", json.encode(k), ": ", json.encode(fields[k])) end
    r.out:write("\n}\n")
  end,
}

-- The HTML page has its own summary: fields.summary and fields.unreadable.
FORMATS.html = {
  start = function(r) r.page = M.writer(r.out, r.spec.roots) end,
  add = function(r, item, root) r.page.add(item, root) end,
  finish = function(r, fields) r.page.finish(fields.summary, fields.unreadable) end,
}

M.formats = FORMATS

-- report:add(item [, root]): writes one item (root: the walk's root it was found under,
-- for the tree and the page), or holds it when the report is sorted.
function Report:add(item, root)
  if self.held then
    self.held[#self.held + 1] = { item, root }
    return
  end
  self.format.add(self, item, root)
  self.count = self.count + 1
end

-- report:finish(fields, text): the held items in order, then what comes after the list:
-- JSON's other fields (the page's summary and unreadable), or the summary line `text`
-- (table and tree: after the list; CSV: on stderr; none when nil).
function Report:finish(fields, text)
  local held, order = self.held, self.spec.order
  if held then
    self.held = nil
    table.sort(held, function(a, b) return order(a[1], b[1]) end)
    for _, h in ipairs(held) do self:add(h[1], h[2]) end
  end
  self.format.finish(self, fields, text)
end

-- report:close() -> true (and a warning), or nil, message, errno name, error: the report
-- is complete where it was asked for, or it is not there at all (tether.output).
function Report:close() return self.out:close() end

-- Given up (an error, an interruption): nothing of it is left (tether.output).
function Report:__close() self.out:__close() end

-- report.open(dest, spec) -> a report (add, finish, close; a to-be-closed value), or
-- nil, message, errno name, error. dest: a file, or nil for standard output (tether.output
-- says which files are written in place, replaced whole or refused). spec:
--   format   "table", "csv", "json", "tree" or "html"
--   line     table: item -> its line of text
--   record   csv and json: item -> its fields (a table)
--   columns  csv: the names of the record's fields, in order (the header)
--   recipe, list  json: the "recipe" and the key of the list
--   roots    html: the roots the page is about
--   order    a comparison of two items: they are held, then written in that order
function M.open(dest, spec)
  local format = FORMATS[spec.format]
  if not format then error("report.open: no format '" .. tostring(spec.format) .. "'", 2) end
  local out, err, code, e = output.open(dest)
  if not out then return nil, err, code, e end
  local r = setmetatable({ out = out, spec = spec, format = format, count = 0,
                           held = spec.order and {} or nil,
                           tty = dest == nil and tether.isatty(1) }, Report)
  format.start(r)
  return r
end

return M
