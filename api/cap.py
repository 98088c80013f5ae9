"""A dataset's active alerts as CAP 1.2: one ``<alert>`` per row, in an Atom feed (what alert clients read).

Columns are taken by their names in the platform's CAP sources (``publishers/sources/cap_feed.py`` and the
weather demo): ``id`` -> identifier, ``sender`` (else the catalog publisher), ``sent`` (else ``published``,
else ``updated``), ``status``, ``msg_type``, ``scope`` (default ``Public``), and in the one ``<info>``:
``category`` (space-separated), ``event``, ``response_type``, ``urgency``, ``severity``, ``certainty``,
``effective``, ``expires``, ``headline`` (else ``title``), ``description`` (else ``summary``),
``instruction``, ``web`` (else ``id`` when it is a URL), and one ``<area>``: ``area_desc``, the polygons of
the geometry column (``area``, else ``polygon``; GeoJSON lon/lat back to CAP's "lat,lon" pairs), ``circle``,
and the ``fips6``/``ugc`` geocodes. Times are written with an offset (``+00:00``), as CAP's pattern wants.

"Active" means not expired at ``at`` (default: now): ``expires > at``, or no expiry at all.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

CAP = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM = "http://www.w3.org/2005/Atom"
REQUIRED = ("id", "status", "msg_type", "category", "event", "urgency", "severity", "certainty")
SCOPES = ("Public", "Restricted", "Private")


def cap_time(value: Any) -> str | None:
    """A CAP dateTime: ``YYYY-MM-DDTHH:MM:SS+00:00`` (UTC; naive values are UTC)."""
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _rings(geometry: Mapping[str, Any] | None) -> list[list[list[float]]]:
    if not geometry:
        return []
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry.get("type") == "MultiPolygon":
        return [polygon[0] for polygon in geometry["coordinates"]]
    if geometry.get("type") == "GeometryCollection":
        return [ring for part in geometry.get("geometries", []) for ring in _rings(part)]
    return []


def cap_polygon(ring: Sequence[Sequence[float]]) -> str:
    """A GeoJSON ring (lon, lat) as a CAP polygon: "lat,lon lat,lon ..." (first and last the same)."""
    return " ".join(f"{lat:g},{lon:g}" for lon, lat, *_ in ring)


def _add(parent: ET.Element, name: str, value: Any) -> None:
    if value is not None and value != "":
        ET.SubElement(parent, f"{{{CAP}}}{name}").text = str(value)


def alert_element(row: Mapping[str, Any], geometry_column: str | None, default_sender: str) -> ET.Element:
    """One CAP 1.2 ``<alert>`` of a row (elements in the order the CAP 1.2 schema requires)."""
    get = row.get
    alert = ET.Element(f"{{{CAP}}}alert")
    _add(alert, "identifier", get("id"))
    _add(alert, "sender", get("sender") or default_sender)
    _add(alert, "sent", cap_time(get("sent") or get("published") or get("updated")))
    _add(alert, "status", get("status"))
    _add(alert, "msgType", get("msg_type"))
    _add(alert, "scope", get("scope") if get("scope") in SCOPES else "Public")
    info = ET.SubElement(alert, f"{{{CAP}}}info")
    _add(info, "language", get("language") or "en-US")
    for category in str(get("category") or "").split():
        _add(info, "category", category)
    _add(info, "event", get("event"))
    for response in str(get("response_type") or "").split():
        _add(info, "responseType", response)
    for name in ("urgency", "severity", "certainty"):
        _add(info, name, get(name))
    _add(info, "effective", cap_time(get("effective")))
    _add(info, "expires", cap_time(get("expires")))
    _add(info, "headline", get("headline") or get("title"))
    _add(info, "description", get("description") or get("summary"))
    _add(info, "instruction", get("instruction"))
    web = get("web") or (get("id") if str(get("id") or "").startswith(("http://", "https://")) else None)
    _add(info, "web", web)
    area = ET.SubElement(info, f"{{{CAP}}}area")
    _add(area, "areaDesc", get("area_desc") or "Unspecified area")
    for ring in _rings(get(geometry_column) if geometry_column else None):
        _add(area, "polygon", cap_polygon(ring))
    for circle in str(get("circle") or "").split("|"):
        _add(area, "circle", circle.strip() or None)
    for name, column in (("FIPS6", "fips6"), ("UGC", "ugc")):
        for code in str(get(column) or "").split():
            geocode = ET.SubElement(area, f"{{{CAP}}}geocode")
            _add(geocode, "valueName", name)
            _add(geocode, "value", code)
    return alert


def cap_atom_feed(
    rows: Sequence[Mapping[str, Any]], *, title: str, feed_id: str, self_url: str, geometry_column: str | None,
    sender: str, updated: str,
) -> bytes:
    """An Atom feed whose entries each carry one CAP 1.2 alert as their content."""
    ET.register_namespace("", ATOM)
    ET.register_namespace("cap", CAP)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = title
    ET.SubElement(feed, f"{{{ATOM}}}id").text = feed_id
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = updated
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url, type="application/atom+xml")
    ET.SubElement(ET.SubElement(feed, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = sender
    for row in rows:
        alert = alert_element(row, geometry_column, sender)
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = str(row.get("id"))
        ET.SubElement(entry, f"{{{ATOM}}}title").text = str(row.get("headline") or row.get("title") or row.get("event"))
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = (
            cap_time(row.get("updated") or row.get("sent") or row.get("published")) or updated
        )
        content = ET.SubElement(entry, f"{{{ATOM}}}content", type="application/cap+xml")
        content.append(alert)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
