"""Cron schedules in words, in the job's time zone, on the pages and in the scheduler's listing."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendata.schedule_words import schedule_in_words
from tests.web_fixtures import build_catalog_home

CASES = [
    ("0 6 * * *", "daily at 06:00 America/Chicago"),
    ("15 * * * *", "every hour at :15"),
    ("0 * * * *", "every hour at :00"),
    ("30 7 * * 1-5", "weekdays at 07:30 America/Chicago"),
    ("30 7 * * mon-fri", "weekdays at 07:30 America/Chicago"),
    ("0 8 * * 6,0", "weekends at 08:00 America/Chicago"),
    ("0 8 * * sat,sun", "weekends at 08:00 America/Chicago"),
    ("0 9 * * 1", "every Monday at 09:00 America/Chicago"),
    ("5 4 * * 7", "every Sunday at 04:05 America/Chicago"),
    ("0 8 * * 1,3,5", "every Monday, Wednesday and Friday at 08:00 America/Chicago"),
    ("0 6,18 * * *", "daily at 06:00 and 18:00 America/Chicago"),
    ("0 0 1 * *", "monthly on the 1st at 00:00 America/Chicago"),
    ("30 2 15 * *", "monthly on the 15th at 02:30 America/Chicago"),
    ("0 3 22 * *", "monthly on the 22nd at 03:00 America/Chicago"),
    ("*/15 * * * *", "every 15 minutes"),
    ("*/5 * * * *", "every 5 minutes"),
    ("0 */6 * * *", "every 6 hours at :00 (from 00:00 America/Chicago)"),
    ("@daily", "daily at 00:00 America/Chicago"),
    ("@hourly", "every hour at :00"),
    # less common shapes: cron-descriptor's words, with the zone
    ("0 6 * 1 *", "at 06:00, only in January (America/Chicago)"),
    ("0 12 1-7 * 1", "at 12:00, between day 1 and 7 of the month, or on Monday (America/Chicago)"),
    ("0 9-17 * * 1-5", "every hour at :00 from 09:00 to 17:00, weekdays (America/Chicago)"),
    ("30 8-18 * * *", "every hour at :30 from 08:30 to 18:30, daily (America/Chicago)"),
    ("0 9-17 * * 1,2", "at 0 minutes past the hour, between 09:00 and 17:59, only on Monday and Tuesday "
     "(America/Chicago)"),
]


@pytest.mark.parametrize(("cron", "words"), CASES, ids=[c for c, _ in CASES])
def test_schedules_in_words(cron: str, words: str) -> None:
    assert schedule_in_words(cron, "America/Chicago") == words


@pytest.mark.parametrize("cron", ["61 * * * *", "bogus", "0 6 * *", "0 25 * * *", "* * * * * *"])
def test_what_is_not_cron_is_shown_as_it_is(cron: str) -> None:
    assert schedule_in_words(cron, "UTC") == cron


def test_no_schedule_is_no_words() -> None:
    assert schedule_in_words(None) == "" and schedule_in_words("  ") == ""


def test_the_dataset_page_and_the_cards_say_the_schedule_in_words(tmp_path: Path) -> None:
    home = build_catalog_home(tmp_path)
    client = home.client()
    page = client.get("/datasets/city-311-requests").text
    assert "daily at 06:00 UTC" in page and "<code>0 6 * * *</code>" in page  # the words, and the cron kept
    assert "every hour at :00" in client.get("/catalog").text  # air-quality's card
