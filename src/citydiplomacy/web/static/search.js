/* Instant search: results are fetched as you type (an HTML fragment of /search) and
   replace the list; the URL follows, so a result page can be shared or reloaded.
   Without JavaScript the form still submits normally. */
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  var box = document.getElementById("results");
  if (!form || !box || !window.fetch) return;
  var timer = null, seq = 0;
  function update() {
    var params = new URLSearchParams(new FormData(form));
    var q = (params.get("q") || "").trim();
    var mine = ++seq;
    history.replaceState(null, "", "/search" + (q ? "?" + params.toString() : ""));
    if (!q) { box.innerHTML = '<p class="muted">Type a name to search cities, city networks, states and organisations.</p>'; return; }
    box.setAttribute("aria-busy", "true");
    fetch("/search?" + params.toString(), { headers: { "X-Fragment": "results" } })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        if (mine !== seq) return;            // a newer query has been typed meanwhile
        box.innerHTML = html;
        box.setAttribute("aria-busy", "false");
      })
      .catch(function () { box.setAttribute("aria-busy", "false"); });
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 150); });
  form.addEventListener("change", function () { clearTimeout(timer); update(); });
  form.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown" && e.target.id === "q") {
      var first = box.querySelector("a.title");
      if (first) { e.preventDefault(); first.focus(); }
    }
  });
})();
