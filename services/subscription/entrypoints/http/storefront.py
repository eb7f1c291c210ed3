"""Storefront API (`X-Storefront-Key` + the member id, as the shop's my-page calls it; design §8, I6).

    GET  /v1/shops/{shop_id}/members/{member_id}/subscriptions                  the member's subscriptions
    GET  /v1/shops/{shop_id}/members/{member_id}/subscriptions/{id}             one, with its cycles
    POST /v1/shops/{shop_id}/members/{member_id}/subscriptions/{id}/skip-next   {"reason"?}
    POST /v1/shops/{shop_id}/members/{member_id}/subscriptions/{id}/pause       {"reason"?}
    POST /v1/shops/{shop_id}/members/{member_id}/subscriptions/{id}/cancel      {"when", "reason"?}

The storefront vouches for the member (it authenticated the buyer); the key opens only its own shop. Another
member's or shop's subscription is 404, like one that does not exist. Checkout registers the key's SHA-256
(`PUT /internal/v1/shops/{shop_id}/storefront-key`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from delivery.shop_keys import PostgresStorefrontKeys, storefront_guard
from services.subscription.entrypoints.http.schemas import CancelBody, ReasonBody
from services.subscription.entrypoints.http.views import detail_view, list_view, subscription_view
from services.subscription.handlers import Deps, managing, queries
from services.subscription.handlers.common import Actor, Requester
from services.subscription.ports import SubscriptionQuery

View = dict[str, Any]
MemberId = Annotated[str, Path(min_length=1, max_length=128)]
MEMBER_LIMIT = 100


def router(deps: Deps, keys: PostgresStorefrontKeys) -> APIRouter:
    api = APIRouter(prefix="/v1/shops/{shop_id}/members/{member_id}/subscriptions", tags=["storefront"],
                    dependencies=[Depends(storefront_guard(keys.opens))])

    @api.get("", summary="The member's subscriptions, newest first")
    async def mine(shop_id: str, member_id: MemberId) -> dict[str, list[View]]:
        found = await queries.search_subscriptions(deps, shop_id, SubscriptionQuery(member_id=member_id,
                                                                                     limit=MEMBER_LIMIT))
        return list_view(found, await queries.cards_expiring_first(deps, found))

    @api.get("/{subscription_id}", summary="One of the member's subscriptions, with its cycles")
    async def detail(shop_id: str, member_id: MemberId, subscription_id: str) -> View:
        return detail_view(await queries.subscription_detail(deps, _buyer(shop_id, member_id), subscription_id))

    _change_routes(api, deps)
    return api


def _buyer(shop_id: str, member_id: str) -> Requester:
    return Requester(shop_id=shop_id, actor=Actor.BUYER, member_id=member_id)


def _change_routes(api: APIRouter, deps: Deps) -> None:
    @api.post("/{subscription_id}/skip-next", summary="Leave out the next delivery")
    async def skip_next(shop_id: str, member_id: MemberId, subscription_id: str,
                        body: ReasonBody | None = None) -> View:
        changed = await managing.skip_next_cycle(deps, _buyer(shop_id, member_id), subscription_id,
                                                 reason=body.reason if body else None)
        return subscription_view(changed)

    @api.post("/{subscription_id}/pause", summary="Pause: no order is generated until the shop resumes it")
    async def pause(shop_id: str, member_id: MemberId, subscription_id: str,
                    body: ReasonBody | None = None) -> View:
        changed = await managing.pause_subscription(deps, _buyer(shop_id, member_id), subscription_id,
                                                    reason=body.reason if body else None)
        return subscription_view(changed)

    @api.post("/{subscription_id}/cancel", summary="Cancel at once, or after the current cycle")
    async def cancel(shop_id: str, member_id: MemberId, subscription_id: str, body: CancelBody) -> View:
        changed = await managing.cancel_subscription(deps, _buyer(shop_id, member_id), subscription_id,
                                                     when=body.cancel_when, reason=body.reason)
        return subscription_view(changed)
