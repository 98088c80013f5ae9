// The dataset page's map: the first rows with a location, read from the public rows API, drawn with the
// vendored Leaflet. Tiles only when the site sets OPENDATA_MAP_TILES_URL; otherwise a plain background,
// a scale and the features' extent, with nothing loaded from elsewhere.
(function () {
  "use strict";
  const box = document.getElementById("map-canvas");
  const status = document.getElementById("map-status");
  if (!box || typeof L === "undefined") return;

  function say(text) { if (status) status.textContent = text; }

  function features(rows, kind, columns) {
    const out = [];
    for (const row of rows) {
      if (kind === "points") {
        const lat = Number(row[columns[0]]), lon = Number(row[columns[1]]);
        if (!Number.isFinite(lat) || !Number.isFinite(lon) || row[columns[0]] === null || row[columns[1]] === null) continue;
        out.push({ type: "Feature", geometry: { type: "Point", coordinates: [lon, lat] }, properties: {} });
      } else {
        const geometry = row[columns[0]];
        if (geometry && typeof geometry === "object" && geometry.type) {
          out.push({ type: "Feature", geometry: geometry, properties: {} });
        }
      }
    }
    return out;
  }

  function draw(found) {
    box.classList.add("map-live");
    const map = L.map(box, { keyboard: true, attributionControl: true, zoomSnap: 0.25 });
    const tiles = box.dataset.tiles;
    if (tiles) {
      L.tileLayer(tiles, { attribution: box.dataset.attribution || "", maxZoom: 19 }).addTo(map);
    } else {
      box.classList.add("map-plain");
      map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
      map.attributionControl.addAttribution("no background map: features on a plain background");
    }
    L.control.scale({ metric: true, imperial: true }).addTo(map);
    const layer = L.geoJSON({ type: "FeatureCollection", features: found }, {
      pointToLayer: (feature, latlng) => L.circleMarker(latlng, { radius: 4, weight: 1, color: "#0a52b5", fillColor: "#0a52b5", fillOpacity: 0.6 }),
      style: () => ({ color: "#0a52b5", weight: 2, fillOpacity: 0.2 }),
    }).addTo(map);
    const bounds = layer.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [12, 12], maxZoom: 16 });
      const sw = bounds.getSouthWest(), ne = bounds.getNorthEast();
      box.dataset.extent = [sw.lng, sw.lat, ne.lng, ne.lat].map((v) => v.toFixed(4)).join(",");
    } else {
      map.setView([0, 0], 1);
    }
    box.dataset.drawn = String(found.length);
    box.dataset.zoom = String(map.getZoom());
    map.on("zoomend", () => { box.dataset.zoom = String(map.getZoom()); });
    // Leaflet makes the map focusable (arrow keys pan, +/- zoom); give the focused map a name people hear.
    box.setAttribute("aria-roledescription", "map");
    return bounds;
  }

  const url = box.dataset.features;
  say("Loading the map…");
  fetch(url, { headers: { Accept: "application/json" } })
    .then((response) => response.json().then((body) => ({ ok: response.ok, body: body })))
    .then(({ ok, body }) => {
      if (!ok) {
        const message = body && body.error ? body.error.message : "the rows API did not answer";
        say("The map could not be drawn: " + message + ".");
        return;
      }
      const found = features(body.rows || [], box.dataset.kind, box.dataset.columns.split(","));
      const rows = Number(box.dataset.rows), limit = Number(box.dataset.limit);
      const bounds = draw(found);
      let text = "Drawn: " + found.length.toLocaleString("en") + " feature" + (found.length === 1 ? "" : "s");
      text += rows > limit ? " (the first " + limit.toLocaleString("en") + " rows with a location of " + rows.toLocaleString("en") + ")" : "";
      if (bounds.isValid()) {
        const sw = bounds.getSouthWest(), ne = bounds.getNorthEast();
        text += "; extent latitude " + sw.lat.toFixed(3) + " to " + ne.lat.toFixed(3) + ", longitude " + sw.lng.toFixed(3) + " to " + ne.lng.toFixed(3);
      }
      say(text + ".");
    })
    .catch(() => say("The map could not be drawn: the rows API did not answer."));
})();
