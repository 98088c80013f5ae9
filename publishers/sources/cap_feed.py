"""CAP alerts: an Atom feed whose entries carry CAP 1.1 fields (the NWS index), or one CAP 1.1/1.2
``<alert>`` document (its English ``<info>`` block). One row per alert; times in UTC; lists joined by
spaces. Elements are matched by local name, so CAP 1.1 and 1.2 namespaces read the same way.

Areas are kept as CAP gives them (``polygon``: "lat,lon ..." pairs; ``circle``: "lat,lon radius_km",
several joined by " | ") and as one geometry: ``area`` is GeoJSON text (longitude/latitude, as GeoJSON
wants) of every polygon and circle of the alert's areas (a circle as a 32-sided polygon), a Polygon or a
MultiPolygon; declare it ``"type": "geojson"`` in the job's schema to publish it as geometry. The full
alert fields (sender, sent, scope, response type, headline, description, instruction, web) follow."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime

import pyarrow as pa

from opendata.errors import SourceError
from publishers.job import CapAtomSource, Job
from publishers.sources import text_batch
from publishers.sources.fetch import local_file

COLUMNS = [
    "id", "updated", "published", "effective", "expires", "status", "msg_type", "category", "urgency",
    "severity", "certainty", "event", "area_desc", "fips6", "ugc", "vtec", "polygon", "title", "summary",
    "sender", "sent", "scope", "response_type", "headline", "description", "instruction", "web", "circle", "area",
]  # fmt: skip
CIRCLE_SIDES = 32


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(element: ET.Element | None, name: str) -> ET.Element | None:
    if element is None:
        return None
    return next((child for child in element if _local(child.tag) == name), None)


def _text(element: ET.Element | None) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


def _utc(value: str) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SourceError(f"CAP time {value!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise SourceError(f"CAP time {value!r} has no UTC offset")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _pairs(element: ET.Element | None) -> dict[str, list[str]]:
    """CAP's valueName/value sequence as {name: [codes]}."""
    found: dict[str, list[str]] = {}
    name = ""
    for child in element if element is not None else []:
        if _local(child.tag) == "valueName":
            name = _text(child)
        elif _local(child.tag) == "value":
            found.setdefault(name, []).extend(_text(child).split())
    return found


def _ring(polygon: str) -> list[list[float]]:
    """A CAP polygon ("lat,lon lat,lon ...") as a GeoJSON ring of [lon, lat]."""
    try:
        pairs = [tuple(float(v) for v in pair.split(",")) for pair in polygon.split()]
    except ValueError:
        raise SourceError(f"CAP polygon {polygon[:60]!r} is not 'lat,lon' pairs") from None
    if any(len(p) != 2 for p in pairs) or len(pairs) < 4:
        raise SourceError(f"CAP polygon {polygon[:60]!r} needs at least four 'lat,lon' pairs")
    return [[lon, lat] for lat, lon in pairs]


def _circle(circle: str) -> list[list[float]]:
    """A CAP circle ("lat,lon radius_km") as a 32-sided GeoJSON ring."""
    try:
        centre, radius = circle.split()
        lat, lon = (float(v) for v in centre.split(","))
        km = float(radius)
    except ValueError:
        raise SourceError(f"CAP circle {circle[:60]!r} is not 'lat,lon radius'") from None
    ring = [
        [round(lon + km / (111.32 * math.cos(math.radians(lat))) * math.cos(2 * math.pi * i / CIRCLE_SIDES), 6),
         round(lat + km / 110.574 * math.sin(2 * math.pi * i / CIRCLE_SIDES), 6)]
        for i in range(CIRCLE_SIDES)
    ]
    return [*ring, ring[0]]


def area_geojson(polygons: list[str], circles: list[str]) -> str:
    """GeoJSON text of an alert's polygons and circles: a Polygon, a MultiPolygon, or "" when it has none."""
    rings = [_ring(p) for p in polygons if p] + [_circle(c) for c in circles if c]
    if not rings:
        return ""
    if len(rings) == 1:
        return json.dumps({"type": "Polygon", "coordinates": [rings[0]]}, separators=(",", ":"))
    return json.dumps({"type": "MultiPolygon", "coordinates": [[r] for r in rings]}, separators=(",", ":"))


