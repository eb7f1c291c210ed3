"""The real operator order handlers on fakes: an edit of a completed order that changes its total announces
`OrderAmountChanged` (R12), and an operator never reaches another shop's order (I6)."""

from __future__ import annotations

import pytest

from contracts.events import OrderAmountChanged
from services.checkout.domain.edits import EditRefused, OrderEdit
from services.checkout.domain.values import Line
from services.checkout.handlers.orders import edit_order, get_order, search_orders
from services.checkout.ports import OrderQuery
from tests.fakes.checkout import CheckoutFakes
from tests.unit.checkout.inbound import authorized, placed, record, with_shop

THREE = (Line(sku="TEA-1", name="煎茶 100g", unit_price=1200, quantity=3),)


@pytest.fixture
def fakes() -> CheckoutFakes:
    return with_shop(CheckoutFakes())


async def completed_order_id(fakes: CheckoutFakes) -> str:
    order = await placed(fakes)
    await record(fakes, authorized(order))
    return order.order_id


async def test_an_edit_that_changes_the_total_emits_order_amount_changed(fakes):
    order_id = await completed_order_id(fakes)
    edited = await edit_order(fakes.deps, "tea-shop", order_id, edit=OrderEdit(lines=THREE), edited_by="ops-1")
    assert edited is not None and (edited.amount, edited.version, edited.update_required) == (4400, 2, True)
    assert fakes.state.orders[order_id] == edited
    [changed] = fakes.state.emitted(OrderAmountChanged)
    assert (changed.previous_amount, changed.amount, changed.edited_by) == (3200, 4400, "ops-1")
    assert [line.quantity for line in changed.lines] == [3]


async def test_an_edit_that_keeps_the_total_emits_nothing(fakes):
    order_id = await completed_order_id(fakes)
    same = OrderEdit(lines=(Line(sku="TEA-2", name="玉露", unit_price=2400, quantity=1),))
    edited = await edit_order(fakes.deps, "tea-shop", order_id, edit=same)
    assert edited is not None and edited.amount == 3200
    assert fakes.state.emitted(OrderAmountChanged) == []


async def test_a_refused_edit_changes_nothing(fakes):
    order = await placed(fakes)  # pending payment: not editable
    with pytest.raises(EditRefused):
        await edit_order(fakes.deps, "tea-shop", order.order_id, edit=OrderEdit(lines=THREE))
    assert fakes.state.orders[order.order_id] == order and fakes.state.emitted(OrderAmountChanged) == []


async def test_another_shops_order_is_neither_shown_nor_edited(fakes):
    order_id = await completed_order_id(fakes)
    assert await get_order(fakes.deps, "other-shop", order_id) is None
    assert await edit_order(fakes.deps, "other-shop", order_id, edit=OrderEdit(lines=THREE)) is None
    assert await search_orders(fakes.deps, "other-shop", OrderQuery()) == []
    assert fakes.state.orders[order_id].amount == 3200
