// The import page's progress bar: polls the job's status until it is done or failed.
(function () {
  var box = document.getElementById("import-status");
  if (box.dataset.status === "done" || box.dataset.status === "failed") return;
  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
      var bar = document.getElementById("import-progress");
      bar.max = s.rows_total || 1;
      bar.value = s.rows_done;
      document.getElementById("import-phase").textContent = s.status === "failed" ? "Failed" : s.phase_label;
      document.getElementById("import-counts").textContent = s.rows_done + " of " + s.rows_total + " rows read.";
      if (s.status === "done" || s.status === "failed") { window.location.reload(); return; }
      setTimeout(poll, 1000);
    }).catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
