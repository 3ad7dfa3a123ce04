// The export page's progress bar: polls the job until it is done or failed, then reloads.
(function () {
  var box = document.getElementById("export-status");
  if (!box || box.dataset.status === "done" || box.dataset.status === "failed") return;
  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
      var bar = document.getElementById("export-progress");
      if (bar) { bar.max = s.rows_total || 1; bar.value = s.rows_done; }
      var counts = document.getElementById("export-counts");
      if (counts) counts.textContent = s.rows_done + " of " + s.rows_total + " rows written.";
      document.getElementById("export-phase").textContent = s.status_label;
      if (s.status === "done" || s.status === "failed") { window.location.reload(); return; }
      setTimeout(poll, 1000);
    }).catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
