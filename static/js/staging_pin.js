// The staging location's pin. On the shift form, a click or tap on the map sets the pin
// and fills the latitude and longitude fields (which also work by hand, without
// JavaScript); the pin can be dragged. On a shift's page the map only shows the pin.
(function () {
  "use strict";

  function number(input) {
    var value = parseFloat(input && input.value);
    return isFinite(value) ? value : null;
  }

  function start() {
    var el = document.getElementById("staging-map");
    if (!el || typeof L === "undefined") return;
    var readonly = el.dataset.readonly === "1";
    var latInput = document.getElementById(el.dataset.latInput || "");
    var lngInput = document.getElementById(el.dataset.lngInput || "");
    var pin = null;
    if (el.dataset.pin) {
      var parts = el.dataset.pin.split(",").map(parseFloat);
      pin = L.latLng(parts[0], parts[1]);
    } else if (number(latInput) !== null && number(lngInput) !== null) {
      pin = L.latLng(number(latInput), number(lngInput));
    }
    var center = pin;
    if (!center && el.dataset.center) {
      var c = el.dataset.center.split(",").map(parseFloat);
      center = L.latLng(c[0], c[1]);
    }
    var map = L.map(el, { center: center || [39.5, -98.35], zoom: pin ? 16 : center ? 14 : 4 });
    map.attributionControl.setPrefix(false);
    if (el.dataset.tilesUrl) {
      L.tileLayer(el.dataset.tilesUrl, { maxZoom: 19, attribution: el.dataset.tilesAttribution || "" }).addTo(map);
    }
    var marker = null;

    function write(latlng) {
      if (!latInput || !lngInput) return;
      latInput.value = latlng ? latlng.lat.toFixed(6) : "";
      lngInput.value = latlng ? latlng.lng.toFixed(6) : "";
    }

    function place(latlng) {
      if (marker) {
        marker.setLatLng(latlng);
      } else {
        marker = L.marker(latlng, { draggable: !readonly, keyboard: !readonly, title: el.dataset.pinTitle || "" }).addTo(map);
        marker.on("dragend", function () { write(marker.getLatLng()); });
      }
      el.dataset.pinned = "1";
    }

    if (pin) place(pin);
    if (readonly) return;
    map.on("click", function (event) {
      place(event.latlng);
      write(event.latlng);
    });
    [latInput, lngInput].forEach(function (input) {
      if (!input) return;
      input.addEventListener("change", function () {
        var lat = number(latInput), lng = number(lngInput);
        if (lat !== null && lng !== null) {
          place(L.latLng(lat, lng));
          map.panTo([lat, lng]);
        }
      });
    });
    var clear = document.getElementById("pin-clear");
    if (clear) {
      clear.addEventListener("click", function () {
        if (marker) { map.removeLayer(marker); marker = null; }
        delete el.dataset.pinned;
        write(null);
      });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