def entry_row(entry: ET.Element) -> dict[str, str]:
    geocode = _pairs(_find(entry, "geocode"))
    parameter = _find(entry, "parameter")
    vtec = [_text(v) for v in parameter if _local(v.tag) == "value"] if parameter is not None else []
    get = lambda name: _text(_find(entry, name))  # noqa: E731
    return {
        "id": get("id"), "updated": _utc(get("updated")), "published": _utc(get("published")),
        "effective": _utc(get("effective")), "expires": _utc(get("expires")), "status": get("status"),
        "msg_type": get("msgType"), "category": get("category"), "urgency": get("urgency"),
        "severity": get("severity"), "certainty": get("certainty"), "event": get("event"),
        "area_desc": get("areaDesc"), "fips6": " ".join(geocode.get("FIPS6", [])),
        "ugc": " ".join(geocode.get("UGC", [])), "vtec": " ".join(v for v in vtec if v),
        "polygon": get("polygon"), "title": get("title"), "summary": get("summary"),
        "sender": "", "sent": _utc(get("sent")), "scope": get("scope"), "response_type": "", "headline": "",
        "description": "", "instruction": "", "web": "", "circle": get("circle"),
        "area": area_geojson([get("polygon")], [get("circle")]),
    }  # fmt: skip


def alert_row(alert: ET.Element) -> dict[str, str]:
    infos = [i for i in alert if _local(i.tag) == "info"]
    if not infos:
        raise SourceError("CAP alert has no <info> block")
    info = next((i for i in infos if _text(_find(i, "language")).startswith("en")), infos[0])
    areas = [a for a in info if _local(a.tag) == "area"]
    area = areas[0] if areas else None
    geocode = _pairs(_find(area, "geocode"))
    polygons = [_text(p) for a in areas for p in a if _local(p.tag) == "polygon"]
    circles = [_text(c) for a in areas for c in a if _local(c.tag) == "circle"]
    sent = _utc(_text(_find(alert, "sent")))
    params = [p for p in info if _local(p.tag) == "parameter"]
    vtec = [_text(_find(p, "value")) for p in params if _text(_find(p, "valueName")) == "VTEC"]
    get = lambda element, name: _text(_find(element, name))  # noqa: E731
    return {
        "id": get(alert, "identifier"), "updated": sent, "published": sent,
        "effective": _utc(get(info, "effective")) or sent,  # CAP: absent means effective when sent
        "expires": _utc(get(info, "expires")), "status": get(alert, "status"), "msg_type": get(alert, "msgType"),
        "category": get(info, "category"), "urgency": get(info, "urgency"), "severity": get(info, "severity"),
        "certainty": get(info, "certainty"), "event": get(info, "event"), "area_desc": get(area, "areaDesc"),
        "fips6": " ".join(geocode.get("SAME", []) + geocode.get("FIPS6", [])), "ugc": " ".join(geocode.get("UGC", [])),
        "vtec": " ".join(vtec), "polygon": get(area, "polygon"), "title": get(info, "headline"),
        "summary": get(info, "description"),
        "sender": get(alert, "sender"), "sent": sent, "scope": get(alert, "scope"),
        "response_type": " ".join(_text(r) for r in info if _local(r.tag) == "responseType"),
        "headline": get(info, "headline"), "description": get(info, "description"),
        "instruction": get(info, "instruction"), "web": get(info, "web"), "circle": " | ".join(circles),
        "area": area_geojson(polygons, circles),
    }  # fmt: skip


class CapAtomConnector:
    def batches(self, job: Job) -> Iterator[pa.RecordBatch]:
        source = job.source
        assert isinstance(source, CapAtomSource)
        with local_file(job, source, ".xml") as path:
            try:
                root = ET.parse(path).getroot()
            except ET.ParseError as exc:
                raise SourceError(f"{path}: not well-formed XML: {exc}") from None
        kind = _local(root.tag)
        if kind == "feed":
            rows = [entry_row(e) for e in root if _local(e.tag) == "entry"]
        elif kind == "alert":
            rows = [alert_row(root)]
        else:
            raise SourceError(f"{path}: expected an Atom <feed> or a CAP <alert>, found <{kind}>")
        yield text_batch(COLUMNS, [[row[c] or None for c in COLUMNS] for row in rows])
