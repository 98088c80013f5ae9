"""Active alerts re-served as CAP 1.2 in Atom, each alert validated against the CAP 1.2 XSD (OASIS).

The alerts are the weather demo's rows (the NWS CAP/Atom snapshot and the CAP 1.2 AMBER example), published
with the demo's own Table Schema (its CAP polygons as geometry) through the real publish path."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from tests.api_fixtures import ApiHome, build_home
from tests.geo_fixtures import ALERTS_CSV, REPO, publish_typed, text_table

XSD = Path("/work/shared/data/nws_cap/CAP-v1.2.xsd")
if not XSD.is_file():
    XSD = REPO.parent / "shared" / "data" / "nws_cap" / "CAP-v1.2.xsd"
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"
AT = "2018-08-16T06:00:00Z"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> ApiHome:
    home = build_home(tmp_path_factory.mktemp("cap"))
    schema = json.loads((REPO / "datasets" / "weather" / "alerts.schema.json").read_text(encoding="utf-8"))
    columns = [f["name"] for f in schema["fields"]]
    publish_typed(home, "weather-alerts", text_table(ALERTS_CSV, columns), schema)
    return home


def source_alerts() -> list[dict[str, str]]:
    with open(ALERTS_CSV, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_active_alerts_validate_against_the_cap_12_schema(home: ApiHome) -> None:
    schema = xmlschema.XMLSchema(str(XSD))
    response = home.client().get("/api/v1/datasets/weather-alerts/alerts.atom", params={"at": AT})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    alerts = [entry.find(f"{ATOM}content/{CAP}alert") for entry in feed.findall(f"{ATOM}entry")]
    now = AT.removesuffix("Z")
    active = {a["id"]: a for a in source_alerts() if not a["expires"] or a["expires"] > now}
    assert len(alerts) == len(active) > 50
    for alert in alerts:
        assert alert is not None
        schema.validate(alert)  # raises with the element and the rule it breaks
    by_id = {a.findtext(f"{CAP}identifier"): a for a in alerts if a is not None}
    assert set(by_id) == set(active)
    for identifier, row in active.items():
        area = by_id[identifier].find(f"{CAP}info/{CAP}area")
        assert area is not None and area.findtext(f"{CAP}areaDesc") == row["area_desc"]
        polygons = [p.text for p in area.findall(f"{CAP}polygon")]
        assert polygons == ([row["polygon"]] if row["polygon"] else [])  # back to CAP's "lat,lon" order
        ugc = [g.findtext(f"{CAP}value") for g in area.findall(f"{CAP}geocode")
               if g.findtext(f"{CAP}valueName") == "UGC"]
        assert ugc == row["ugc"].split()


def test_expired_alerts_leave_the_feed(home: ApiHome) -> None:
    later = home.client().get("/api/v1/datasets/weather-alerts/alerts.atom", params={"at": "2018-08-30T00:00:00Z"})
    entries = ET.fromstring(later.content).findall(f"{ATOM}entry")
    assert len(entries) == sum(1 for a in source_alerts() if not a["expires"] or a["expires"] > "2018-08-30T00:00:00")


def test_a_dataset_without_cap_columns_is_refused(home: ApiHome) -> None:
    response = home.client().get("/api/v1/datasets/city-311-requests/alerts.atom")
    assert response.status_code == 400 and "CAP" in response.json()["error"]["message"]
