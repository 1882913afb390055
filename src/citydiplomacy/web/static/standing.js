/* An actor's standing in the whole network (centrality ranks, brokerage between layers,
   reach to the macro layer), from /api/v1/actors/{id}/profile?network=true. It is
   computed on the store's graph, so it is fetched after the page has loaded. */
(function () {
  "use strict";
  var box = document.getElementById("standing");
  if (!box || !window.fetch) return;
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text != null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function n(v) { return Number(v).toLocaleString("en"); }
  fetch(box.dataset.src, { headers: { Accept: "application/json" } }).then(function (r) {
    if (!r.ok) throw new Error("HTTP " + r.status);
    return r.json();
  }).then(function (p) {
    var net = p.network;
    var body = box.querySelector(".standing-body");
    body.textContent = "";
    if (!net) { body.appendChild(el("p", "No network measures for this actor.", "muted")); return; }
    var dl = el("dl", null, "facts");
    function row(term, value) { dl.appendChild(el("dt", term)); dl.appendChild(el("dd", value)); }
    row("Compared with", net.among);
    if (net.degree) row("Ties (degree)", n(net.degree.value) + " — rank " + n(net.degree.rank));
    if (net.pagerank) row("PageRank", net.pagerank.value.toExponential(2) + " — rank " + n(net.pagerank.rank));
    if (net.vertical_integration) {
      var vi = net.vertical_integration;
      row("Vertical integration", vi.value.toFixed(3) + " — rank " + n(vi.rank) + " of " + n(vi.of));
    }
    var b = net.brokerage || {};
    var roles = Object.keys(b).filter(function (k) { return k !== "total" && b[k]; });
    row("Brokerage between layers", roles.length ? roles.map(function (k) { return k + " " + n(b[k]); }).join(", ")
                                                 : "none");
    if (net.reach) row("Macro-layer actors within 3 steps", n(net.reach.macro_actors_within_3));
    body.appendChild(dl);
    var nearest = (net.reach && net.reach.nearest) || [];
    if (nearest.length) {
      body.appendChild(el("h3", "Nearest global institutions"));
      var ul = el("ul", null, "small");
      nearest.forEach(function (r) { ul.appendChild(el("li", (r.path || []).join(" → ") || r.name)); });
      body.appendChild(ul);
    }
    box.dataset.ready = "true";
  }).catch(function (e) {
    box.dataset.ready = "error";
    box.querySelector(".standing-body").textContent = "The network measures could not be loaded (" + e.message + ").";
  });
})();
