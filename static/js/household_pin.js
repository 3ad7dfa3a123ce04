// Placing one household by hand: a click or tap on the map sets the pin and fills the
// latitude and longitude fields (which also work by hand, without JavaScript); the pin
// can be dragged.
(function () {
  "use strict";

  function number(input) {
    var value = parseFloat(input && input.value);
    return isFinite(value) ? value : null;
  }

  function start() {
    var el = document.getElementById("household-map");
    if (!el || typeof L === "undefined") return;
    var latInput = document.getElementById(el.dataset.latInput || "");
    var lngInput = document.getElementById(el.dataset.lngInput || "");
    var pin = number(latInput) !== null && number(lngInput) !== null
      ? L.latLng(number(latInput), number(lngInput)) : null;
    var center = pin;
    if (!center && el.dataset.center) {
      var c = el.dataset.center.split(",").map(parseFloat);
      center = L.latLng(c[0], c[1]);
    }
    var map = L.map(el, { center: center || [39.5, -98.35], zoom: center ? 16 : 4, maxZoom: 19 });
    el.leafletMap = map;
    map.attributionControl.setPrefix(false);
    if (el.dataset.tilesUrl) {
      L.tileLayer(el.dataset.tilesUrl, { maxZoom: 19, attribution: el.dataset.tilesAttribution || "" }).addTo(map);
    }
    var marker = null;

    function write(latlng) {
      latInput.value = latlng.lat.toFixed(6);
      lngInput.value = latlng.lng.toFixed(6);
    }

    function place(latlng) {
      if (marker) {
        marker.setLatLng(latlng);
      } else {
        marker = L.marker(latlng, { draggable: true, title: el.dataset.pinTitle || "" }).addTo(map);
        marker.on("dragend", function () { write(marker.getLatLng()); });
      }
      el.dataset.pinned = "1";
    }

    if (pin) place(pin);
    map.on("click", function (event) {
      place(event.latlng);
      write(event.latlng);
    });
    [latInput, lngInput].forEach(function (input) {
      input.addEventListener("change", function () {
        var lat = number(latInput), lng = number(lngInput);
        if (lat !== null && lng !== null) {
          place(L.latLng(lat, lng));
          map.panTo([lat, lng]);
        }
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
