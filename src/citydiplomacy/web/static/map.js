/* World maps without a tile server: Natural Earth country outlines (shipped TopoJSON)
   drawn as a GeoJSON layer, actors as dots and ties as lines on top (Leaflet, canvas). */
(function () {
  "use strict";
  // Okabe–Ito colours, as the figures (citydiplomacy/reports/figures.py: LAYER_COLOURS) and app.css
  var LAYER_COLORS = { macro: "#CC79A7", meso: "#0072B2", micro: "#D55E00" };
  var outlines = null;

  function loadOutlines(url) {
    if (!outlines) {
      outlines = fetch(url).then(function (r) {
        if (!r.ok) throw new Error("outlines " + r.status);
        return r.json();
      }).then(function (topo) {
        var geo = topojson.feature(topo, topo.objects.countries);
        // Antarctica (010) only adds a band at the bottom; rings crossing the antimeridian
        // (Russia, Fiji) are made continuous so that no line runs across the whole map
        geo.features = geo.features.filter(function (f) { return f.id !== "010"; });
        geo.features.forEach(function (f) { unwrap(f.geometry); });
        return geo;
      });
    }
    return outlines;
  }

  function unwrapRing(ring) {
    for (var i = 1; i < ring.length; i++) {
      var d = ring[i][0] - ring[i - 1][0];
      if (d > 180) ring[i][0] -= 360; else if (d < -180) ring[i][0] += 360;
    }
  }
  function unwrap(g) {
    if (!g) return;
    if (g.type === "Polygon") g.coordinates.forEach(unwrapRing);
    else if (g.type === "MultiPolygon") g.coordinates.forEach(function (p) { p.forEach(unwrapRing); });
  }

  function escapeHtml(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function baseMap(el) {
    var map = L.map(el, {
      preferCanvas: true, minZoom: 1, maxZoom: 9, zoomSnap: 0.25, worldCopyJump: false,
      maxBounds: [[-85, -200], [85, 200]], maxBoundsViscosity: 0.8, attributionControl: true
    });
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Outlines: Natural Earth (public domain)");
    map.fitBounds([[-50, -165], [72, 178]]);
    return map;
  }

  function shade(n, max) {
    if (!n) return "#f7f4ec";
    var t = Math.log(1 + n) / Math.log(1 + max);           // 0..1
    var a = [247, 236, 214], b = [196, 120, 64];
    var c = a.map(function (v, i) { return Math.round(v + (b[i] - v) * t); });
    return "rgb(" + c.join(",") + ")";
  }

  function drawCountries(map, el, counts, highlight) {
    return loadOutlines(el.dataset.outlines).then(function (geo) {
      var max = 1;
      if (counts) Object.keys(counts).forEach(function (k) { max = Math.max(max, counts[k].ties || 0); });
      var layer = L.geoJSON(geo, {
        interactive: !!counts,
        style: function (f) {
          var c = counts && counts[f.id];
          var hi = highlight && highlight.indexOf(f.id) >= 0;
          return { color: hi ? "#8a6d3b" : "#a39b87", weight: hi ? 0.9 : 0.6, fillOpacity: 1,
                   fillColor: hi ? "#ecc17a" : shade(c ? c.ties : 0, max) };
        },
        onEachFeature: function (f, lyr) {
          if (!counts) return;
          var c = counts[f.id];
          lyr.bindTooltip(escapeHtml(f.properties.name) + (c ? ": " + c.ties.toLocaleString() + " ties" : ""),
                          { sticky: true });
        }
      }).addTo(map);
      layer.bringToBack();
      return layer;
    });
  }

  function addFeatures(map, data, opts) {
    opts = opts || {};
    var lines = [], points = [];
    (data.features || []).forEach(function (f) {
      if (!f.geometry) return;
      if (f.geometry.type === "LineString") lines.push(f); else if (f.geometry.type === "Point") points.push(f);
    });
    var lineLayer = L.layerGroup().addTo(map);
    lines.forEach(function (f) {
      var c = f.geometry.coordinates;
      var p = f.properties || {};
      var l = L.polyline([[c[0][1], c[0][0]], [c[1][1], c[1][0]]], {
        color: p.status === "ended" ? "#9aa3ad" : p.status === "suspended" ? "#D55E00" : (opts.lineColor || "#0072B2"),
        weight: opts.lineWeight || 1, opacity: opts.lineOpacity || 0.35,
        dashArray: (p.status === "ended" || p.status === "suspended") ? "4 4" : null, interactive: !!opts.lineTips
      });
      if (opts.lineTips && p.type) l.bindTooltip(escapeHtml((p.type || "").replace(/_/g, " ")
        + (p.status && p.status !== "active" ? " — " + p.status + (p.suspended_since ? " since " + p.suspended_since : "") : "")), { sticky: true });
      l.addTo(lineLayer);
    });
    var bounds = [];
    points.sort(function (a, b) { return ((b.properties || {}).ties || 0) - ((a.properties || {}).ties || 0); });
    points.forEach(function (f) {
      var p = f.properties || {};
      var c = f.geometry.coordinates;
      var ego = opts.ego && (p.id === opts.ego || f.id === opts.ego);
      var r = ego ? 8 : (p.ties ? Math.min(14, 2 + Math.sqrt(p.ties) * 0.7) : 4);
      var marker = L.circleMarker([c[1], c[0]], {
        radius: r, color: ego ? "#111" : "#fff", weight: ego ? 2.5 : 0.8,
        fillColor: LAYER_COLORS[p.layer] || "#D55E00", fillOpacity: ego ? 1 : 0.85
      });
      var id = p.id || f.id;
      var label = escapeHtml(p.name || id) + (p.country ? " (" + escapeHtml(p.country) + ")" : "") +
                  (p.ties ? " · " + p.ties + " ties" : "");
      marker.bindTooltip(label);
      if (id) marker.on("click", function () { window.location.href = "/actors/" + encodeURIComponent(id); });
      marker.addTo(map);
      bounds.push([c[1], c[0]]);
    });
    return { points: points.length, lines: lines.length, bounds: bounds };
  }

  function status(el, text) {
    var note = el.parentNode.querySelector(".map-status");
    if (!note) {
      note = document.createElement("p");
      note.className = "map-status small muted";
      note.setAttribute("role", "status");
      el.parentNode.insertBefore(note, el.nextSibling);
    }
    note.textContent = text;
  }

  /* the overview's compact JSON (see pages.map_overview) as GeoJSON features */
  function compactToGeo(data) {
    var a = data.actors || [];
    var features = a.map(function (r) {
      return { type: "Feature", geometry: { type: "Point", coordinates: [r[2], r[3]] },
               properties: { id: r[0], name: r[1], ties: r[4], country: r[5], layer: r[6] } };
    });
    (data.ties || []).forEach(function (t) {
      var s = a[t[0]], e = a[t[1]];
      features.push({ type: "Feature", geometry: { type: "LineString", coordinates: [[s[2], s[3]], [e[2], e[3]]] },
                      properties: { type: (data.types || [])[t[2]] } });
    });
    return { type: "FeatureCollection", features: features };
  }

  function overview(el) {
    var map = baseMap(el);
    fetch(el.dataset.src).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (data) {
      var counts = {};
      Object.keys(data.countries || {}).forEach(function (k) { counts[k] = { ties: data.countries[k] }; });
      return drawCountries(map, el, counts).then(function () {
        var n = addFeatures(map, compactToGeo(data), { lineOpacity: 0.22 });
        el.dataset.points = n.points;
        el.dataset.lines = n.lines;
        el.dataset.ready = "true";
        status(el, "Showing " + n.points + " actors and " + n.lines + " ties.");
      });
    }).catch(function (e) {
      drawCountries(map, el, null);
      el.dataset.ready = "error";
      status(el, "The map data could not be loaded (" + e.message + "). Reload the page to try again.");
    });
    return map;
  }

  /* the bounds of a country's largest polygon (France without French Guiana), to frame a map */
  function mainland(g) {
    var polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
    var best = null;
    polys.forEach(function (p) { if (!best || p[0].length > best[0].length) best = p; });
    if (!best) return null;
    return L.latLngBounds(best[0].map(function (c) { return [c[1], c[0]]; }));
  }

  function plural(n, one, many) { return n.toLocaleString() + " " + (n === 1 ? one : many); }

  /* The caption of an actor's map, from what the map shows: the dots and lines drawn
     (counted as they are added), the ties left out and the countries shaded. */
  function actorCaption(data, drawn, shaded) {
    var a = data.actor || {};
    var name = a.name || "This actor";
    var parts = [];
    if (drawn.lines) {
      parts.push(plural(drawn.points, "place", "places") + " and " + plural(drawn.lines, "tie", "ties") +
                 " drawn (the ties with a location at both ends).");
    } else if (drawn.points) {
      var others = drawn.points - (a.located ? 1 : 0);
      parts.push(a.located
        ? name + " is drawn, and " + plural(others, "place", "places") + " it is tied to."
        : plural(drawn.points, "place", "places") + " " + name + " is tied to, drawn as " +
          (drawn.points === 1 ? "a dot; " : "dots; ") + name +
          " has no location of its own, so no lines are drawn.");
    } else {
      parts.push("None of the places " + name + " is tied to has a location" +
                 (a.located ? "; only " + name + " itself is drawn." : "."));
    }
    var unplaced = (data.ties || 0) - (data.placed || 0);
    if (unplaced > 0) parts.push(plural(unplaced, "tie leads", "ties lead") +
                                 " to actors without a location (states, organisations, networks): not drawn.");
    if (shaded) parts.push("Shaded: " + (data.shade.what || "countries") + " (" + shaded + ").");
    return parts.join(" ");
  }

  function actorMap(el) {
    var map = baseMap(el);
    var ego = el.dataset.ego;
    var data = null, shadedBounds = null;
    fetch(el.dataset.src).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (json) {
      data = json;
      var hl = (data.shade && data.shade.numeric) || [];
      return drawCountries(map, el, null, hl).then(function (layer) {
        var shaded = 0;
        shadedBounds = null;
        layer.eachLayer(function (l) {
          if (!l.feature || hl.indexOf(l.feature.id) < 0) return;
          shaded++;
          var b = mainland(l.feature.geometry);
          if (b) shadedBounds = shadedBounds ? shadedBounds.extend(b) : b;
        });
        return shaded;
      });
    }).then(function (shaded) {
      var n = addFeatures(map, data, { ego: ego, lineOpacity: 0.7, lineWeight: 1.6, lineTips: true,
                                        lineColor: "#0072B2" });
      // a bloc or a state without located ties is framed on the countries it shades
      if (n.bounds.length <= 1 && shadedBounds) map.fitBounds(shadedBounds, { padding: [10, 10], maxZoom: 5 });
      else if (n.bounds.length > 1) map.fitBounds(n.bounds, { padding: [20, 20], maxZoom: 5 });
      else if (n.bounds.length === 1) map.setView(n.bounds[0], 4);
      el.dataset.points = n.points;
      el.dataset.lines = n.lines;
      el.dataset.shaded = shaded;
      el.dataset.ready = "true";
      status(el, actorCaption(data, n, shaded));
    }).catch(function (e) {
      if (!data) drawCountries(map, el, null);
      el.dataset.ready = "error";
      status(el, "The map data could not be loaded (" + e.message + ").");
    });
    return map;
  }

  function init() {
    if (typeof L === "undefined") return;
    var o = document.getElementById("overview-map");
    if (o) overview(o);
    var a = document.getElementById("actor-map");
    if (a) actorMap(a);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
