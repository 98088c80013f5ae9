"""The privacy report page a privacy officer reads and acts on: ``GET /datasets/{name}/releases/{n}/privacy``,
and the same report as a PDF for the file of record (``.../privacy.pdf``, WeasyPrint).

A published release's report is public. A release awaiting approval (or rejected) is shown only to a
signed-in officer (the session cookie of ``/sign-in``) or a request carrying an officer's key
(``Authorization: Bearer`` or ``X-API-Key``); anyone else gets a page that says why, with the sign-in form.
The decision forms post to :mod:`api.web.officer_pages` (session and CSRF token).
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from anonymize.report import PrivacyReport
from api.auth import ApiKey, request_key
from api.deps import CatalogDep, EngineDep
from api.routes.privacy_view import class_size_chart, column_changes, previous_report
from api.web.report_explain import GLOSSARY, explain, policy_yaml
from api.web.report_pdf import pdf_response
from api.web.session import csrf_for, session_officer
from api.web.templating import render
from catalog.approvals import Approvals
from catalog.models import Release
from catalog.store import Catalog
from opendata.errors import Unauthorized

STATIC_DIR = FilePath(__file__).resolve().parent.parent / "static"

router = APIRouter(tags=["privacy review"])

Number = Annotated[int, Path(ge=1, le=2**31 - 1, description="release number")]
Outcome = Annotated[str | None, Query(max_length=20, pattern="^(approved|rejected)$",
                                      description="the decision just taken (the page says so)")]
HTML: dict[int | str, dict[str, Any]] = {200: {"content": {"text/html": {}}}}


def page_officer(request: Request) -> tuple[ApiKey | None, str]:
    """The officer reading the page (session, else a key header), or None and why not."""
    officer = session_officer(request)
    if officer is not None:
        return officer, ""
    try:
        key = request_key(request)
    except Unauthorized as exc:
        return None, str(exc)
    if key is None:
        return None, "This release is not published: only a signed-in privacy officer may read its report."
    if not key.may("officer"):
        return None, f"The API key '{key.name}' has the {key.role} role; this page needs an officer's key."
    return key, ""


def report_context(request: Request, catalog: Catalog, engine: Any, release: Release,
                   officer: ApiKey | None) -> dict[str, Any]:
    name, number = release.dataset, release.number
    report = PrivacyReport.model_validate_json(engine.storage.read_bytes(release, "privacy-report.json"))
    found = previous_report(catalog, engine.storage, release)
    previous_number, previous = found if found else (None, None)
    return {
        "title": f"Privacy report: {name} release {number}",
        "release": release, "report": report, "officer": officer, "chart": class_size_chart(report),
        "changes": column_changes(report, previous), "previous_number": previous_number,
        "decisions": Approvals(catalog).history(name, number),
        "blocking": [f for f in report.findings if f.blocking],
        "notes": [f for f in report.findings if not f.blocking],
        "api_base": f"/api/v1/datasets/{name}/releases/{number}",
        "dataset_public": bool(catalog.releases(name)), "explained": explain(report), "glossary": GLOSSARY,
        "policy_yaml": policy_yaml(report), "csrf": csrf_for(request), "examples": [
            c for c in report.columns if c.examples and any(e.before != e.after for e in c.examples)],
    }


def locked(request: Request, name: str, number: int, problem: str, key_sent: bool) -> HTMLResponse:
    return render(request, "privacy_locked.html", status=403 if key_sent else 401, name=name, number=number,
                  problem=problem, next=request.url.path, title=f"Privacy report: {name} release {number}")


def _guarded(request: Request, catalog: Catalog, name: str, number: int) -> tuple[Release, ApiKey | None,
                                                                                  HTMLResponse | None]:
    release = catalog.release(name, number, published_only=False)
    if release.state == "published":
        officer, _ = page_officer(request)
        return release, officer, None
    officer, problem = page_officer(request)
    if officer is None:
        sent = "authorization" in request.headers or "x-api-key" in request.headers
        return release, None, locked(request, name, number, problem, sent and "not valid" not in problem)
    return release, officer, None


@router.get("/datasets/{name}/releases/{number}/privacy", name="privacy_report_page", response_class=HTMLResponse,
            responses=HTML)
def privacy_report_page(
    request: Request, name: str, number: Number, catalog: CatalogDep, engine: EngineDep, decided: Outcome = None,
) -> HTMLResponse:
    """The privacy report of a release as a page: detections, actions, residual risk, decisions."""
    release, officer, refused = _guarded(request, catalog, name, number)
    if refused is not None:
        return refused
    context = report_context(request, catalog, engine, release, officer)
    response = render(request, "privacy_report.html", decided=decided, **context)
    if release.state != "published":
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/datasets/{name}/releases/{number}/privacy.pdf", name="privacy_report_pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def privacy_report_pdf(request: Request, name: str, number: Number, catalog: CatalogDep, engine: EngineDep) -> Response:
    """The privacy report as a PDF (the file of record), laid out by the page's print stylesheet."""
    release, officer, refused = _guarded(request, catalog, name, number)
    if refused is not None:
        return refused
    context = report_context(request, catalog, engine, release, officer)
    html = render(request, "privacy_report.html", pdf=True, decided=None, **context).body
    response = pdf_response(bytes(html).decode("utf-8"), f"{name}-release-{number}-privacy-report.pdf")
    if release.state != "published":
        response.headers["Cache-Control"] = "no-store"
    return response
