"""CAP alerts: an Atom feed whose entries carry CAP 1.1 fields (the NWS index), or one CAP 1.1/1.2
``<alert>`` document (its English ``<info>`` block). One row per alert; times in UTC; lists joined by
spaces. Elements are matched by local name, so CAP 1.1 and 1.2 namespaces read the same way."""

from __future__ import annotations

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
]  # fmt: skip


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
    }  # fmt: skip


def alert_row(alert: ET.Element) -> dict[str, str]:
    infos = [i for i in alert if _local(i.tag) == "info"]
    if not infos:
        raise SourceError("CAP alert has no <info> block")
    info = next((i for i in infos if _text(_find(i, "language")).startswith("en")), infos[0])
    area = _find(info, "area")
    geocode = _pairs(_find(area, "geocode"))
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
