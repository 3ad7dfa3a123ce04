// The geocoding run's progress bar: polls the run's status while it waits or runs, then
// reloads the page so the list of households not on the map is current.
(function () {
  "use strict";
  var box = document.getElementById("geocode-status");
  if (!box || box.dataset.running !== "1") return;
  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var job = data.job;
        if (!job) return;
        document.getElementById("geocode-phase").textContent = job.status_label;
        document.getElementById("geocode-progress").value = job.percent;
        document.getElementById("geocode-counts").textContent =
          job.households_done + " of " + job.households_total + " looked up: " + job.located +
          " located, " + job.not_found + " not found (" + job.from_cache + " from the cache).";
        if (job.status === "done" || job.status === "failed") { window.location.reload(); return; }
        setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 2000);
})();
