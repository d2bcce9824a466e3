// The scenario report's script: filters the request log by device and status, takes a click on
// a request's mark in the timeline to its row, and marks <body data-ready="yes"> once it has
// run (a headless browser test waits for that). Plain ES2015, no library, nothing fetched.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("#requests tbody tr"));
  var byDevice = document.getElementById("filter-device");
  var byStatus = document.getElementById("filter-status");
  var count = document.getElementById("filter-count");

  function distinct(attr, numeric) {
    var seen = {};
    var out = [];
    rows.forEach(function (r) {
      var v = r.getAttribute(attr);
      if (!Object.prototype.hasOwnProperty.call(seen, v)) {
        seen[v] = true;
        out.push(v);
      }
    });
    return numeric ? out.sort(function (a, b) { return a - b; }) : out;
  }

  function fill(select, values) {
    values.forEach(function (v) {
      var o = document.createElement("option");
      o.value = v;
      o.textContent = v;
      select.appendChild(o);
    });
  }

  function apply() {
    var d = byDevice.value;
    var s = byStatus.value;
    var shown = 0;
    rows.forEach(function (r) {
      var ok = (d === "" || r.getAttribute("data-device") === d) &&
        (s === "" || r.getAttribute("data-status") === s);
      r.classList.toggle("hidden", !ok);
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + rows.length + " requests";
  }

  fill(byDevice, distinct("data-device", false));
  fill(byStatus, distinct("data-status", true));
  byDevice.addEventListener("change", apply);
  byStatus.addEventListener("change", apply);
  apply();

  var timeline = document.getElementById("timeline");
  timeline.addEventListener("click", function (ev) {
    var mark = ev.target.closest ? ev.target.closest(".req") : null;
    if (!mark) { return; }
    var row = document.getElementById("req-" + mark.getAttribute("data-index"));
    if (!row) { return; }
    byDevice.value = "";
    byStatus.value = "";
    apply();
    rows.forEach(function (r) { r.classList.remove("picked"); });
    row.classList.add("picked");
    row.scrollIntoView({ block: "center" });
  });

  document.body.setAttribute("data-ready", "yes");
})();
