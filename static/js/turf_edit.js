// Editing turf by hand on the organizer's map (the server does the work: turf/editing.py).
// Doors are picked by drawing an outline (Leaflet.draw, from django-leaflet) or by
// clicking them; the server says what the pick holds, then makes a turf of it or moves
// it. Turfs are split and merged from the table under the map. A turf already handed out
// answers 409 with a question, asked with confirm() before the edit is sent again.
(function () {
  "use strict";

  var PICKED = { radius: 6, weight: 3, color: "#111111", fillColor: "#ffd400", fillOpacity: 1 };

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return key in values ? String(values[key]) : all;
    });
  }

  function jsonFrom(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function start() {
    var panel = document.getElementById("turf-edit");
    var mapEl = document.getElementById("turf-map");
    if (!panel || !mapEl || !mapEl.turfMap || typeof L === "undefined" || !L.Control.Draw) return;
    var api = mapEl.turfMap;
    var map = api.map;
    var strings = jsonFrom("edit-strings") || {};
    var turfs = jsonFrom("edit-turfs-data") || [];
    var csrf = panel.querySelector("#edit-csrf input[name=csrfmiddlewaretoken]").value;

    var pickText = document.getElementById("edit-pick");
    var message = document.getElementById("edit-message");
    var wholeFaces = document.getElementById("edit-whole-faces");
    var newName = document.getElementById("edit-new-name");
    var moveTo = document.getElementById("edit-move-to");
    var createButton = document.getElementById("edit-create");
    var moveButton = document.getElementById("edit-move");
    var clearButton = document.getElementById("edit-clear");
    var mergeButton = document.getElementById("edit-merge");
    var tbody = document.getElementById("edit-turfs");

    // The pick: household ids as the server last returned them, with its summary.
    var picked = [];
    var summary = null;
    var ticked = [];  // turf ids ticked for merging, in the order they were ticked
    var busy = false;

    function say(text, isError) {
      message.textContent = text || "";
      message.className = isError ? "error" : "";
    }

    function post(url, body) {
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(body)
      }).then(function (response) {
        return response.json().catch(function () { return { error: "HTTP " + response.status }; })
          .then(function (data) { data.status = response.status; return data; });
      });
    }

    // Sends an edit; a 409 asks the organizer, and the same edit goes again confirmed.
    function edit(url, body) {
      if (busy) return Promise.resolve(null);
      busy = true;
      redraw();
      say(strings.working);
      return post(url, body).then(function (data) {
        if (data.status === 409 && data.confirm) {
          if (!window.confirm(data.confirm)) {
            say("");
            return null;
          }
          body.confirm = true;
          return post(url, body);
        }
        return data;
      }).then(function (data) {
        if (!data) return null;
        if (data.status !== 200) {
          say(format(strings.failed, { error: data.error || "HTTP " + data.status }), true);
          return null;
        }
        turfs = data.turfs;
        setPick([], null);
        // Said once the map shows the change, so what the message says is what is drawn.
        return api.reload().then(function () { say(data.message); return data; });
      }).catch(function (error) {
        say(format(strings.failed, { error: error.message }), true);
      }).finally(function () {
        busy = false;
        redraw();
      });
    }

    function setPick(ids, newSummary) {
      picked = ids;
      summary = newSummary;
      mapEl.dataset.picked = String(picked.length);
      redraw();
    }

    // Asks the server what a pick holds (whole block faces grow it there, not here).
    function pick(body) {
      body.whole_faces = wholeFaces.checked && body.whole_faces !== false;
      return post(panel.dataset.pickUrl, body).then(function (data) {
        if (data.status !== 200) {
          say(data.error, true);
          return;
        }
        say("");
        setPick(data.households, data);
      }).catch(function (error) { say(error.message, true); });
    }

    function markPicked() {
      var set = {};
      picked.forEach(function (id) { set[id] = true; });
      api.households.eachLayer(function (layer) {
        var feature = layer.feature;
        if (set[feature.id]) {
          layer.setStyle(PICKED);
          layer.setRadius(PICKED.radius);
        } else {
          var color = api.turfColor(feature.properties.turf);
          layer.setStyle({ weight: 1, color: color, fillColor: color, fillOpacity: 0.8 });
          layer.setRadius(3);
        }
      });
    }

    function pickedOn(turfId) {
      if (!summary) return 0;
      for (var i = 0; i < summary.turfs.length; i++) {
        if (summary.turfs[i].id === turfId) return summary.turfs[i].picked;
      }
      return 0;
    }

    function cell(row, text) {
      var td = document.createElement("td");
      td.textContent = text;
      row.appendChild(td);
      return td;
    }

    function drawTable() {
      tbody.textContent = "";
      var chosen = moveTo.value;
      moveTo.textContent = "";
      ticked = ticked.filter(function (id) { return turfs.some(function (t) { return t.id === id; }); });
      turfs.forEach(function (turf) {
        var row = document.createElement("tr");
        row.dataset.turfId = turf.id;
        var box = document.createElement("input");
        box.type = "checkbox";
        box.checked = ticked.indexOf(turf.id) >= 0;
        box.setAttribute("aria-label", turf.name);
        box.addEventListener("change", function () {
          ticked = ticked.filter(function (id) { return id !== turf.id; });
          if (box.checked) ticked.push(turf.id);
          redraw();
        });
        cell(row, "").appendChild(box);
        cell(row, turf.name);
        cell(row, String(turf.doors)).className = "doors";
        cell(row, pickedOn(turf.id) ? String(pickedOn(turf.id)) : "").className = "picked";
        cell(row, turf.status_label || turf.status);
        var split = document.createElement("button");
        split.type = "button";
        split.textContent = strings.split;
        split.disabled = busy || turf.doors < 2;
        split.addEventListener("click", function () {
          edit(panel.dataset.splitUrl.replace("/0/", "/" + turf.id + "/"), {});
        });
        cell(row, "").appendChild(split);
        tbody.appendChild(row);

        var option = document.createElement("option");
        option.value = String(turf.id);
        option.textContent = turf.name + " (" + turf.doors + ")";
        moveTo.appendChild(option);
      });
      if (chosen) moveTo.value = chosen;
    }

    function redraw() {
      markPicked();
      drawTable();
      if (!picked.length) {
        pickText.textContent = strings.none;
      } else {
        var parts = summary.turfs.map(function (t) {
          return format(strings.from_turf, t) + (t.handed_out ? " (" + strings.handed_out + ")" : "");
        });
        if (summary.on_no_turf) parts.push(format(strings.no_turf, { n: summary.on_no_turf }));
        pickText.textContent = format(strings.picked, { doors: summary.doors }) + ": " + parts.join("; ") + ".";
      }
      createButton.disabled = busy || !picked.length;
      moveButton.disabled = busy || !picked.length || !turfs.length;
      clearButton.disabled = !picked.length;
      mergeButton.disabled = busy || ticked.length < 2;
      var keep = turfs.filter(function (t) { return t.id === ticked[0]; })[0];
      mergeButton.textContent = keep && ticked.length >= 2 ? format(strings.merge_into, keep) : strings.merge;
    }

    // Drawing: an outline picks the doors inside it (added to any already picked).
    var drawn = new L.FeatureGroup().addTo(map);
    map.addControl(new L.Control.Draw({
      position: "topleft",
      draw: {
        polygon: { allowIntersection: false, showArea: false },
        rectangle: { showArea: false },
        polyline: false, circle: false, marker: false, circlemarker: false
      },
      edit: false
    }));
    map.on(L.Draw.Event.CREATED, function (event) {
      drawn.clearLayers();
      drawn.addLayer(event.layer);
      pick({ polygon: event.layer.toGeoJSON().geometry, households: picked }).then(function () {
        drawn.clearLayers();
      });
    });

    // Clicking a door adds it to the pick, or takes it out; two quick clicks on one door
    // are two picks, not a zoom.
    map.doubleClickZoom.disable();
    api.households.on("click", function (event) {
      var id = event.layer.feature.id;
      if (picked.indexOf(id) >= 0) {
        var rest = picked.filter(function (other) { return other !== id; });
        if (rest.length) pick({ households: rest, whole_faces: false });
        else setPick([], null);
      } else {
        pick({ households: picked.concat([id]) });
      }
    });
    mapEl.addEventListener("turfmap:loaded", markPicked);

    createButton.addEventListener("click", function () {
      if (!picked.length) return say(strings.pick_first, true);
      edit(panel.dataset.createUrl, { households: picked, name: newName.value }).then(function (data) {
        if (data) newName.value = "";
      });
    });
    moveButton.addEventListener("click", function () {
      if (!picked.length) return say(strings.pick_first, true);
      edit(panel.dataset.moveUrl, { households: picked, to_turf: Number(moveTo.value) });
    });
    clearButton.addEventListener("click", function () { setPick([], null); say(""); });
    mergeButton.addEventListener("click", function () {
      edit(panel.dataset.mergeUrl, { turfs: ticked.slice() }).then(function (data) {
        if (data) ticked = [];
        redraw();
      });
    });
    wholeFaces.addEventListener("change", function () {
      if (picked.length) pick({ households: picked, whole_faces: wholeFaces.checked });
    });

    redraw();
    panel.dataset.ready = "1";
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
