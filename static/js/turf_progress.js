// Live turf progress on the organizer dashboard: polls the progress endpoint and
// updates the rows in place. The page is complete without it; this only keeps it fresh.
(function () {
  "use strict";

  function start() {
    var table = document.getElementById("turf-table");
    if (!table) return;
    var rows = table.querySelectorAll("tr[data-turf-id]");
    if (!rows.length) return;
    var ids = Array.prototype.map.call(rows, function (row) { return row.dataset.turfId; });
    var url = table.dataset.progressUrl + "?ids=" + ids.join(",");
    var interval = parseInt(table.dataset.interval, 10) || 15000;
    var note = document.getElementById("progress-updated");

    function apply(turf) {
      var row = table.querySelector('tr[data-turf-id="' + turf.id + '"]');
      if (!row) return;
      var bar = row.querySelector("[data-field=knocked] progress");
      if (bar) { bar.max = Math.max(turf.doors, 1); bar.value = turf.knocked; }
      var text = row.querySelector("[data-field=knocked] .progress-text");
      if (text) text.textContent = turf.knocked + " / " + turf.doors;
      row.querySelector("[data-field=doors]").textContent = turf.doors;
      row.querySelector("[data-field=conversations]").textContent = turf.conversations;
      var status = row.querySelector("[data-field=status] .status");
      if (status) {
        status.textContent = turf.status_label;
        status.className = "status status-" + turf.status;
      }
    }

    function poll() {
      // Skip while the tab is hidden; a dashboard left open all day should not poll all day.
      if (document.hidden) return;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          data.turfs.forEach(apply);
          if (note) note.textContent = "Updated " + new Date(data.updated_at).toLocaleTimeString();
        })
        .catch(function () {
          if (note) note.textContent = "Could not refresh progress; will try again.";
        });
    }

    setInterval(poll, interval);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
