"""Webhook subscriptions (Standard Webhooks): made, listed, read, re-enabled and deleted with an API key.

``POST /api/v1/subscriptions`` ``{"url", "events", "dataset", "filter"}`` answers 201 with the subscription
and its ``whsec_`` signing secret. The ``filter`` is a rows query string (``contains=31.8,-86.55``,
``severity=Extreme&or=severity=Severe``) checked against the dataset's latest release: a delivery goes out
only when the new release has matching rows. ``GET .../{id}/deliveries`` is the delivery log.

``release.awaiting_approval`` (a release waits for a privacy officer: dataset, number, rows, a link to the
review page) may be subscribed to only with an officer or admin key; any other key gets a 403.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import AnyKey, PublishedDep, SettingsDep
from api.query import parse_rows_query
from api.webhook_target import check_target
from catalog.events import EVENT_TYPES, OFFICER_EVENT_TYPES
from catalog.store import utc_now
from catalog.webhooks import Delivery, Subscription, WebhookStore
from opendata.errors import Forbidden, QueryError

router = APIRouter(prefix="/api/v1/subscriptions", tags=["subscriptions"])


class SubscriptionCreate(BaseModel):
    url: str = Field(description="where deliveries are POSTed (http or https, a public address)")
    events: list[str] = Field(
        default=list(EVENT_TYPES), description="event types to deliver: release.published, release.withdrawn; "
        "with an officer or admin key also release.awaiting_approval",
    )
    dataset: str | None = Field(default=None, description="only this dataset's events (all datasets when unset)")
    filter: str | None = Field(
        default=None, description="a rows query string; only releases with matching rows are delivered "
        "(needs dataset)", examples=["contains=31.8,-86.55"],
    )


class SubscriptionPublic(BaseModel):
    id: str
    url: str
    events: list[str]
    dataset: str | None
    filter: str | None
    secret: str = Field(description="the Standard Webhooks signing secret (whsec_...)")
    active: bool
    failures: int = Field(description="failed attempts in a row")
    disabled_reason: str | None
    created_at: str


class SubscriptionsPublic(BaseModel):
    subscriptions: list[SubscriptionPublic]


class DeliveriesPublic(BaseModel):
    subscription: str
    deliveries: list[Delivery]


def _public(found: Subscription) -> SubscriptionPublic:
    return SubscriptionPublic(
        id=found.id, url=found.url, events=found.event_types, dataset=found.dataset, filter=found.row_filter,
        secret=found.secret, active=found.active, failures=found.failures, disabled_reason=found.disabled_reason,
        created_at=found.created_at,
    )


def _store(request: Request) -> WebhookStore:
    store: WebhookStore = request.app.state.webhooks
    return store


@router.post("", name="create_subscription", response_model=SubscriptionPublic, status_code=201,
             description="Subscribe a URL to release events (needs an API key).")
async def create_subscription(
    body: SubscriptionCreate, request: Request, key: AnyKey, published: PublishedDep, settings: SettingsDep,
) -> Any:
    allowed = (*EVENT_TYPES, *OFFICER_EVENT_TYPES)
    if not body.events or any(kind not in allowed for kind in body.events):
        raise QueryError(f"events must list some of {', '.join(allowed)}", parameter="events")
    officers_only = sorted(set(body.events) & set(OFFICER_EVENT_TYPES))
    if officers_only and not key.may("officer"):
        raise Forbidden(f"'{officers_only[0]}' is for privacy officers: the API key '{key.name}' has the "
                        f"{key.role} role; subscribe with an officer or admin key (opendata keys create NAME "
                        "--role officer)")
    if body.dataset is not None:
        if officers_only:  # an officer may follow a dataset whose releases all still wait
            await run_in_threadpool(request.app.state.catalog.dataset, body.dataset, published_only=False)
        else:
            published.dataset(body.dataset)
    if body.filter:
        if body.dataset is None:
            raise QueryError("a row filter needs a dataset to filter the rows of", parameter="filter")
        parse_rows_query(published.release(body.dataset), parse_qsl(body.filter, keep_blank_values=True))
    await run_in_threadpool(check_target, body.url, settings.webhook_allow_private_targets)
    made = await run_in_threadpool(
        _store(request).create, key.id, body.url, body.events, body.dataset, body.filter or None, utc_now()
    )
    return _public(made)


@router.get("", name="list_subscriptions", response_model=SubscriptionsPublic,
            description="The subscriptions of the request's API key.")
def list_subscriptions(request: Request, key: AnyKey) -> Any:
    return SubscriptionsPublic(subscriptions=[_public(s) for s in _store(request).owned(key.id)])


@router.get("/{subscription_id}", name="get_subscription", response_model=SubscriptionPublic)
def get_subscription(subscription_id: str, request: Request, key: AnyKey) -> Any:
    return _public(_store(request).get(subscription_id, key.id))


@router.post("/{subscription_id}/enable", name="enable_subscription", response_model=SubscriptionPublic,
             description="Enable a subscription again (after it was disabled for repeated failures).")
def enable_subscription(subscription_id: str, request: Request, key: AnyKey) -> Any:
    return _public(_store(request).enable(subscription_id, key.id))


@router.get("/{subscription_id}/deliveries", name="subscription_deliveries", response_model=DeliveriesPublic,
            description="The delivery log: each delivery's state, attempts, last HTTP status or error.")
def subscription_deliveries(
    subscription_id: str, request: Request, key: AnyKey,
    limit: Annotated[int, Query(ge=1, le=1000, description="newest deliveries to return")] = 100,
) -> Any:
    store = _store(request)
    store.get(subscription_id, key.id)
    return DeliveriesPublic(subscription=subscription_id, deliveries=store.deliveries(subscription_id, limit))


@router.delete("/{subscription_id}", name="delete_subscription", status_code=204, response_class=Response)
def delete_subscription(subscription_id: str, request: Request, key: AnyKey) -> Response:
    _store(request).delete(subscription_id, key.id)
    return Response(status_code=204)
