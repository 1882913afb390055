/* The ego network of an actor as an SVG drawing of the layout the library computes
   (/api/v1/actors/{id}/ego/layout: citydiplomacy.network.ego.ego_view): positions, group
   nodes ("+85 more cities") and label boxes come from the server, placed so that no two
   labels overlap; this script only draws them, pans and zooms, and opens a group when it
   is selected. The same actors and groups are listed under the drawing for keyboard and
   screen-reader users. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  // Okabe–Ito colours, as the figures (citydiplomacy/reports/figures.py: LAYER_COLOURS) and app.css
  var COLORS = { macro: "#CC79A7", meso: "#0072B2", micro: "#D55E00", framework: "#009E73" };
  var EDGE_COLORS = { member_of: "#6b7f99", twinned_with: "#D55E00", partner_of: "#E69F00",
                      located_in: "#9aa3ad", signatory_of: "#009E73", party_to: "#009E73", hosts: "#CC79A7",
                      funds: "#0072B2", participates_in: "#56B4E9" };
  // DejaVu Sans: ascent and descent in em (the library measures labels in this font)
  var ASCENT = 0.928, DESCENT = 0.236;

  var el = document.getElementById("ego-graph");
  if (!el) return;
  var summary = document.getElementById("ego-summary");
  var list = document.getElementById("ego-list");
  var depthSel = document.getElementById("ego-depth");
  var typeSel = document.getElementById("ego-type");
  var groupSel = document.getElementById("ego-group");
  var resetBtn = document.getElementById("ego-collapse");
  var expand = [];
  var data = null, svg = null, view = null, home = null;

  function say(text) { if (summary) summary.textContent = text; }
  function make(tag, attrs, parent) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmt(n) { return Number(n).toLocaleString("en"); }

  function url() {
    var u = new URL(el.dataset.src, window.location.href);
    u.searchParams.set("depth", depthSel ? depthSel.value : "1");
    u.searchParams.delete("type");
    if (typeSel && typeSel.value) u.searchParams.set("type", typeSel.value);
    u.searchParams.set("group_by", groupSel ? groupSel.value : "auto");
    u.searchParams.delete("expand");
    expand.forEach(function (g) { u.searchParams.append("expand", g); });
    return u.toString();
  }

  function color(n) { return n.kind === "framework" ? COLORS.framework : (COLORS[n.layer] || "#555"); }
  function actorHref(n) {
    return (n.kind === "framework" ? "/frameworks/" : "/actors/") + encodeURIComponent(n.id);
  }

  /* the node's mark: its shape says its kind (circle: city, diamond: network, square:
     state, triangle: organisation or bloc; a group is a dashed ring) */
  function mark(n, parent) {
    var x = n.x, y = n.y, r = n.r, c = color(n);
    var attrs = { fill: c, stroke: "#fff", "stroke-width": 1, class: "ego-mark" };
    if (n.group) {
      return make("circle", { cx: x, cy: y, r: r, fill: "#fff", stroke: n.layer ? c : "#555", "stroke-width": 2,
                              "stroke-dasharray": "3 2", class: "ego-mark group" }, parent);
    }
    if (n.ego) { attrs.stroke = "#111"; attrs["stroke-width"] = 3; }
    var k = n.kind;
    if (k === "city_network") {
      attrs.points = [x, y - r, x + r, y, x, y + r, x - r, y].join(" ");
      return make("polygon", attrs, parent);
    }
    if (k === "state" || k === "region") {
      var s = r * 0.9;
      return make("rect", Object.assign(attrs, { x: x - s, y: y - s, width: 2 * s, height: 2 * s }), parent);
    }
    if (k === "international_organization" || k === "geopolitical_bloc" || k === "regional_organization") {
      attrs.points = [x, y - r, x + r, y + r * 0.8, x - r, y + r * 0.8].join(" ");
      return make("polygon", attrs, parent);
    }
    return make("circle", Object.assign(attrs, { cx: x, cy: y, r: r }), parent);
  }

  function label(n, parent) {
    var b = n.label_box;
    if (!b) return null;
    var f = data.font;
    var x = b.anchor === "start" ? b.x + 1 : b.anchor === "end" ? b.x + b.w - 1 : b.x + b.w / 2;
    var y = b.y + (b.h - (ASCENT + DESCENT) * f) / 2 + ASCENT * f;
    if (b.leader) {
      var tx = Math.max(b.x, Math.min(n.x, b.x + b.w)), ty = Math.max(b.y, Math.min(n.y, b.y + b.h));
      make("line", { x1: n.x, y1: n.y, x2: tx, y2: ty, class: "ego-leader" }, parent);
    }
    var t = make("text", { x: x, y: y, "text-anchor": b.anchor, "font-size": f,
                           class: "ego-label" + (n.ego ? " ego" : "") + (n.group ? " group" : "") }, parent);
    t.textContent = n.label;
    return t;
  }

  function render() {
    el.textContent = "";
    el.classList.toggle("deep", data.depth > 1);     // more rings: a taller drawing
    var b = data.bounds;
    home = { x: b[0], y: b[1], w: b[2] - b[0], h: b[3] - b[1] };
    view = Object.assign({}, home);
    svg = make("svg", { class: "ego-svg", role: "img", "aria-labelledby": "ego-svg-title", focusable: "false" }, el);
    make("title", { id: "ego-svg-title" }, svg).textContent = "Ego network of " + data.ego.name;
    setView();
    var gEdges = make("g", { class: "ego-edges" }, svg);
    var gNodes = make("g", { class: "ego-nodes" }, svg);
    var byId = {}, adj = {};
    data.nodes.forEach(function (n) { byId[n.id] = n; adj[n.id] = []; });
    var lines = [];
    data.edges.forEach(function (e) {
      var s = byId[e.source], t = byId[e.target];
      if (!s || !t) return;
      var main = Object.keys(e.types)[0];
      var types = Object.keys(e.types).map(function (k) { return fmt(e.types[k]) + " " + k.replace(/_/g, " "); });
      var l = make("line", { x1: s.x, y1: s.y, x2: t.x, y2: t.y, stroke: EDGE_COLORS[main] || "#888",
                             "stroke-width": Math.min(6, 1 + Math.log2(e.count)),
                             class: "ego-edge" + (s.ego || t.ego ? "" : " among"),
                             "data-source": e.source, "data-target": e.target }, gEdges);
      make("title", {}, l).textContent = s.name + " — " + t.name + ": " + types.join(", ");
      lines.push(l);
      adj[e.source].push(l);
      adj[e.target].push(l);
    });
    var shownLabels = 0;
    data.nodes.forEach(function (n) {
      var g;
      if (n.group) {
        g = make("g", { class: "ego-node group", tabindex: "0", role: "button", "data-id": n.id,
                        "aria-label": n.name + ": show " + Math.min(30, n.group.count) + " of them" }, gNodes);
        g.addEventListener("click", function () { open(n.id); });
        g.addEventListener("keydown", function (ev) {
          if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); open(n.id); }
        });
      } else {
        g = make("a", { class: "ego-node", href: actorHref(n), "data-id": n.id }, gNodes);
        if (n.ego) g.setAttribute("class", "ego-node ego");
      }
      make("title", {}, g).textContent = n.group
        ? n.name + " (" + n.group.members.slice(0, 8).map(function (m) { return m.name; }).join(", ") +
          (n.group.count > 8 ? ", …" : "") + "). Select to show them."
        : n.name + " — " + (n.kind || "").replace(/_/g, " ") + (n.country ? ", " + n.country : "");
      mark(n, g);
      if (label(n, g)) shownLabels++;
      g.addEventListener("mouseenter", function () { focusOn(n.id); });
      g.addEventListener("focus", function () { focusOn(n.id); });
      g.addEventListener("mouseleave", unfocus);
      g.addEventListener("blur", unfocus);
    });
    function focusOn(id) {
      svg.classList.add("focused");
      lines.forEach(function (l) { l.classList.remove("hl"); });
      adj[id].forEach(function (l) { l.classList.add("hl"); });
    }
    function unfocus() {
      svg.classList.remove("focused");
      lines.forEach(function (l) { l.classList.remove("hl"); });
    }
    panZoom();
    var s = data.summary;
    el.dataset.nodes = data.nodes.length;
    el.dataset.actors = s.actors;
    el.dataset.groups = s.groups;
    el.dataset.labels = shownLabels;
    el.dataset.hiddenLabels = data.hidden_labels;
    el.dataset.ready = "true";
    if (resetBtn) resetBtn.hidden = !expand.length;
    say(fmt(s.actors - 1) + " actors within " + data.depth + (data.depth === 1 ? " step" : " steps") + " (" +
        fmt(s.ties) + " ties): " + fmt(s.shown) + " drawn one by one" +
        (s.groups ? ", " + fmt(s.grouped) + " in " + fmt(s.groups) + (s.groups === 1 ? " group" : " groups") +
                    " (dashed rings: select one to show its actors)" : "") + ".");
    fillList();
  }

  function setView() {
    svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" "));
  }

  function panZoom() {
    var drag = null;
    function scale() { var r = svg.getBoundingClientRect(); return Math.max(view.w / r.width, view.h / r.height); }
    svg.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var r = svg.getBoundingClientRect(), k = ev.deltaY > 0 ? 1.15 : 1 / 1.15, s = scale();
      // the point under the cursor stays put
      var px = view.x + (ev.clientX - r.left - (r.width - view.w / s) / 2) * s;
      var py = view.y + (ev.clientY - r.top - (r.height - view.h / s) / 2) * s;
      var w = Math.min(home.w * 4, Math.max(home.w / 12, view.w * k));
      var f = w / view.w;
      view = { x: px - (px - view.x) * f, y: py - (py - view.y) * f, w: view.w * f, h: view.h * f };
      setView();
    }, { passive: false });
    svg.addEventListener("pointerdown", function (ev) {
      if (ev.target.closest && ev.target.closest(".ego-node")) return;
      drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y, s: scale() };
      svg.setPointerCapture(ev.pointerId);
    });
    svg.addEventListener("pointermove", function (ev) {
      if (!drag) return;
      view.x = drag.vx - (ev.clientX - drag.x) * drag.s;
      view.y = drag.vy - (ev.clientY - drag.y) * drag.s;
      setView();
    });
    svg.addEventListener("pointerup", function () { drag = null; });
  }

  function open(id) {
    expand.push(id);
    load();
  }

  function fillList() {
    if (!list) return;
    list.textContent = "";
    data.nodes.forEach(function (n) {
      if (n.ego) return;
      var li = document.createElement("li");
      if (n.group) {
        li.appendChild(document.createTextNode(n.name + ": " + n.group.members.map(function (m) { return m.name; })
          .join(", ") + (n.group.count > n.group.members.length ? ", …" : "") + " "));
        var btn = document.createElement("button");
        btn.type = "button";
        btn.className = "secondary small";
        btn.textContent = "Show " + Math.min(30, n.group.count) + " of them";
        btn.addEventListener("click", function () { open(n.id); });
        li.appendChild(btn);
      } else {
        var a = document.createElement("a");
        a.href = actorHref(n);
        a.textContent = n.name;
        li.appendChild(a);
        li.appendChild(document.createTextNode(" — " + (n.kind || "").replace(/_/g, " ") + ", " +
                                               (n.dist === 1 ? "1 step" : n.dist + " steps")));
      }
      list.appendChild(li);
    });
  }

  function load() {
    el.dataset.ready = "loading";
    say("Loading the ego network…");
    fetch(url(), { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) return r.json().catch(function () { return {}; }).then(function (p) {
        throw new Error(p.detail || ("HTTP " + r.status));
      });
      return r.json();
    }).then(function (json) {
      data = json;
      render();
    }).catch(function (e) {
      el.dataset.ready = "error";
      say("The ego network could not be loaded: " + e.message);
    });
  }

  function reload() { expand = []; load(); }
  if (depthSel) depthSel.addEventListener("change", reload);
  if (typeSel) typeSel.addEventListener("change", reload);
  if (groupSel) groupSel.addEventListener("change", reload);
  if (resetBtn) resetBtn.addEventListener("click", reload);
  var fit = document.getElementById("ego-fit");
  if (fit) fit.addEventListener("click", function () { if (svg) { view = Object.assign({}, home); setView(); } });
  load();
})();
