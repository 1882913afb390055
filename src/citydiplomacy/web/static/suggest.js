/* Suggestions for actor fields: as a person types a name, the closest actors are offered
   (from the search API) in the field's <datalist>, as "id" with the name shown. */
(function () {
  "use strict";
  var list = document.getElementById("actor-suggestions");
  if (!list || !window.fetch) return;
  var timer = null;
  function suggest(input) {
    var q = input.value.trim();
    if (q.length < 2 || /^[a-z0-9-]+$/.test(q) && q.indexOf("-") > 0) return;
    fetch("/api/v1/search?limit=8&q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (data) {
        var items = data.items || data.results || (Array.isArray(data) ? data : []);
        list.textContent = "";
        items.forEach(function (a) {
          var o = document.createElement("option");
          o.value = a.id;
          o.label = a.name + (a.country ? " (" + a.country + ")" : "") + " — " + (a.kind || "").replace(/_/g, " ");
          list.appendChild(o);
        });
      }).catch(function () {});
  }
  document.querySelectorAll('input[list="actor-suggestions"]').forEach(function (input) {
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { suggest(input); }, 200); });
  });
})();
