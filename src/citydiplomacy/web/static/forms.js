/* After a form comes back with problems, move the focus to the list of problems so that
   keyboard and screen-reader users land on it (each item links to its field). */
(function () {
  "use strict";
  var box = document.getElementById("form-errors");
  if (box) box.focus();
})();
