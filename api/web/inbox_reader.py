"""Reads releases' privacy reports for the inbox: a report missing or unreadable answers None, never fails."""

from __future__ import annotations

from typing import Any

from catalog.inbox import ReportReader
from catalog.models import Release
from catalog.storage import ReleaseStorage
from opendata.errors import OpendataError


def report_reader(storage: ReleaseStorage) -> ReportReader:
    def read(release: Release) -> dict[str, Any] | None:
        try:
            document = storage.read_json(release, "privacy-report.json")
        except (OpendataError, ValueError, OSError):
            return None
        return document if isinstance(document, dict) else None

    return read
