"""E-mail to privacy officers when a release starts waiting for their decision (SMTP, standard library).

Sent once, right after the catalog commit that makes the release ``awaiting-approval``, to the addresses of
``OPENDATA_OFFICER_EMAILS`` through ``OPENDATA_SMTP_HOST`` (STARTTLS and login when configured). Nothing
here can fail a run: a refused or unreachable server is logged (logger ``opendata.notify``) and recorded as
one JSON line in ``HOME/private/notifications.jsonl``, as is every message sent.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

from catalog.models import Release
from catalog.store import utc_now
from opendata.settings import Settings

log = logging.getLogger("opendata.notify")


@dataclass(frozen=True)
class Notification:
    """What became of one notification: sent, skipped (no SMTP server or no address), or failed, and why."""

    outcome: Literal["sent", "skipped", "failed"]
    recipients: tuple[str, ...]
    detail: str = ""


def recipients(settings: Settings) -> tuple[str, ...]:
    return tuple(a.strip() for a in settings.officer_emails.split(",") if a.strip())


def review_url(settings: Settings, release: Release) -> str:
    base = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    return f"{base}/datasets/{release.dataset}/releases/{release.number}/privacy"


def message(settings: Settings, release: Release, title: str, to: tuple[str, ...]) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = settings.smtp_from
    mail["To"] = ", ".join(to)
    mail["Subject"] = f"Release {release.number} of {release.dataset} awaits your approval"
    base = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    mail.set_content(
        f"Release {release.number} of {title} ({release.dataset}) waits for a privacy officer's decision.\n\n"
        f"Rows: {release.rows:,}\nMade: {release.created_at} (run {release.run_id})\n\n"
        f"Read its privacy report and decide:\n{review_url(settings, release)}\n\n"
        f"Everything waiting: {base}/approvals\n"
        "It stays unpublished until an officer approves it.\n"
    )
    return mail


def _record(settings: Settings, release: Release, result: Notification) -> None:
    line = {"at": utc_now(), "event": "release.awaiting_approval", "dataset": release.dataset,
            "release": release.number, "outcome": result.outcome, "recipients": list(result.recipients),
            "detail": result.detail}
    try:
        settings.paths.private.mkdir(parents=True, exist_ok=True)
        with open(settings.paths.private / "notifications.jsonl", "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")
    except OSError as exc:
        log.warning("could not record the notification of %s release %s: %s", release.dataset, release.number, exc)


def notify_awaiting_approval(settings: Settings, release: Release, title: str | None = None) -> Notification:
    """Tell the officers a release waits; never raises (the run that made the release goes on)."""
    to = recipients(settings)
    if not settings.smtp_host or not to:
        result = Notification("skipped", to, "no SMTP server (OPENDATA_SMTP_HOST)" if not settings.smtp_host
                              else "no addresses (OPENDATA_OFFICER_EMAILS)")
        return result
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                smtp.login(settings.smtp_username, password)
            refused = smtp.send_message(message(settings, release, title or release.dataset, to))
        result = Notification("sent", to, f"refused by the server: {', '.join(refused)}" if refused else "")
    except (OSError, smtplib.SMTPException) as exc:
        result = Notification("failed", to, f"{type(exc).__name__}: {exc}"[:500])
        log.warning("e-mail to officers about %s release %s not sent (%s:%s): %s", release.dataset,
                    release.number, settings.smtp_host, settings.smtp_port, result.detail)
    _record(settings, release, result)
    return result
