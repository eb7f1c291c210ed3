"""Operator API (`X-Operator-Key`, one shop; design §8, I6): search, view, and change subscriptions.

    GET   /v1/shops/{shop_id}/subscriptions?status=&member_id=&limit=&offset=   newest first
    GET   /v1/shops/{shop_id}/subscriptions/{id}                 with its cycles, their orders and outcomes
    POST  /v1/shops/{shop_id}/subscriptions/{id}/pause           {"reason"?}
    POST  /v1/shops/{shop_id}/subscriptions/{id}/resume          next delivery: first cycle date from today
    POST  /v1/shops/{shop_id}/subscriptions/{id}/skip-next       {"reason"?}
    PATCH /v1/shops/{shop_id}/subscriptions/{id}/schedule        {"every"?, "unit"?, "next_cycle_on"?}
    PUT   /v1/shops/{shop_id}/subscriptions/{id}/lines           {"lines": [...]} from the next cycle on
    POST  /v1/shops/{shop_id}/subscriptions/{id}/cancel          {"when": "at_once"|"after_current_cycle"}

The key's SHA-256 is registered by checkout (`PUT /internal/v1/shops/{shop_id}/operator-key`). Another shop's
subscription is 404, like one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from delivery.shop_keys import PostgresOperatorKeys, operator_guard
from services.subscription.domain.schedule import Terms
from services.subscription.domain.subscription import Status
from services.subscription.entrypoints.http.schemas import CancelBody, LinesBody, ReasonBody, ScheduleBody
from services.subscription.entrypoints.http.views import detail_view, list_view, subscription_view
from services.subscription.handlers import Deps, managing, queries
from services.subscription.handlers.common import Actor, Requester
from services.subscription.ports import SubscriptionQuery

View = dict[str, Any]


def router(deps: Deps, keys: PostgresOperatorKeys) -> APIRouter:
    api = APIRouter(prefix="/v1/shops/{shop_id}/subscriptions", tags=["operator"],
                    dependencies=[Depends(operator_guard(keys.opens))])
    _read_routes(api, deps)
    _change_routes(api, deps)
    return api


def _operator(shop_id: str) -> Requester:
    return Requester(shop_id=shop_id, actor=Actor.OPERATOR)


def _read_routes(api: APIRouter, deps: Deps) -> None:
    @api.get("", summary="The shop's subscriptions, newest first; filter by status and member")
    async def search(shop_id: str, status: Status | None = None,
                     member_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
                     limit: Annotated[int, Query(ge=1, le=500)] = 50,
                     offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, list[View]]:
        query = SubscriptionQuery(status=status, member_id=member_id, limit=limit, offset=offset)
        found = await queries.search_subscriptions(deps, shop_id, query)
        return list_view(found, await queries.cards_expiring_first(deps, found))

    @api.get("/{subscription_id}", summary="One subscription with its cycles, their orders and outcomes")
    async def detail(shop_id: str, subscription_id: str) -> View:
        return detail_view(await queries.subscription_detail(deps, _operator(shop_id), subscription_id))


def _change_routes(api: APIRouter, deps: Deps) -> None:
    @api.post("/{subscription_id}/pause", summary="Pause: no order is generated until resumed")
    async def pause(shop_id: str, subscription_id: str, body: ReasonBody | None = None) -> View:
        reason = body.reason if body else None
        return subscription_view(await managing.pause_subscription(deps, _operator(shop_id), subscription_id,
                                                                   reason=reason))

    @api.post("/{subscription_id}/resume", summary="Resume: the next delivery is the first cycle date from today")
    async def resume(shop_id: str, subscription_id: str) -> View:
        return subscription_view(await managing.resume_subscription(deps, _operator(shop_id), subscription_id))

    @api.post("/{subscription_id}/skip-next", summary="Leave out the next delivery")
    async def skip_next(shop_id: str, subscription_id: str, body: ReasonBody | None = None) -> View:
        reason = body.reason if body else None
        return subscription_view(await managing.skip_next_cycle(deps, _operator(shop_id), subscription_id,
                                                                reason=reason))

    @api.patch("/{subscription_id}/schedule", summary="Change the cycle (every N day|week|month) or the next date")
    async def schedule(shop_id: str, subscription_id: str, body: ScheduleBody) -> View:
        terms = Terms.of(body.every, body.unit) if body.every is not None and body.unit is not None else None
        changed = await managing.change_schedule(deps, _operator(shop_id), subscription_id, terms=terms,
                                                 next_on=body.next_cycle_on)
        return subscription_view(changed)

    @api.put("/{subscription_id}/lines", summary="Change lines or quantities, from the next generated cycle on")
    async def lines(shop_id: str, subscription_id: str, body: LinesBody) -> View:
        changed = await managing.change_lines(deps, _operator(shop_id), subscription_id,
                                              [line.line() for line in body.lines])
        return subscription_view(changed)

    @api.post("/{subscription_id}/cancel", summary="Cancel at once, or after the current cycle")
    async def cancel(shop_id: str, subscription_id: str, body: CancelBody) -> View:
        return subscription_view(await managing.cancel_subscription(
            deps, _operator(shop_id), subscription_id, when=body.cancel_when, reason=body.reason))
