"""Operator API (`X-Operator-Key`, one shop): card-method settings, carriers, mail, credentials, orders (search,
view, edit).

The settings are one document with an `ETag` (its version): `GET …/settings` and every settings write answer it,
and a write with `If-Match` is refused with 412 when the settings changed since (two operators editing at once never
overwrite each other silently; issue 14). What `GET …/settings` shows can be written back as it is: the card
method's read-only members are accepted and ignored.

Every settings change publishes the shop's full snapshot on `shops.settings`. Gateway credentials are
forwarded to the payment service and never stored, logged or returned: the settings say only whether
they are set.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Response

from services.checkout.domain import shop as rules
from services.checkout.domain.edits import EditRefused
from services.checkout.domain.order import OrderStatus
from services.checkout.domain.shop import Shop
from services.checkout.domain.values import jst_date
from services.checkout.entrypoints.http.auth import operator_guard
from services.checkout.entrypoints.http.errors import ApiError
from services.checkout.entrypoints.http.schemas import (
    AddMethodBody,
    CardMethodBody,
    CarriersBody,
    CredentialsBody,
    MailBody,
    OrderEditBody,
)
from services.checkout.entrypoints.http.views import order_summary, order_view, shop_view
from services.checkout.handlers import Deps, orders, shops
from services.checkout.ports import OrderQuery, PaymentServiceError

CARD = "escott_card"
PaymentNumberParam = Annotated[str | None, Query(pattern=r"^[0-9]{20}$")]
StatusParam = Literal["pending_payment", "completed", "rejected", "needs_review", "payment_failed"] | None
FromParam = Annotated[date | None, Query(alias="from", description="first order date (JST), inclusive")]
ToParam = Annotated[date | None, Query(alias="to", description="last order date (JST), inclusive")]
BuyerParam = Annotated[str | None, Query(min_length=1, description="part of the buyer's name, kana or e-mail")]
DayParam = Annotated[date | None, Query(alias="date", description="order date (JST); default today")]
LimitParam = Annotated[int, Query(ge=1, le=500)]
OffsetParam = Annotated[int, Query(ge=0)]
IfMatch = Annotated[str | None, Header(description="The `ETag` of the settings this change is based on (from GET "
                                       "…/settings or a previous write): 412 if they changed since. Optional.")]
PRECONDITION_FAILED = "precondition_failed"


def router(deps: Deps) -> APIRouter:
    api = APIRouter(prefix="/v1/shops/{shop_id}", tags=["operator"])
    operator = Depends(operator_guard(deps))
    _method_routes(api, deps, operator)
    _shop_routes(api, deps, operator)
    _order_routes(api, deps, operator)
    return api


def etag(shop: Shop) -> str:
    """The settings' entity tag: their version, which every change moves (issue 14)."""
    return f'"{shop.version}"'


