-- The audit's HTML report: one self-contained file (no network, no script, style or font
-- from elsewhere). The summary is plain HTML; the links are JSON inside the page, which
-- its own script turns into a sortable, filterable table and a collapsible tree of the
-- directories that hold problems. Written as the walk goes: rows are streamed, the
-- summary comes last in the file and is shown first by the style sheet.
local tether = require "tether"
local json = require "tether.json"
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
#summary { order: 1; } #controls { order: 2; } #links-view { order: 3; } #tree-view { order: 4; } #errors { order: 5; color: #b00; }
table { border-collapse: collapse; }
#summary table { margin: 0 2em 1em 0; display: inline-table; vertical-align: top; }
#summary td, #summary th { padding: .15em .6em; text-align: left; }
#summary td.n { text-align: right; font-variant-numeric: tabular-nums; }
#controls { margin: .5em 0; display: flex; gap: 1em; align-items: center; flex-wrap: wrap; }
#links { width: 100%%; font-family: ui-monospace, monospace; font-size: 12.5px; }
#links th { position: sticky; top: 0; background: #eee; cursor: pointer; text-align: left; padding: .3em .5em; user-select: none; }
#links th[aria-sort=ascending]::after { content: " \25B2"; } #links th[aria-sort=descending]::after { content: " \25BC"; }
#links td { padding: .1em .5em; border-bottom: 1px solid #eee; word-break: break-all; vertical-align: top; }
#links td.status, #links td.nw { white-space: nowrap; word-break: normal; }
tr.broken td.status, tr.loop td.status { color: #b00; font-weight: bold; }
tr.denied td.status, tr.error td.status { color: #a60; font-weight: bold; } tr.ok td.status { color: #070; }
details { margin-left: 1.2em; } summary { cursor: pointer; font-family: ui-monospace, monospace; }
.count { color: #666; } .leaf { margin-left: 2.4em; font-family: ui-monospace, monospace; }
button { font: inherit; }
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

-- The page's script: reads the JSON, renders the table (a first batch, then the rest on
-- request, so that a large report opens at once) and the problem tree; the address's
-- fragment (#status=broken&q=text&sort=path) sets the filter, so a view can be linked.
local TAIL = [==[
<section id="controls">
<label>Status <select id="status">
<option value="all">all</option><option value="problems">problems (not ok)</option>
<option value="broken">broken</option><option value="loop">loop</option>
<option value="denied">denied</option><option value="error">error</option><option value="ok">ok</option>
</select></label>
<label>Path or target contains <input id="q" type="search" size="30"></label>
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
  var PAGE = 2000;
  var FLAGS = { a: "absolute", r: "relative", x: "cross-fs", e: "escapes", m: "messy", j: "junction" };
  var ORDER = { broken: 1, loop: 2, denied: 3, error: 4, ok: 5 };
  var rows = JSON.parse(document.getElementById("links-data").textContent);
  var dirs = JSON.parse(document.getElementById("dirs-data").textContent);
  var roots = JSON.parse(document.getElementById("roots-data").textContent);
  /* Each row: [directory, name, stored target, status, errno, flags, resolved?]. Where a
   * link resolves to is written out only where the names cannot tell (a target spelled
   * with ".." after a name, a link given as a root, Windows); otherwise it is the link's
   * real directory joined with the target, in normal form. */
  function normal(p) {
    var out = [];
    p.split("/").forEach(function (part) {
      if (part === "..") out.pop();
      else if (part !== "" && part !== ".") out.push(part);
    });
    return "/" + out.join("/");
  }
  rows.forEach(function (r) {
    var d = dirs[r[0]], path = d[1] + r[1];
    if (r.length < 7) {
      var root = roots[d[0]], t = r[2];
      r[6] = root.real === null || t === "" ? "" :
        normal(t[0] === "/" ? t : root.real + "/" + d[1].slice(root.path.length) + "/" + t);
    }
    r.splice(0, 2, path);
  });
  var st = { status: "all", q: "", col: 0, dir: 1, limit: PAGE };
  var $ = function (id) { return document.getElementById(id); };
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
  function wanted(r) {
    if (st.status === "problems" ? r[2] === "ok" : st.status !== "all" && r[2] !== st.status) return false;
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
    var ths = document.querySelectorAll("#links th");
    for (var j = 0; j < ths.length; j++)
      ths[j].setAttribute("aria-sort", +ths[j].dataset.col === st.col ? (st.dir > 0 ? "ascending" : "descending") : "none");
    var h = "status=" + encodeURIComponent(st.status) + (st.q ? "&q=" + encodeURIComponent(st.q) : "") +
      "&sort=" + st.col + (st.dir < 0 ? "-" : "");
    if (location.hash.slice(1) !== h) history.replaceState(null, "", "#" + h);
  }
  function fromHash() {
    var p = {};
    location.hash.slice(1).split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i > 0) p[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1));
    });
    var names = ["path", "target", "status", "errno", "flags", "resolved"];
    st.status = p.status || "all";
    st.q = p.q || "";
    if (p.sort) {
      var col = names.indexOf(p.sort.replace(/-$/, ""));
      st.col = col >= 0 ? col : Math.max(0, Math.min(5, parseInt(p.sort, 10) || 0));
      st.dir = /-$/.test(p.sort) ? -1 : 1;
    }
    $("status").value = st.status;
    $("q").value = st.q;
  }
  /* The tree of directories with problems: each level is built when it is opened, so a
   * report with thousands of problems opens at once. */
  function tree() {
    var root = { dirs: {}, links: [], n: 0 };
    rows.forEach(function (r) {
      if (r[2] === "ok") return;
      var parts = r[0].split("/"), node = root;
      root.n++;
      for (var i = 0; i < parts.length - 1; i++) {
        var name = parts[i] === "" ? "/" : parts[i];
        node = node.dirs[name] || (node.dirs[name] = { dirs: {}, links: [], n: 0 });
        node.n++;
      }
      node.links.push(r);
    });
    var nodes = [];
    function level(node, depth) {
      var out = [];
      Object.keys(node.dirs).sort().forEach(function (name) {
        var d = node.dirs[name];
        nodes.push(d);
        d.depth = depth;
        out.push("<details data-node=\"" + (nodes.length - 1) + "\"" + (depth < 2 ? " open" : "") + "><summary>" +
          esc(name) + '/ <span class="count">(' + d.n + ")</span></summary>" + (depth < 2 ? level(d, depth + 1) : "") +
          "</details>");
        d.built = depth < 2;
      });
      node.links.forEach(function (r) {
        out.push('<div class="leaf ' + r[2] + '">' + esc(r[0].split("/").pop()) + " &rarr; " + esc(r[1]) +
          " [" + r[2] + "]</div>");
      });
      return out.join("");
    }
    $("tree").innerHTML = root.n ? level(root, 0) : "<p>No problems found.</p>";
    $("tree").addEventListener("toggle", function (ev) {
      var d = nodes[ev.target.dataset.node];
      if (!d || d.built || !ev.target.open) return;
      d.built = true;
      ev.target.insertAdjacentHTML("beforeend", level(d, d.depth + 1));
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
  document.querySelector("#links thead").addEventListener("click", function (ev) {
    var col = ev.target.dataset && ev.target.dataset.col;
    if (col === undefined) return;
    st.dir = +col === st.col ? -st.dir : 1;
    st.col = +col;
    render();
  });
  window.addEventListener("hashchange", function () { fromHash(); render(); });
  fromHash();
  render();
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

-- A writer of the report to `out` (a file handle) for the given roots. add(link, root)
-- streams one link; finish(summary, unreadable) writes the rest.
function M.writer(out, roots)
  local title = "tether audit: " .. table.concat(roots, ", ")
  out:write(string.format(HEAD, esc(title), esc(title)))
  local first = true
  local w = {}
  local dirs, dir_index, root_index, real = {}, {}, {}, {}
  for i, r in ipairs(roots) do
    root_index[r] = i - 1
    real[i] = tether.realpath(r) or json.null
  end
  local windows = path.sep ~= "/"
  function w.add(l, root)
    local p, name = l.path, l.name or l.path
    if p:sub(-#name) ~= name then name = p end
    local dir = p:sub(1, #p - #name)
    local of_root = dir_index[root]
    if not of_root then of_root = {}; dir_index[root] = of_root end
    local di = of_root[dir]
    if not di then
      dirs[#dirs + 1] = { root_index[root] or 0, dir }
      di = #dirs - 1
      of_root[dir] = di
    end
    local row = { di, name, l.target or "", l.status, l.status_error or "", flag_letters(l) }
    local r = real[(root_index[root] or 0) + 1]
    if (l.messy or windows or p == root) and r ~= json.null and (l.target or "") ~= "" then
      -- Where the names cannot tell: the kernel's way (through any link) to the parent.
      local t = l.target
      local base = r .. "/" .. (p:sub(#root + 1):match("^(.*)[/\\][^/\\]*$") or "")
      if p == root then base = tether.realpath(path.dirname(p)) or base end
      local parent = tether.realpath(path.join(base, path.dirname(t)))
      row[7] = parent and path.join(parent, path.basename(t)) or tether.absolute(path.join(base, t))
    end
    local text = json.encode(row)
    if text:find("<", 1, true) then text = text:gsub("<", "\\u003c") end
    out:write(first and "" or ",\n", text)
    first = false
  end
  function w.finish(s, unreadable)
    local meta = {}
    for i, r in ipairs(roots) do meta[i] = { path = r, real = real[i] } end
    out:write("\n]</script>\n<script type=\"application/json\" id=\"dirs-data\">",
      (json.encode(json.array(dirs)):gsub("<", "\\u003c")), "</script>\n",
      "<script type=\"application/json\" id=\"roots-data\">", (json.encode(meta):gsub("<", "\\u003c")),
      "</script>\n<section id=\"summary\">\n<p>", esc(string.format(
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
    out:write("</section>\n", TAIL, "</body>\n</html>\n")
  end
  return w
end

return M
