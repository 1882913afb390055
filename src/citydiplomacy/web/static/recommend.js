/* The "Recommended for this city" card of an actor page: partner cities with their reasons,
   from /api/v1/recommend/partners/{id}?top=5 — fetched after the page has loaded when the
   models are made (data-auto), else when the visitor asks (a fit takes about a minute). */
(function () {
  "use strict";
  var box = document.getElementById("recommended");
  if (!box || !window.fetch) return;
  var body = box.querySelector(".recommended-body");
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text != null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function load() {
  body.textContent = "Finding partners…";
  fetch(box.dataset.src, { headers: { Accept: "application/json" } }).then(function (r) {
    if (!r.ok) throw new Error("HTTP " + r.status);
    return r.json();
  }).then(function (data) {
    body.textContent = "";
    if (data.message) body.appendChild(el("p", data.message, "notice info"));
    var ol = el("ol", null, "recommendations");
    (data.results || []).forEach(function (x) {
      var li = el("li");
      var a = el("a", x.name);
      a.href = "/actors/" + encodeURIComponent(x.id);
      li.appendChild(a);
      if (x.country) li.appendChild(document.createTextNode(" (" + x.country + ")"));
      li.appendChild(el("div", x.why, "small"));
      ol.appendChild(li);
    });
    body.appendChild(ol);
    body.appendChild(el("p", "Method: " + data.method + ".", "small muted"));
    box.dataset.ready = "true";
  }).catch(function (e) {
    box.dataset.ready = "error";
    body.textContent = "The recommendations could not be loaded (" + e.message + ").";
  });
  }
  if (box.dataset.auto === "true") { load(); return; }
  var button = box.querySelector(".recommend-load");
  if (button) button.addEventListener("click", load);
})();
