"""The privacy officer's pages: sign in and out, the inbox of releases awaiting a decision, the decision forms.

    GET  /sign-in                          the form: an officer's API key, exchanged once for a session cookie
    POST /sign-in                          checks the key, sets the cookie, goes on to ``next``
    POST /sign-out                         ends the session (CSRF token)
    GET  /approvals                        every release awaiting a decision, oldest first, with its changes
    POST /datasets/{name}/releases/{n}/approve   approve and publish (reason, CSRF token): one deliberate action
    POST /datasets/{name}/releases/{n}/reject    first a confirmation page, then (confirm=yes) the rejection

Every form works without JavaScript. A refused form answers an HTML page that says why (people read these).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import KeyResolver
from api.deps import CatalogDep, EngineDep
from api.routes.privacy_page import report_context
from api.web.inbox_reader import report_reader
from api.web.session import COOKIE, base_origin, check_form, session_officer, sessions
from api.web.templating import render
from catalog.approvals import MIN_REASON, Approvals, Decision
from catalog.inbox import pending_releases
from opendata.errors import ApprovalError, CatalogError, Forbidden

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

Number = Annotated[int, Path(ge=1, le=2**31 - 1)]
Next = Annotated[str, Query(max_length=500)]
FormText = Annotated[str, Form(max_length=4000)]


def safe_next(target: str | None) -> str:
    """Only a path of this site (no scheme, no host, no ``//``): sign-in never sends anyone elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/approvals"
    return target


def refused(request: Request, problem: str, status: int = 403) -> HTMLResponse:
    return render(request, "officer_problem.html", status=status, title="Not allowed", problem=problem)


@router.get("/sign-in", name="web_sign_in")
def sign_in_page(request: Request, next: Next = "/approvals") -> HTMLResponse:
    officer = session_officer(request)
    return render(request, "sign_in.html", title="Sign in", next=safe_next(next), officer=officer, problem=None,
                  signed_out="signed_out" in request.query_params)


@router.post("/sign-in", name="web_sign_in_post")
def sign_in(request: Request, key: FormText = "", next: FormText = "/approvals") -> Response:
    origin = request.headers.get("origin")
    if origin is not None and origin != "null" and origin.rstrip("/") != base_origin(request):
        return refused(request, "sign in from this site's own sign-in page")  # no sign-in from another site
    resolver: KeyResolver = request.app.state.key_resolver
    found = resolver.resolve(key.strip()) if key.strip() else None
    problem = None
    if found is None:
        problem = "That key is not valid (unknown or revoked). Use an officer's key made with `opendata keys create`."
    elif not found.may("officer"):
        problem = f"The key '{found.name}' has the {found.role} role; signing in needs an officer's or admin's key."
    if problem is not None or found is None:
        return render(request, "sign_in.html", status=401 if found is None else 403, title="Sign in",
                      next=safe_next(next), officer=None, problem=problem, signed_out=False)
    response = RedirectResponse(safe_next(next), status_code=303)
    sessions(request).set_cookie(response, sessions(request).issue(found))
    return response


@router.post("/sign-out", name="web_sign_out")
def sign_out(request: Request, csrf: FormText = "") -> Response:
    try:
        check_form(request, csrf)
    except Forbidden as exc:
        return refused(request, str(exc))
    sessions(request).sign_out(request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/sign-in?signed_out=1", status_code=303)
    sessions(request).clear_cookie(response)
    return response


@router.get("/approvals", name="web_approvals")
def approvals_page(request: Request, catalog: CatalogDep, engine: EngineDep) -> Response:
    officer = session_officer(request)
    if officer is None:
        return RedirectResponse("/sign-in?next=/approvals", status_code=303)
    pending = pending_releases(catalog, report_reader(engine.storage))
    response = render(request, "approvals.html", title="Releases awaiting approval", pending=pending,
                      officer=officer)
    response.headers["Cache-Control"] = "no-store"
    return response


def _decide(request: Request, catalog: CatalogDep, engine: EngineDep, name: str, number: int,
            decision: Decision, reason: str, csrf: str) -> Response:
    try:
        officer = check_form(request, csrf)
    except Forbidden as exc:
        return refused(request, str(exc))
    try:
        Approvals(catalog).decide(name, number, decision, by=officer.name, role=officer.role, reason=reason, via="web")
    except (ApprovalError, CatalogError) as exc:
        try:
            release = catalog.release(name, number, published_only=False)
        except CatalogError:
            return refused(request, str(exc), status=404)
        context = report_context(request, catalog, engine, release, officer)
        return render(request, "privacy_report.html", status=409 if release.state != "awaiting-approval" else 400,
                      decided=None, problem=str(exc), **context)
    return RedirectResponse(f"/datasets/{name}/releases/{number}/privacy?decided={decision}", status_code=303)


@router.post("/datasets/{name}/releases/{number}/approve", name="web_approve")
def approve(request: Request, name: str, number: Number, catalog: CatalogDep, engine: EngineDep,
            reason: FormText = "", csrf: FormText = "") -> Response:
    return _decide(request, catalog, engine, name, number, "approved", reason, csrf)


@router.post("/datasets/{name}/releases/{number}/reject", name="web_reject")
def reject(request: Request, name: str, number: Number, catalog: CatalogDep, engine: EngineDep,
           reason: FormText = "", csrf: FormText = "", confirm: FormText = "") -> Response:
    if confirm != "yes":  # the confirmation step: nothing changes until the officer says yes on its own page
        try:
            officer = check_form(request, csrf)
            release = catalog.release(name, number, published_only=False)
        except Forbidden as exc:
            return refused(request, str(exc))
        except CatalogError as exc:
            return refused(request, str(exc), status=404)
        if len(reason.strip()) < MIN_REASON or release.state != "awaiting-approval":
            return _decide(request, catalog, engine, name, number, "rejected", reason, csrf)  # says why not
        return render(request, "reject_confirm.html", title=f"Reject release {number} of {name}?", release=release,
                      reason=reason.strip(), csrf=csrf, officer=officer)
    return _decide(request, catalog, engine, name, number, "rejected", reason, csrf)
