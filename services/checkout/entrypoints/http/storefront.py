"""Storefront API (`X-Storefront-Key`, one shop): card availability, submitting a checkout, its outcome, and
one order of the shop as its buyer may see it (`GET /v1/orders/{order_id}`, e.g. a renewal order).

`POST /v1/checkouts` validates at once (422 with the reason codes of R1-R10), then places the order in its own
transaction (`OrderPlaced` through the outbox), and answers 202. Outcomes are
200 when final (completed, rejected, needs_review) and 202 while still in progress; `?wait=N` (≤ 30 s)
holds the answer until the outcome is final or the time is up. A new card in a shop with 3-D Secure on (design
§6.7) answers 200 `action_required` once the gateway form is ready: `action` has the URL and the fields the
storefront auto-submits from the buyer's browser (POST); the order is `awaiting_authentication` until the buyer
comes back (the storefront's `return_url` page then reads the outcome with `?wait=N&until=final`) or the deadline
passes (rejected, authentication_abandoned).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from delivery.idempotency import REASON_CODE, IdempotencyKeyReused
from services.checkout import translate
from services.checkout.domain.rules import CartSummary
from services.checkout.domain.shop import Shop
from services.checkout.domain.values import CartType
from services.checkout.entrypoints.http.auth import storefront_guard
from services.checkout.entrypoints.http.errors import ApiError
from services.checkout.entrypoints.http.schemas import CheckoutBody
from services.checkout.entrypoints.http.views import availability_view, outcome_view, storefront_order_view
from services.checkout.handlers import Deps, checkouts, orders
from services.checkout.handlers.checkouts import CheckoutOutcome

MAX_WAIT_S = 30.0
UnknownFees = Annotated[list[str] | None, Query(description="names of fees 'to be advised' (repeatable)")]
Wait = Query(0.0, ge=0, le=MAX_WAIT_S, description="seconds to wait for a final outcome")
Until = Annotated[Literal["settled", "final"], Query(
    description="what `wait` waits for: `settled` (default) = final or action_required (3-D Secure); `final` = only a "
                "final outcome (the buyer is back from the gateway, design §6.7)")]


def router(deps: Deps) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["storefront"])
    storefront = Depends(storefront_guard(deps))
    _availability_route(api, deps, storefront)
    _checkout_routes(api, deps, storefront)
    _order_routes(api, deps, storefront)
    return api


def _availability_route(api: APIRouter, deps: Deps, storefront: Any) -> None:
    @api.get("/payment-methods/escott_card/availability", summary="Is the card method offered for this cart?")
    async def availability(cart_type: Literal["three_step", "zero_step", "subscription"],
                           amount: int = Query(ge=0, description="cart total: lines + shipping + fees (JPY)"),
                           carrier_id: str | None = None, member_id: str | None = None,
                           subscription: bool = Query(default=False, description="the cart holds subscription items"),
                           shipping_fee_known: bool = True,
                           unknown_fees: UnknownFees = None,
                           shop: Shop = storefront) -> dict[str, object]:
        cart = CartSummary(shop_id=shop.shop_id, cart_type=CartType(cart_type), amount=amount, carrier_id=carrier_id,
                           has_subscription=subscription or cart_type == "subscription", member_id=member_id,
                           unknown_fees=tuple(unknown_fees or ()), shipping_fee_known=shipping_fee_known)
        return availability_view(await checkouts.card_availability(deps, shop, cart))


def _checkout_routes(api: APIRouter, deps: Deps, storefront: Any) -> None:
    @api.post("/checkouts", status_code=202, summary="Submit a checkout (CheckoutRequested v1)")
    async def submit(body: CheckoutBody, wait: float = Wait, shop: Shop = storefront) -> JSONResponse:
        if body.shop_id is not None and body.shop_id != shop.shop_id:
            raise ApiError(404, "shop_not_found", f"no shop {body.shop_id!r} for this storefront key")
        try:
            checkout = translate.incoming_checkout(body.event(shop.shop_id))
            outcome, _ = await checkouts.submit_checkout(deps, shop, checkout, wait_s=wait)
        except checkouts.CheckoutRefused as exc:
            first = exc.rejections[0]
            raise ApiError(422, first.code, first.message,
                           rejections=[{"code": r.code, "rule": r.rule, "message": r.message}
                                       for r in exc.rejections],
                           errors=[{"loc": ["body", *checkouts.REJECTION_FIELDS[r.code]], "msg": r.message,
                                    "type": r.code} for r in exc.rejections if r.code in checkouts.REJECTION_FIELDS],
                           ) from None
        except IdempotencyKeyReused as exc:
            raise ApiError(409, REASON_CODE, str(exc), errors=[
                {"loc": ["body", *field.split(".")], "msg": "differs from the first submission of this checkout_id",
                 "type": REASON_CODE} for field in exc.fields]) from None
        return _answer(outcome, deps)

    @api.get("/checkouts/{checkout_id}", summary="The outcome of a checkout, optionally waiting for it")
    async def outcome(checkout_id: str, wait: float = Wait, until: Until = "settled",
                      shop: Shop = storefront) -> JSONResponse:
        found = await checkouts.checkout_outcome(deps, shop.shop_id, checkout_id, wait_s=wait,
                                                 final_only=until == "final")
        if found is None:
            raise ApiError(404, "checkout_not_found", f"no checkout {checkout_id!r} for this shop (yet)")
        return _answer(found, deps)


def _order_routes(api: APIRouter, deps: Deps, storefront: Any) -> None:
    @api.get("/orders/{order_id}", summary="One order of this shop as its buyer may see it (e.g. a renewal order "
             "named by the subscription's my-page): status, payment without raw codes, skip reason, retry time")
    async def order(order_id: str, shop: Shop = storefront) -> dict[str, Any]:
        found = await orders.get_order(deps, shop.shop_id, order_id)
        if found is None:
            raise ApiError(404, "order_not_found", f"no order {order_id!r} in this shop")
        return storefront_order_view(found)


def _answer(outcome: CheckoutOutcome, deps: Deps) -> JSONResponse:
    """200 when final or when the buyer must act (3-D Secure: `action_required` with the form), else 202."""
    done = outcome.final or outcome.action_required
    return JSONResponse(outcome_view(outcome, deps.sealer), status_code=200 if done else 202)

