"""Build ``data/alerts.csv`` from the National Weather Service CAP/Atom feed snapshot.

One row per alert: the 163 entries of ``data/nws_atom_feed_example.xml`` (the NWS index of active watches,
warnings and advisories for the United States, 2018-08-15 22:57 UTC) in feed order, then one row for the
CAP 1.2 AMBER-alert example ``data/cap_amber_alert_example.xml`` (its English ``info`` block), whose
description carries names, dates of birth, a street address and a licence plate: the free text that the
job's ``redact`` rule on ``summary`` exists for.

Times are converted from the feed's local offsets (-04:00 ... +10:00) to UTC and written as
``YYYY-MM-DDTHH:MM:SS``. Lists (FIPS6 and UGC zone codes, VTEC strings) are joined with single spaces. The
entry's <link> is not kept: in this feed it always equals its <id>.

Deterministic, standard library only::

    python datasets/weather/build_alerts.py            # rewrites data/alerts.csv
    python datasets/weather/build_alerts.py --out x.csv
"""

from __future__ import annotations

import argparse
import csv
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
FEED = HERE / "data" / "nws_atom_feed_example.xml"
AMBER = HERE / "data" / "cap_amber_alert_example.xml"
OUT = HERE / "data" / "alerts.csv"

ATOM = "{http://www.w3.org/2005/Atom}"
CAP11 = "{urn:oasis:names:tc:emergency:cap:1.1}"
CAP12 = "{urn:oasis:names:tc:emergency:cap:1.2}"

COLUMNS = [
    "id", "updated", "published", "effective", "expires", "status", "msg_type", "category", "urgency",
    "severity", "certainty", "event", "area_desc", "fips6", "ugc", "vtec", "polygon", "title", "summary",
]  # fmt: skip


def utc(value: str | None) -> str:
    """'2018-08-15T14:52:00-08:00' -> '2018-08-15T22:52:00' (UTC, no offset); '' when absent."""
    if not value or not value.strip():
        return ""
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a UTC offset: {value!r}")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def text(element: ET.Element | None) -> str:
    """An element's text with runs of whitespace (newlines in VTEC, polygons) collapsed to one space."""
    return " ".join((element.text or "").split()) if element is not None else ""


def pairs(element: ET.Element | None, ns: str) -> dict[str, list[str]]:
    """CAP's <valueName>/<value> sequence as {name: [values, ...]} (values may hold several codes)."""
    found: dict[str, list[str]] = {}
    if element is None:
        return found
    name = ""
    for child in element:
        if child.tag == f"{ns}valueName":
            name = text(child)
        elif child.tag == f"{ns}value":
            found.setdefault(name, []).extend(text(child).split())
    return found


def feed_rows(path: Path = FEED) -> list[dict[str, str]]:
    rows = []
    for entry in ET.parse(path).getroot().iter(f"{ATOM}entry"):
        geocode = pairs(entry.find(f"{CAP11}geocode"), ATOM)
        parameter = entry.find(f"{CAP11}parameter")
        vtec = [text(v) for v in parameter.iter(f"{ATOM}value")] if parameter is not None else []
        rows.append({
            "id": text(entry.find(f"{ATOM}id")),
            "updated": utc(entry.findtext(f"{ATOM}updated")),
            "published": utc(entry.findtext(f"{ATOM}published")),
            "effective": utc(entry.findtext(f"{CAP11}effective")),
            "expires": utc(entry.findtext(f"{CAP11}expires")),
            "status": text(entry.find(f"{CAP11}status")),
            "msg_type": text(entry.find(f"{CAP11}msgType")),
            "category": text(entry.find(f"{CAP11}category")),
            "urgency": text(entry.find(f"{CAP11}urgency")),
            "severity": text(entry.find(f"{CAP11}severity")),
            "certainty": text(entry.find(f"{CAP11}certainty")),
            "event": text(entry.find(f"{CAP11}event")),
            "area_desc": text(entry.find(f"{CAP11}areaDesc")),
            "fips6": " ".join(geocode.get("FIPS6", [])),
            "ugc": " ".join(geocode.get("UGC", [])),
            "vtec": " ".join(v for v in vtec if v),
            "polygon": text(entry.find(f"{CAP11}polygon")),
            "title": text(entry.find(f"{ATOM}title")),
            "summary": text(entry.find(f"{ATOM}summary")),
        })  # fmt: skip
    return rows


def amber_row(path: Path = AMBER) -> dict[str, str]:
    """The CAP 1.2 alert as one row; its English info block only (the Spanish one repeats it)."""
    alert = ET.parse(path).getroot()
    infos = alert.findall(f"{CAP12}info")
    info = next((i for i in infos if text(i.find(f"{CAP12}language")).startswith("en")), infos[0])
    area = info.find(f"{CAP12}area")
    geocode = pairs(area.find(f"{CAP12}geocode") if area is not None else None, CAP12)
    sent = utc(alert.findtext(f"{CAP12}sent"))
    return {
        "id": text(alert.find(f"{CAP12}identifier")),
        "updated": sent,
        "published": sent,
        # CAP: an absent <effective> means the alert is effective when sent.
        "effective": utc(info.findtext(f"{CAP12}effective")) or sent,
        "expires": utc(info.findtext(f"{CAP12}expires")),
        "status": text(alert.find(f"{CAP12}status")),
        "msg_type": text(alert.find(f"{CAP12}msgType")),
        "category": text(info.find(f"{CAP12}category")),
        "urgency": text(info.find(f"{CAP12}urgency")),
        "severity": text(info.find(f"{CAP12}severity")),
        "certainty": text(info.find(f"{CAP12}certainty")),
        "event": text(info.find(f"{CAP12}event")),
        "area_desc": text(area.find(f"{CAP12}areaDesc")) if area is not None else "",
        # SAME location codes are FIPS6 county codes (state and county with a leading 0).
        "fips6": " ".join(geocode.get("SAME", []) + geocode.get("FIPS6", [])),
        "ugc": " ".join(geocode.get("UGC", [])),
        "vtec": "",
        "polygon": text(area.find(f"{CAP12}polygon")) if area is not None else "",
        "title": text(info.find(f"{CAP12}headline")),
        "summary": text(info.find(f"{CAP12}description")),
    }


def build(out: Path = OUT) -> int:
    rows = feed_rows() + [amber_row()]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"CSV to write (default {OUT})")
    args = parser.parse_args()
    print(f"wrote {build(args.out)} alerts to {args.out}")


if __name__ == "__main__":
    main()
