"""Each connector against the real thing: files on disk and over HTTP, a real PostgreSQL, SQLite,
a paginated JSON API on a local server, the NWS CAP/Atom feed and a GTFS zip feed."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import psycopg
import pytest

from opendata.errors import SourceError, SourceUnavailable
from publishers.job import load_job
from publishers.sources import connector_for
from tests import publishers_fixtures
from tests.publishers_fixtures import DATA, REPO, SHARED_DATA, LocalHttp, read_all, write_source_job

local_http = publishers_fixtures.local_http
postgres_url = publishers_fixtures.postgres_url

TEXT = [{"name": "id", "type": "integer"}, {"name": "place", "type": "string"}]


def test_csv_sniffs_encoding_delimiter_and_header(tmp_path: Path) -> None:
    data = tmp_path / "rows.csv"
    data.write_bytes("id;place\n1;Málaga\n2;Zürich\n".encode("cp1252"))
    job = write_source_job(tmp_path, "sniffed", {"type": "csv", "path": "rows.csv", "encoding": "auto",
                                                  "delimiter": "auto", "header": "auto"}, TEXT)
    table = read_all(job)
    assert table.column_names == ["id", "place"]
    assert table.column("place").to_pylist() == ["Málaga", "Zürich"]


def test_csv_with_declared_columns_and_no_header_keeps_leading_zeros(tmp_path: Path) -> None:
    (tmp_path / "rows.tsv").write_text("0042\tOslo\n0007\tBergen\n", encoding="utf-8")
    job = write_source_job(tmp_path, "declared", {"type": "csv", "path": "rows.tsv", "delimiter": "\t",
                                                   "header": False, "columns": ["id", "place"]}, TEXT)
    assert read_all(job).to_pylist() == [{"id": "0042", "place": "Oslo"}, {"id": "0007", "place": "Bergen"}]


def test_csv_utf8_byte_order_mark_is_not_part_of_the_first_name(tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_bytes(b"\xef\xbb\xbfid,place\n1,Lyon\n")
    job = write_source_job(tmp_path, "bom", {"type": "csv", "path": "rows.csv"}, TEXT)
    assert read_all(job).column_names == ["id", "place"]


def test_csv_over_http(tmp_path: Path, local_http: LocalHttp) -> None:
    local_http.file("/exports/rows.csv", b"id,place\n1,Quito\n2,Lima\n", "text/csv")
    job = write_source_job(tmp_path, "remote", {"type": "csv", "url": local_http.base + "/exports/rows.csv"}, TEXT)
    assert read_all(job).column("place").to_pylist() == ["Quito", "Lima"]


def test_csv_url_that_is_down_is_transient_and_missing_is_terminal(tmp_path: Path, local_http: LocalHttp) -> None:
    local_http.route("/down.csv", lambda *_: (503, {}, b"busy"))
    down = write_source_job(tmp_path / "a", "down", {"type": "csv", "url": local_http.base + "/down.csv"}, TEXT)
    with pytest.raises(SourceUnavailable, match="503"):
        read_all(down)
    gone = write_source_job(tmp_path / "b", "gone", {"type": "csv", "url": local_http.base + "/gone.csv"}, TEXT)
    with pytest.raises(SourceError, match="404"):
        read_all(gone)


def test_excel_sheet_by_name_local_and_over_http(tmp_path: Path, local_http: LocalHttp) -> None:
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "cover"
    book.active.append(["Agency export, do not edit"])
    sheet = book.create_sheet("inspections")
    sheet.append(["note"])
    sheet.append(["id", "place", "inspected"])
    sheet.append([1, "Porto", datetime(2024, 5, 1, 9, 30)])
    sheet.append([None, None, None])
    sheet.append([2, "Braga", None])
    book.save(tmp_path / "book.xlsx")
    source = {"type": "excel", "path": "book.xlsx", "sheet": "inspections", "header_row": 2}
    fields = [*TEXT, {"name": "inspected", "type": "datetime"}]
    table = read_all(write_source_job(tmp_path, "excel", source, fields))
    assert table.to_pylist() == [{"id": "1", "place": "Porto", "inspected": "2024-05-01T09:30:00"},
                                 {"id": "2", "place": "Braga", "inspected": None}]
    local_http.file("/book.xlsx", (tmp_path / "book.xlsx").read_bytes())
    remote = {**source, "url": local_http.base + "/book.xlsx"}
    del remote["path"]
    assert read_all(write_source_job(tmp_path / "r", "excel-remote", remote, fields)).num_rows == 2


def test_json_lines_nested_values_become_json_text(tmp_path: Path) -> None:
    lines = [{"id": 1, "place": "Accra", "tags": ["a", "b"], "ok": True}, {"id": 2, "place": None, "ok": False}]
    (tmp_path / "rows.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n\n", encoding="utf-8")
    table = read_all(write_source_job(tmp_path, "lines", {"type": "jsonl", "path": "rows.jsonl"}, TEXT))
    assert table.to_pylist() == [{"id": "1", "place": "Accra", "tags": '["a","b"]', "ok": "true"},
                                 {"id": "2", "place": None, "tags": None, "ok": "false"}]


def test_json_lines_refuses_a_bad_line_naming_it(tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_text('{"id": 1}\n{"id": 2,\n', encoding="utf-8")
    with pytest.raises(SourceError, match="line 2 is not JSON"):
        read_all(write_source_job(tmp_path, "bad-lines", {"type": "jsonl", "path": "rows.jsonl"}, TEXT))


def _people(start: int, stop: int) -> list[dict[str, object]]:
    return [{"id": i, "place": f"town {i}"} for i in range(start, stop)]


def test_http_json_follows_link_headers_with_an_auth_header_from_the_environment(
    tmp_path: Path, local_http: LocalHttp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENCY_API_TOKEN", "s3cret-token")

    def page(path: str, query: dict[str, list[str]], headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if headers.get("authorization") != "Bearer s3cret-token":
            return 401, {}, b'{"error": "unauthorised"}'
        number = int(query.get("page", ["1"])[0])
        link = {"Link": f'</v1/items?page={number + 1}>; rel="next"'} if number < 3 else {}
        body = json.dumps(_people(number * 10, number * 10 + 2)).encode()
        return 200, {"Content-Type": "application/json", **link}, body

    local_http.route("/v1/items", page)
    source = {"type": "http_json", "url": local_http.base + "/v1/items",
              "headers": {"Authorization": "Bearer ${AGENCY_API_TOKEN}"}, "pagination": {"style": "link"}}
    job_path = write_source_job(tmp_path, "linked", source, TEXT)
    table = read_all(job_path)
    assert table.column("id").to_pylist() == ["10", "11", "20", "21", "30", "31"]
    assert "s3cret-token" not in repr(load_job(job_path))
    assert load_job(job_path).redact("token s3cret-token here") == "token *** here"


def test_http_json_page_numbers_and_records_path(tmp_path: Path, local_http: LocalHttp) -> None:
    def page(path: str, query: dict[str, list[str]], headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        number, size = int(query["p"][0]), int(query["per_page"][0])
        rows = _people(0, 5)[(number - 1) * size: number * size]
        return 200, {}, json.dumps({"meta": {"page": number}, "result": {"rows": rows}}).encode()

    local_http.route("/paged", page)
    source = {"type": "http_json", "url": local_http.base + "/paged", "records": "result.rows",
              "pagination": {"style": "page", "page_param": "p", "size_param": "per_page", "page_size": 2}}
    assert read_all(write_source_job(tmp_path, "paged", source, TEXT)).num_rows == 5
    assert [q["p"] for p, q, _ in local_http.requests] == [["1"], ["2"], ["3"]]


def test_http_json_cursor_pagination(tmp_path: Path, local_http: LocalHttp) -> None:
    def page(path: str, query: dict[str, list[str]], headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        cursor = query.get("after", [None])[0]
        body = {"data": _people(0, 2), "next": "c2"} if cursor is None else {"data": _people(2, 3), "next": None}
        return 200, {}, json.dumps(body).encode()

    local_http.route("/cursor", page)
    source = {"type": "http_json", "url": local_http.base + "/cursor",
              "pagination": {"style": "cursor", "cursor_param": "after", "cursor_path": "next"}}
    assert read_all(write_source_job(tmp_path, "cursored", source, TEXT)).column("id").to_pylist() == ["0", "1", "2"]


def test_http_json_that_times_out_is_transient(tmp_path: Path, local_http: LocalHttp) -> None:
    import time

    def slow(*_: object) -> tuple[int, dict[str, str], bytes]:
        time.sleep(1.5)
        return 200, {}, b"[]"

    local_http.route("/slow", slow)
    source = {"type": "http_json", "url": local_http.base + "/slow", "timeout": 0.3}
    with pytest.raises(SourceUnavailable, match="did not answer"):
        read_all(write_source_job(tmp_path, "slow", source, TEXT))


def test_cap_atom_feed_gives_the_rows_of_the_published_alerts_csv(tmp_path: Path) -> None:
    feed = SHARED_DATA / "nws_cap" / "nws_atom_feed_example.xml"
    if not feed.exists():
        feed = REPO / "datasets" / "weather" / "data" / "nws_atom_feed_example.xml"
    table = read_all(write_source_job(tmp_path, "alerts", {"type": "cap_atom", "path": str(feed)}, TEXT))
    with open(REPO / "datasets" / "weather" / "data" / "alerts.csv", encoding="utf-8") as handle:
        expected = [{k: (v or None) for k, v in row.items()} for row in csv.DictReader(handle)][:163]
    assert table.num_rows == 163
    assert table.select(list(expected[0])).to_pylist() == expected  # the demo's columns; the source has more


def test_cap_12_alert_document_reads_its_english_info(tmp_path: Path) -> None:
    alert = REPO / "datasets" / "weather" / "data" / "cap_amber_alert_example.xml"
    row = read_all(write_source_job(tmp_path, "amber", {"type": "cap_atom", "path": str(alert)}, TEXT)).to_pylist()[0]
    assert row["event"] and row["summary"] and row["status"] == "Actual"
    assert row["effective"] == row["published"]  # CAP: no <effective> means effective when sent


def test_gtfs_zip_member_as_text_columns(tmp_path: Path) -> None:
    source = {"type": "gtfs", "path": str(DATA / "gtfs" / "sample_gtfs.zip"), "file": "stops.txt"}
    table = read_all(write_source_job(tmp_path, "stops", source, TEXT))
    assert table.column_names[:3] == ["stop_id", "stop_name", "stop_desc"]
    assert "FUR_CREEK_RES" in table.column("stop_id").to_pylist()
    assert table.column("stop_lat").to_pylist()[0] == "36.425288"  # text as published, not re-formatted
    missing = {**source, "file": "pathways.txt"}
    with pytest.raises(SourceError, match="no pathways.txt"):
        read_all(write_source_job(tmp_path / "m", "pathways", missing, TEXT))


def test_sqlite_table_in_chunks(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "agency.db")
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, place TEXT, score REAL, seen TEXT)")
    db.executemany("INSERT INTO items VALUES (?, ?, ?, ?)", [(i, f"p{i}", i / 4, None) for i in range(1, 251)])
    db.commit()
    db.close()
    job = load_job(write_source_job(tmp_path, "items", {"type": "sql", "url": "sqlite:///agency.db",
                                                         "table": "items", "chunk_rows": 100}, TEXT))
    batches = list(connector_for(job).batches(job))
    assert [b.num_rows for b in batches] == [100, 100, 50]
    assert batches[0].to_pylist()[1] == {"id": "2", "place": "p2", "score": "0.5", "seen": None}


def test_postgres_query_streams_in_chunks_from_a_real_server(tmp_path: Path, postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("DROP TABLE IF EXISTS readings")
        db.execute("CREATE TABLE readings (id bigint PRIMARY KEY, station text, value numeric, ok boolean, "
                   "taken timestamptz)")
        db.execute("INSERT INTO readings SELECT g, 'st' || (g % 7), g * 1.5, g % 2 = 0, "
                   "timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(1, 2500) g")
    source = {"type": "sql", "url": postgres_url, "query": "SELECT * FROM readings WHERE id <= 2345 ORDER BY id",
              "chunk_rows": 1000}
    job = load_job(write_source_job(tmp_path, "readings", source, TEXT))
    batches = list(connector_for(job).batches(job))
    assert [b.num_rows for b in batches] == [1000, 1000, 345]
    assert batches[0].to_pylist()[1] == {"id": "2", "station": "st2", "value": "3.0", "ok": "true",
                                         "taken": "2024-01-01T00:02:00+00:00"}


def test_postgres_down_is_transient_and_the_password_stays_out_of_the_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.publishers_fixtures import free_port

    monkeypatch.setenv("PG_PASSWORD", "hunter2-secret")
    url = f"postgresql://agency:${{PG_PASSWORD}}@127.0.0.1:{free_port()}/db"
    job = load_job(write_source_job(tmp_path, "down-db", {"type": "sql", "url": url, "table": "x"}, TEXT))
    with pytest.raises(SourceUnavailable) as caught:
        list(connector_for(job).batches(job))
    assert "hunter2-secret" not in job.redact(str(caught.value))
