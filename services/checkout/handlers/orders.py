"""Operator views of orders: search and a single order, always within the operator's own shop (I6)."""

from __future__ import annotations

from services.checkout.domain.order import Order
from services.checkout.handlers.deps import Deps
from services.checkout.ports import OrderQuery


async def search_orders(deps: Deps, shop_id: str, query: OrderQuery) -> list[Order]:
    async with deps.uow() as uow:
        return await uow.orders.search(shop_id, query)


async def get_order(deps: Deps, shop_id: str, order_id: str) -> Order | None:
    """The order, or None if it does not exist or belongs to another shop (both answer 404)."""
    async with deps.uow() as uow:
        order = await uow.orders.get(order_id)
    return order if order is not None and order.shop_id == shop_id else None
