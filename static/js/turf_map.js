// The organizer's turf map: turf outlines and households from the app's GeoJSON
// endpoints, drawn with Leaflet. Tiles are optional: with none configured or none
// reachable, the points and outlines still draw on a blank background.
(function () {
  "use strict";

  // The same colours as the status badges in dashboard.css.
  var STATUS_COLORS = { open: "#1f5f8b", assigned: "#9a4300", done: "#176b50" };
  var TURF_COLORS = ["#1f78b4", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#e6ab02", "#666666"];

  function turfColor(turfId) {
    return turfId == null ? "#999999" : TURF_COLORS[turfId % TURF_COLORS.length];
  }

  // Every value from the data is put in the page as text, never as markup: a voter
  // file's cell can hold anything.
  function textBox(text) {
    var box = document.createElement("span");
    box.textContent = text == null ? "" : String(text);
    return box;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(url + ": HTTP " + response.status);
        return response.json();
      });
  }

  function start() {
    var el = document.getElementById("turf-map");
    if (!el || typeof L === "undefined") return;
    var status = document.getElementById("map-status");
    var filters = new URLSearchParams(window.location.search);
    var query = new URLSearchParams();
    ["precinct", "turf"].forEach(function (name) {
      if (filters.get(name)) query.set(name, filters.get(name));
    });

    // A canvas renderer keeps tens of thousands of circle markers responsive.
    // maxZoom on the map itself: with no tile layer, fitting one household would zoom forever.
    var map = L.map(el, { preferCanvas: true, center: [39.5, -98.35], zoom: 4, maxZoom: 19 });
    // For the browser tests and the browser's console: the page's one map.
    el.leafletMap = map;
    map.attributionControl.setPrefix(false);
    if (el.dataset.tilesUrl) {
      L.tileLayer(el.dataset.tilesUrl, { maxZoom: 19, attribution: el.dataset.tilesAttribution || "" }).addTo(map);
    }

    var turfLayer = L.geoJSON(null, {
      style: function (feature) {
        var color = STATUS_COLORS[feature.properties.status] || "#444";
        return { color: color, weight: 2, fillColor: color, fillOpacity: 0.08 };
      },
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 8, color: STATUS_COLORS[feature.properties.status] || "#444" });
      },
      onEachFeature: function (feature, layer) {
        var p = feature.properties;
        var link = document.createElement("a");
        link.href = p.url;
        link.textContent = p.name;
        var box = document.createElement("div");
        box.appendChild(link);
        box.appendChild(document.createTextNode(" · " + p.knocked + " / " + p.doors + " doors · " + p.status));
        layer.bindPopup(box);
      }
    }).addTo(map);

    var householdLayer = L.geoJSON(null, {
      pointToLayer: function (feature, latlng) {
        var color = turfColor(feature.properties.turf);
        return L.circleMarker(latlng, { radius: 3, weight: 1, color: color, fillColor: color, fillOpacity: 0.8 });
      },
      onEachFeature: function (feature, layer) {
        // Leaflet writes a string tooltip as HTML; an address from a voter file is text.
        layer.bindTooltip(textBox(feature.properties.address));
      }
    }).addTo(map);

    L.control.layers(null, { "Turf outlines": turfLayer, "Households": householdLayer }).addTo(map);
    L.control.scale().addTo(map);

    var turfsUrl = el.dataset.turfsUrl;
    var householdsUrl = el.dataset.householdsUrl + (query.toString() ? "?" + query : "");

    // Loads (or, after an edit, reloads) the outlines and the households.
    function load() {
      return Promise.all([getJSON(turfsUrl), getJSON(householdsUrl)])
        .then(function (results) {
          var turfs = results[0], households = results[1];
          var onlyTurf = filters.get("turf");
          var first = !el.dataset.householdCount;
          turfLayer.clearLayers();
          householdLayer.clearLayers();
          turfLayer.addData(onlyTurf ? {
            type: "FeatureCollection",
            features: turfs.features.filter(function (f) { return String(f.id) === onlyTurf; })
          } : turfs);
          householdLayer.addData(households);
          if (first) {
            var bounds = householdLayer.getBounds();
            if (!bounds.isValid()) bounds = turfLayer.getBounds();
            if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20] });
          }
          el.dataset.turfCount = turfLayer.getLayers().length;
          el.dataset.householdCount = householdLayer.getLayers().length;
          if (status) {
            status.textContent = turfLayer.getLayers().length + " turfs, " + householdLayer.getLayers().length + " households" +
              (households.truncated ? " (only the first ones: pick a precinct or a turf to see them all)" : "") + ".";
          }
          el.dispatchEvent(new CustomEvent("turfmap:loaded"));
        })
        .catch(function (error) {
          if (status) status.textContent = "Could not load the map data: " + error.message;
        });
    }

    // What the editing panel (turf_edit.js) works with.
    el.turfMap = { map: map, households: householdLayer, turfs: turfLayer, reload: load, turfColor: turfColor };
    load();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
