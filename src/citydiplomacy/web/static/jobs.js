/* The jobs' pages follow their jobs by themselves: while a part of the page carries
   data-poll (a job queued or running), it is fetched again from the server every two
   seconds (the server renders it: the same words and buttons as a reload) and put in
   place; polling stops when the part comes back without data-poll (every job finished).
   Without JavaScript, a <noscript> refresh reloads the page instead. */
(function () {
  "use strict";
  var EVERY = 2000;

  function follow(id) {
    var part = document.getElementById(id);
    if (!part || !part.getAttribute("data-poll") || !window.fetch) return;
    var timer = null;
    function tick() {
      var current = document.getElementById(id);
      var url = current && current.getAttribute("data-poll");
      if (!url) return;
      fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}, cache: "no-store"})
        .then(function (r) {
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.text();
        })
        .then(function (html) {
          var box = document.createElement("div");
          box.innerHTML = html;
          var fresh = box.querySelector("#" + id);
          var now = document.getElementById(id);
          if (fresh && now) now.replaceWith(fresh);
          if (fresh && fresh.getAttribute("data-poll")) timer = setTimeout(tick, EVERY);
          else document.dispatchEvent(new CustomEvent("citydip:job-final"));
        })
        .catch(function () { timer = setTimeout(tick, EVERY * 2); });   // a hiccup: try again, more slowly
    }
    timer = setTimeout(tick, EVERY);
  }

  follow("job-status");
  follow("jobs-table");
})();
