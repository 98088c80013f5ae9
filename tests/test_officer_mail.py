"""Officers hear of a release that starts waiting, by e-mail through a real SMTP server (aiosmtpd on loopback);
a server that cannot be reached does not fail the run, and the failure is recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest

from opendata.settings import Settings
from publishers.runner import run_job
from tests.conftest import PEOPLE_PRIVACY, JobWriter
from tests.web_fixtures import free_port

WAITING = {**PEOPLE_PRIVACY, "requires_approval": True}


class Inbox:
    """aiosmtpd handler: keeps each message it receives, with its envelope."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def notifications(settings: Settings) -> list[dict[str, Any]]:
    path = settings.paths.private / "notifications.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_officers_get_an_email_when_a_release_starts_waiting(
    settings: Settings, write_job: JobWriter, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    configured = settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": port, "officer_emails": "dana@agency.test, lee@agency.test",
        "smtp_from": "catalog@agency.test", "public_url": "https://data.agency.test"})
    result = run_job(write_job(privacy=WAITING), configured)
    assert result.run.state == "awaiting-approval"
    ((sender, to, mail),) = inbox.received
    assert sender == "catalog@agency.test" and to == ["dana@agency.test", "lee@agency.test"]
    assert mail["Subject"] == "Release 1 of service-requests awaits your approval"
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "https://data.agency.test/datasets/service-requests/releases/1/privacy" in body
    assert "https://data.agency.test/approvals" in body and "Rows: 4" in body
    assert "maria" not in body.lower()  # nothing of the source goes into the mail
    (line,) = notifications(configured)
    assert line["outcome"] == "sent" and line["event"] == "release.awaiting_approval"
    published = run_job(write_job(privacy=PEOPLE_PRIVACY), configured)  # no approval asked: no mail
    assert published.run.state == "succeeded" and len(inbox.received) == 1


def test_an_unreachable_smtp_server_does_not_fail_the_run(
    settings: Settings, write_job: JobWriter, caplog: pytest.LogCaptureFixture
) -> None:
    closed = free_port()  # nothing listens there
    configured = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": closed,
                                             "officer_emails": "dana@agency.test", "smtp_timeout_seconds": 2})
    result = run_job(write_job(privacy=WAITING), configured)
    assert result.run.state == "awaiting-approval" and result.release is not None
    (line,) = notifications(configured)
    assert line["outcome"] == "failed" and "ConnectionRefusedError" in line["detail"]
    assert any("not sent" in r.getMessage() for r in caplog.records if r.name == "opendata.notify")