def read_version(if_match: str | None) -> int | None:
    """The version an `If-Match` names (None: no condition, or `*`); another tag cannot match: 412."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise ApiError(412, PRECONDITION_FAILED, f"If-Match {if_match!r} is not an ETag of these settings: read "
                       "them again (GET …/settings)")
    return int(tag)


async def _change(deps: Deps, shop_id: str, change: Callable[[Shop], Shop], *, if_match: str | None,
                  response: Response) -> dict[str, Any]:
    try:
        changed = await shops.change_shop(deps, shop_id, change, read_version=read_version(if_match))
    except rules.SettingsError as exc:
        details = {"field": exc.field} if exc.field else {}
        raise ApiError(422, exc.code, exc.message, **details) from None
    except shops.SettingsChanged as exc:
        raise ApiError(412, PRECONDITION_FAILED, str(exc), etag=f'"{exc.current}"') from None
    response.headers["ETag"] = etag(changed)
    return shop_view(changed)


def _method_routes(api: APIRouter, deps: Deps, operator: Any) -> None:
    @api.post("/payment-methods", summary="Add the card method to the shop's list (not configured yet)")
    async def add_method(body: AddMethodBody, response: Response, if_match: IfMatch = None,
                         shop_id: str = operator) -> dict[str, Any]:
        return await _change(deps, shop_id, rules.add_card_method, if_match=if_match, response=response)

    @api.put(f"/payment-methods/{CARD}", summary="Configure the card method (full replacement; the read-only "
             "members of GET …/settings are accepted and ignored)")
    async def configure_method(body: CardMethodBody, response: Response, if_match: IfMatch = None,
                               shop_id: str = operator) -> dict[str, Any]:
        method = body.domain()
        return await _change(deps, shop_id, lambda shop: rules.configure_card_method(shop, method),
                             if_match=if_match, response=response)

    @api.put("/gateway-credentials", status_code=204, summary="Set e-SCOTT credentials (write-only)")
    async def put_credentials(body: CredentialsBody, if_match: IfMatch = None, shop_id: str = operator) -> Response:
        try:
            shop = await shops.set_gateway_credentials(deps, shop_id, body.domain(),
                                                       read_version=read_version(if_match))
        except shops.SettingsChanged as exc:
            raise ApiError(412, PRECONDITION_FAILED, str(exc), etag=f'"{exc.current}"') from None
        except PaymentServiceError as exc:
            if exc.refused:
                raise ApiError(422, "credentials_refused", f"credentials not saved: {exc}") from None
            raise ApiError(502, "payment_service_unavailable", f"credentials not saved: {exc}") from None
        return Response(status_code=204, headers={"ETag": etag(shop)})


def _shop_routes(api: APIRouter, deps: Deps, operator: Any) -> None:
    @api.get("/settings", summary="The shop's settings (never credentials: only whether they are set), with their "
             "ETag for If-Match on the writes below")
    async def get_settings(response: Response, shop_id: str = operator) -> dict[str, Any]:
        shop = await shops.get_shop(deps, shop_id)
        response.headers["ETag"] = etag(shop)
        return shop_view(shop)

    @api.put("/carriers", summary="Replace the carriers and which of them accept the card method")
    async def put_carriers(body: CarriersBody, response: Response, if_match: IfMatch = None,
                           shop_id: str = operator) -> dict[str, Any]:
        carriers = body.domain()
        return await _change(deps, shop_id, lambda shop: rules.set_carriers(shop, carriers), if_match=if_match,
                             response=response)

    @api.put("/mail", summary="Sender of the thanks mail and the address of the shop's copy")
    async def put_mail(body: MailBody, response: Response, if_match: IfMatch = None,
                       shop_id: str = operator) -> dict[str, Any]:
        mail = body.domain()
        return await _change(deps, shop_id, lambda shop: rules.set_mail(shop, mail), if_match=if_match,
                             response=response)


def _order_routes(api: APIRouter, deps: Deps, operator: Any) -> None:
    @api.get("/orders", summary="Search orders by payment number, status, order date (JST) and buyer")
    async def search(shop_id: str = operator, payment_number: PaymentNumberParam = None, status: StatusParam = None,
                     date_from: FromParam = None, date_to: ToParam = None, buyer: BuyerParam = None,
                     limit: LimitParam = 50, offset: OffsetParam = 0) -> dict[str, Any]:
        query = OrderQuery(payment_number=payment_number, status=OrderStatus(status) if status else None,
                           date_from=date_from, date_to=date_to, buyer=buyer, limit=limit, offset=offset)
        found = await orders.search_orders(deps, shop_id, query)
        return {"orders": [order_summary(o) for o in found], "limit": limit, "offset": offset}

    @api.get("/order-counts", summary="Counts of one order date (JST; default today): orders per status, and the "
             "decline codes of rejected and failed orders per buyer message (R16), most frequent first")
    async def counts(shop_id: str = operator, day: DayParam = None) -> dict[str, Any]:
        wanted = day or jst_date(deps.clock.now())
        found = await orders.day_counts(deps, shop_id, wanted)
        return {"date": wanted.isoformat(), "by_status": found.by_status,
                "declines": [{"buyer_message": message, "code": code, "orders": n}
                             for message, code, n in found.declines]}

    @api.get("/orders/{order_id}", summary="One order with its payment (method, number, installments, status)")
    async def get_order(order_id: str, shop_id: str = operator) -> dict[str, Any]:
        order = await orders.get_order(deps, shop_id, order_id)
        if order is None:
            raise ApiError(404, "order_not_found", f"no order {order_id!r} in this shop")
        return order_view(order)

    @api.patch("/orders/{order_id}", summary="Edit lines, shipping fee or fees of a completed, uncaptured order "
               "(the payment must then be updated before capture, R12)")
    async def edit_order(order_id: str, body: OrderEditBody, shop_id: str = operator) -> dict[str, Any]:
        if body.lines is None and body.shipping_fee is None and body.fees is None:
            raise ApiError(422, "edit_empty", "give lines, shipping_fee or fees to change")
        try:
            order = await orders.edit_order(deps, shop_id, order_id, edit=body.domain(),
                                             edited_by=body.edited_by)
        except EditRefused as exc:
            raise ApiError(409 if exc.conflict else 422, exc.code, exc.message) from None
        if order is None:
            raise ApiError(404, "order_not_found", f"no order {order_id!r} in this shop")
        return order_view(order)
