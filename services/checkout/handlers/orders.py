"""Operator views and edits of orders, always within the operator's own shop (I6)."""

from __future__ import annotations

from datetime import date

from delivery.logs import get_logger
from services.checkout import translate
from services.checkout.domain.edits import OrderEdit
from services.checkout.domain.edits import edit_order as edit_order_rules
from services.checkout.domain.order import Order
from services.checkout.handlers.deps import Deps
from services.checkout.ports import DayCounts, OrderQuery

log = get_logger(__name__)


async def search_orders(deps: Deps, shop_id: str, query: OrderQuery) -> list[Order]:
    async with deps.uow() as uow:
        return await uow.orders.search(shop_id, query)


async def day_counts(deps: Deps, shop_id: str, day: date) -> DayCounts:
    """The dashboard's counts of one order date (JST): orders per status, decline codes per buyer message."""
    async with deps.uow() as uow:
        return await uow.orders.day_counts(shop_id, day)


async def get_order(deps: Deps, shop_id: str, order_id: str) -> Order | None:
    """The order, or None if it does not exist or belongs to another shop (both answer 404)."""
    async with deps.uow() as uow:
        order = await uow.orders.get(order_id)
    return order if order is not None and order.shop_id == shop_id else None


async def edit_order(deps: Deps, shop_id: str, order_id: str, *, edit: OrderEdit,
                     edited_by: str | None = None) -> Order | None:
    """Apply an operator's edit (raises `EditRefused`); a changed total is announced as `OrderAmountChanged`,
    so payment refuses to capture the old amount until the hold is updated (R12). None: no such order here."""
    async with deps.uow() as uow:
        order = await uow.orders.get(order_id, for_update=True)
        if order is None or order.shop_id != shop_id:
            return None
        edited = edit_order_rules(order, edit)
        await uow.orders.save(edited)
        if edited.amount != order.amount:
            event = translate.order_amount_changed(edited, previous_amount=order.amount or 0, edited_by=edited_by)
            await uow.emit(event, correlation_id=order.correlation_id, subject_version=edited.version)
    log.info("order.edited", order_id=order_id, previous_total=order.amount, total=edited.amount)
    return edited
