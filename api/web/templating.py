"""Jinja2 templates of the HTML pages, with the few filters they use."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup

from api.url_templates import url_for as route_url
from opendata.schedule_words import schedule_in_words

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

templates = Jinja2Templates(directory=TEMPLATES_DIR)


def thousands(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else ("" if value is None else str(value))


def when(value: str | None) -> str:
    """An ISO timestamp as 'YYYY-MM-DD HH:MM UTC' (what the catalog stores is UTC)."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M") + (" UTC" if moment.utcoffset() is not None else "")


def seconds_between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    try:
        first = datetime.fromisoformat(start.replace("Z", "+00:00"))
        last = datetime.fromisoformat(end.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max((last - first).total_seconds(), 0.0)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 1 else "< 1 s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def paragraphs(text: str | None) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*", text or "") if p.strip()]


def first_sentence(text: str | None, limit: int = 220) -> str:
    first = paragraphs(text)[0] if paragraphs(text) else ""
    return first if len(first) <= limit else first[: limit - 1].rsplit(" ", 1)[0] + "…"


def json_ld(value: Any) -> Markup:
    """JSON for a <script type="application/ld+json"> block; '<' is escaped so no tag can close it."""
    text = json.dumps(value, ensure_ascii=False, indent=1).replace("<", "\\u003c").replace(">", "\\u003e")
    return Markup(text)  # noqa: S704 - escaped above; JSON, not HTML


def params_text(params: dict[str, object]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def signed_in(request: Request) -> Any:
    """The officer signed in on this request's session (the header shows who, and a sign-out form), or None."""
    from api.web.session import COOKIE, session_officer

    if COOKIE not in request.cookies or getattr(request.app.state, "sessions", None) is None:
        return None
    return session_officer(request)


def csrf_token(request: Request) -> str:
    from api.web.session import csrf_for

    return csrf_for(request) if getattr(request.app.state, "sessions", None) is not None else ""


@pass_context
def url_for(context: dict[str, Any], name: str, /, **path_params: Any) -> str:
    """Starlette's ``url_for`` for templates, each route's URL found once (``api.url_templates``)."""
    return route_url(context["request"], name, **path_params)


templates.env.globals["url_for"] = url_for
templates.env.filters.update(
    thousands=thousands, when=when, duration=duration, paragraphs=paragraphs, first_sentence=first_sentence,
    json_ld=json_ld, schedule_words=schedule_in_words, params=params_text,
)
templates.env.globals.update(signed_in=signed_in, csrf_token=csrf_token)


def precompile() -> None:
    """Compile every template now, so no visitor pays for it."""
    for path in TEMPLATES_DIR.glob("*.html"):
        templates.env.get_template(path.name)


precompile()


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    response: HTMLResponse = templates.TemplateResponse(request, template, context, status_code=status)
    return response
