/* The ego network of an actor as an interactive graph (Cytoscape.js), read from the
   REST API's node-link JSON (/api/v1/actors/{id}/ego?depth=k). The same actors are
   listed as links under the graph for keyboard and screen-reader users. */
(function () {
  "use strict";
  var COLORS = { macro: "#6a3d9a", meso: "#1a6ea5", micro: "#c2410c", framework: "#4d7c0f" };
  var EDGE_COLORS = { member_of: "#6b7f99", twinned_with: "#c2410c", partner_of: "#b7791f",
                      located_in: "#9aa3ad", signatory_of: "#4d7c0f", party_to: "#4d7c0f", hosts: "#6a3d9a",
                      funds: "#2b6cb0", participates_in: "#2f855a" };
  var SHAPES = { city: "ellipse", region: "round-rectangle", city_network: "diamond", state: "rectangle",
                 regional_organization: "triangle", international_organization: "triangle",
                 geopolitical_bloc: "triangle", framework: "star" };
  var MAX_NODES = 600;

  var el = document.getElementById("ego-graph");
  if (!el || typeof cytoscape === "undefined") return;
  var ego = el.dataset.ego;
  var summary = document.getElementById("ego-summary");
  var list = document.getElementById("ego-list");
  var depthSel = document.getElementById("ego-depth");
  var typeSel = document.getElementById("ego-type");
  var cy = null, data = null;

  function say(text) { if (summary) summary.textContent = text; }

  function url() {
    var u = new URL(el.dataset.src, window.location.href);
    u.searchParams.set("depth", depthSel ? depthSel.value : "1");
    u.searchParams.set("max_nodes", String(MAX_NODES));
    if (typeSel && typeSel.value) u.searchParams.set("type", typeSel.value); else u.searchParams.delete("type");
    return u.toString();
  }

  function nodeName(n) { return n.label || n.name || n.id; }
  var KIND_ORDER = ["international_organization", "geopolitical_bloc", "state", "regional_organization",
                    "city_network", "region", "city"];
  function kindRank(n) { var i = KIND_ORDER.indexOf(n.kind); return i < 0 ? KIND_ORDER.length : i; }

  function build() {
    var type = typeSel ? typeSel.value : "";
    var nodes = data.nodes || [];
    var edges = (data.edges || data.links || []).filter(function (e) { return !type || e.type === type; });
    var byId = {};
    nodes.forEach(function (n) { byId[n.id] = n; });
    // distance from the ego over the kept ties (breadth-first)
    var adj = {};
    edges.forEach(function (e) {
      (adj[e.source] = adj[e.source] || []).push(e.target);
      (adj[e.target] = adj[e.target] || []).push(e.source);
    });
    var dist = {}; dist[ego] = 0;
    var queue = [ego];
    while (queue.length) {
      var v = queue.shift();
      (adj[v] || []).forEach(function (w) { if (dist[w] === undefined) { dist[w] = dist[v] + 1; queue.push(w); } });
    }
    var degree = {};
    edges.forEach(function (e) { degree[e.source] = (degree[e.source] || 0) + 1; degree[e.target] = (degree[e.target] || 0) + 1; });
    var keep = Object.keys(dist).filter(function (id) { return byId[id]; });
    var total = keep.length;
    // nearest first; on each ring, actors of one kind sit together, in alphabetical order
    keep.sort(function (a, b) {
      return (dist[a] - dist[b]) || (kindRank(byId[a]) - kindRank(byId[b])) ||
             String(nodeName(byId[a])).localeCompare(String(nodeName(byId[b])));
    });
    keep = keep.slice(0, MAX_NODES);
    var kept = {};
    keep.forEach(function (id) { kept[id] = true; });
    var elements = keep.map(function (id) {
      var n = byId[id];
      var layer = n.kind === "framework" ? "framework" : n.layer;
      return { group: "nodes", data: { id: id, label: nodeName(n), kind: n.kind, layer: layer, country: n.country,
               dist: dist[id], degree: degree[id] || 0, color: COLORS[layer] || "#555",
               shape: SHAPES[n.kind] || "hexagon", ego: id === ego ? 1 : 0 } };
    });
    var shownEdges = 0;
    edges.forEach(function (e, i) {
      if (!kept[e.source] || !kept[e.target]) return;
      shownEdges++;
      elements.push({ group: "edges", data: { id: "e" + i, source: e.source, target: e.target, type: e.type,
                      status: e.status, color: EDGE_COLORS[e.type] || "#888" } });
    });
    return { elements: elements, total: total, shown: keep.length, edges: shownEdges, keep: keep, byId: byId,
             dist: dist };
  }

  function render() {
    var g = build();
    if (cy) cy.destroy();
    cy = cytoscape({
      container: el, elements: g.elements, minZoom: 0.05, maxZoom: 4,
      style: [
        { selector: "node", style: {
          "background-color": "data(color)", shape: "data(shape)", width: "mapData(degree, 1, 40, 10, 30)",
          height: "mapData(degree, 1, 40, 10, 30)", label: "data(label)", "font-size": 9, color: "#1b1f24",
          "text-valign": "bottom", "text-margin-y": 2, "min-zoomed-font-size": 7,
          "text-background-color": "#fff", "text-background-opacity": 0.7, "text-background-padding": 1,
          "border-width": 1, "border-color": "#fff" } },
        { selector: "node[ego = 1]", style: { width: 36, height: 36, "border-width": 4, "border-color": "#111",
          "font-size": 13, "font-weight": "bold", "z-index": 10 } },
        { selector: "node:selected", style: { "border-width": 4, "border-color": "#f2a900" } },
        { selector: "edge", style: { width: 1.2, "line-color": "data(color)", opacity: 0.55, "curve-style": "haystack" } },
        { selector: "edge[status = 'ended']", style: { "line-style": "dashed", opacity: 0.35 } },
        { selector: ".faded", style: { opacity: 0.12 } },
        { selector: "edge.hl", style: { opacity: 1, width: 2.5 } }
      ],
      layout: { name: "preset", positions: radial(g), fit: true, padding: 20, animate: false }
    });
    cy.on("tap", "node", function (evt) {
      var n = evt.target;
      cy.elements().addClass("faded");
      n.closedNeighborhood().removeClass("faded");
      n.connectedEdges().addClass("hl");
      say(n.data("label") + " — " + (n.data("kind") || "").replace(/_/g, " ") + ", " + (n.data("layer") || "") +
          " layer, " + n.degree() + " ties in this graph. Double-click to open it.");
    });
    cy.on("tap", function (evt) {
      if (evt.target === cy) { cy.elements().removeClass("faded hl"); sayTotals(g); }
    });
    cy.on("dbltap", "node", function (evt) {
      var id = evt.target.id();
      if (id !== ego && evt.target.data("kind") !== "framework") window.location.href = "/actors/" + encodeURIComponent(id);
    });
    sayTotals(g);
    el.dataset.nodes = g.shown;
    el.dataset.edges = g.edges;
    el.dataset.ready = "true";
    fillList(g);
  }

  /* A radial layout: the ego in the middle, each further step on a wider ring. Ring 1
     is ordered by kind and name; on each outer ring an actor sits at the angle of its
     neighbours on the ring inside (circular mean), so that neighbourhoods stay together,
     and the ring is then spread evenly. */
  function radial(g) {
    var pos = {}, angle = {};
    pos[ego] = { x: 0, y: 0 };
    var rings = [];
    g.keep.forEach(function (id) { var d = g.dist[id]; if (d > 0) (rings[d] = rings[d] || []).push(id); });
    var adj = {};
    g.elements.forEach(function (e) {
      if (e.group !== "edges") return;
      (adj[e.data.source] = adj[e.data.source] || []).push(e.data.target);
      (adj[e.data.target] = adj[e.data.target] || []).push(e.data.source);
    });
    // radii first: an outer ring of many actors is laid in up to 4 bands, and ring 1 is
    // widened so that it is not lost in the middle of a large ring 2
    var radii = [], bands = [];
    for (var d = 1; d < rings.length; d++) {
      var n = (rings[d] || []).length;
      bands[d] = d === 1 ? 1 : Math.min(4, Math.max(1, Math.ceil(n / 150)));
      var need = (n / bands[d]) * (d === 1 ? 22 : 14) / (2 * Math.PI);
      radii[d] = d === 1 ? Math.max(110, need) : Math.max(radii[d - 1] + 120, need);
    }
    if (radii[2]) radii[1] = Math.max(radii[1], 0.45 * radii[2]);
    for (d = 1; d < rings.length; d++) {
      var ring = rings[d] || [];
      if (!ring.length) continue;
      if (d > 1) {
        var want = {};
        ring.forEach(function (id) {
          var sx = 0, sy = 0;
          (adj[id] || []).forEach(function (w) {
            if (g.dist[w] === d - 1 && angle[w] !== undefined) { sx += Math.cos(angle[w]); sy += Math.sin(angle[w]); }
          });
          want[id] = (sx || sy) ? Math.atan2(sy, sx) : 0;
        });
        ring.sort(function (a, b) { return want[a] - want[b]; });
      }
      var start = d > 1 ? -Math.PI : -Math.PI / 2;
      ring.forEach(function (id, i) {
        var a = start + 2 * Math.PI * i / ring.length;
        var r = radii[d] + (i % bands[d]) * 40;
        angle[id] = a;
        pos[id] = { x: r * Math.cos(a), y: r * Math.sin(a) };
      });
    }
    return pos;
  }

  function sayTotals(g) {
    var text = g.shown + " actors and " + g.edges + " ties";
    var all = data.summary && data.summary.nodes;
    if (data.truncated && all) text += " (the " + g.shown + " nearest of " + all.toLocaleString() + ")";
    else if (g.total > g.shown) text += " (the " + g.shown + " nearest of " + g.total + ")";
    say(text + ". Select an actor to highlight its ties.");
  }

  function fillList(g) {
    if (!list) return;
    list.textContent = "";
    g.keep.forEach(function (id) {
      if (id === ego) return;
      var n = g.byId[id];
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = n.kind === "framework" ? "/frameworks/" + encodeURIComponent(id) : "/actors/" + encodeURIComponent(id);
      a.textContent = nodeName(n);
      li.appendChild(a);
      li.appendChild(document.createTextNode(" — " + (n.kind || "").replace(/_/g, " ") + ", " +
                                             (g.dist[id] === 1 ? "1 step" : g.dist[id] + " steps")));
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
      data = json.graph || json;
      render();
    }).catch(function (e) {
      el.dataset.ready = "error";
      say("The ego network could not be loaded: " + e.message);
    });
  }

  if (depthSel) depthSel.addEventListener("change", load);
  if (typeSel) typeSel.addEventListener("change", load);
  var fit = document.getElementById("ego-fit");
  if (fit) fit.addEventListener("click", function () { if (cy) cy.fit(undefined, 20); });
  load();
})();
