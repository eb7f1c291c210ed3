"""`OrderRepository`: an order reads back exactly as added or saved (by id and by checkout), one order per id and
per (shop, checkout id), payment numbers come from one increasing sequence, and search filters, orders and pages
as the operator API promises."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from services.checkout.domain.edits import OrderEdit, edit_order
from services.checkout.domain.order import (
    Authorized,
    OperationFailed,
    Order,
    OrderStatus,
    decide_payment,
    place_order,
    reject_checkout,
)
from services.checkout.domain.payment_number import payment_number
from services.checkout.domain.rules import Rejection
from services.checkout.domain.values import Buyer, Fee, Line, jst_date
from services.checkout.ports import OrderQuery
from tests.unit.checkout.builders import NOW, request, shop, subscription_request


def placed(n: int, *, at: datetime = NOW, **changes: object) -> Order:
    """The n-th order: placed at `at` with payment number n, its request changed as given."""
    the_request = request(checkout_id=f"chk-{n}", **changes)
    return place_order(the_request, shop(), order_id=f"ord_{n}", payment_number=payment_number(jst_date(at), n),
                       now=at)


def buyer(name: str, email: str) -> Buyer:
    return Buyer(name=name, name_kana="カナ", email=email, member_id=None)


async def add(store, orders: list[Order]) -> None:
    async with store.uow() as uow:
        for order in orders:
            assert await uow.orders.add(order), order.order_id


async def test_placed_and_rejected_orders_read_back_whole_by_id_and_by_checkout(store):
    subscription = place_order(subscription_request(checkout_id="chk-s"), shop(), order_id="ord_s",
                               payment_number=payment_number(NOW.date(), 9), now=NOW)
    refused = reject_checkout(request(checkout_id="chk-r", fees=(Fee(name="代引手数料", amount=None),)),
                              Rejection("fee_unknown", "R2", "to be advised"), order_id="ord_r", now=NOW)
    await add(store, [placed(1), subscription, refused])
    async with store.uow() as uow:
        for order in (placed(1), subscription, refused):
            assert await uow.orders.get(order.order_id) == order
            assert await uow.orders.by_checkout(order.shop_id, order.checkout_id) == order
        assert refused.amount is None and refused.payment_number is None
        assert await uow.orders.get("ord_none") is None and await uow.orders.by_checkout("tea-shop", "chk-9") is None


async def test_a_saved_order_reads_back_with_its_payment_edit_failure_and_anomaly(store):
    await add(store, [placed(1)])
    completed = decide_payment(placed(1), Authorized(amount=3200, captured=False, transaction_id="T1")).order
    edited = edit_order(completed, OrderEdit(lines=(Line(sku="TEA-1", name="煎茶", unit_price=1200, quantity=3),)))
    failed = OperationFailed(operation="capture", outcome="declined", reason="gateway_declined",
                             gateway_operation="1Capture", codes=("K14",), descriptions=("金額エラー",),
                             requested_by="ops-1")
    saved = replace(edited, failed_operation=failed, anomaly="two live holds at the gateway")
    async with store.uow() as uow:
        await uow.orders.save(saved)
        await uow.orders.save(replace(saved, order_id="ord_never_added", checkout_id="chk-never"))
    async with store.uow() as uow:
        assert await uow.orders.get("ord_1") == saved
        assert saved.update_required and saved.amount == 4400
        assert await uow.orders.get("ord_never_added") is None


async def test_one_order_per_id_and_per_checkout_of_a_shop(store):
    await add(store, [placed(1)])
    async with store.uow() as uow:
        assert not await uow.orders.add(replace(placed(2), order_id="ord_1"))
        assert not await uow.orders.add(replace(placed(2), checkout_id="chk-1"))
        assert await uow.orders.add(_other_shop(placed(2)))
    async with store.uow() as uow:
        assert await uow.orders.get("ord_1") == placed(1)


def _other_shop(order: Order) -> Order:
    """The same checkout id in another shop: a different order."""
    return replace(order, shop_id="other-shop", checkout_id="chk-1",
                   request=replace(order.request, shop_id="other-shop", checkout_id="chk-1"))


async def test_payment_number_sequences_start_at_one_and_never_repeat_across_units(store):
    seen = []
    for _ in range(3):
        async with store.uow() as uow:
            seen.append(await uow.orders.next_payment_sequence())
    assert seen == [1, 2, 3]


async def test_search_filters_by_number_status_jst_date_and_buyer_text_within_the_shop(store):
    late = NOW.replace(hour=15, minute=30)  # 00:30 JST the next day
    orders = [placed(1, buyer=buyer("山田 太郎", "Taro@Example.jp")),
              placed(2, at=late, buyer=buyer("佐藤 花子", "hanako@example.jp")),
              _other_shop(placed(3, buyer=buyer("山田 太郎", "taro@example.jp")))]
    completed = decide_payment(orders[0], Authorized(amount=3200, captured=False, transaction_id="T1")).order
    await add(store, orders)
    async with store.uow() as uow:
        await uow.orders.save(completed)

        async def ids(**query: object) -> list[str]:
            return [o.order_id for o in await uow.orders.search("tea-shop", OrderQuery(**query))]  # type: ignore[arg-type]

        assert await ids() == ["ord_2", "ord_1"]
        assert await ids(payment_number=orders[1].payment_number) == ["ord_2"]
        assert await ids(status=OrderStatus.COMPLETED) == ["ord_1"]
        assert await ids(date_from=date(2025, 6, 2)) == ["ord_2"]
        assert await ids(date_to=date(2025, 6, 1)) == ["ord_1"]
        assert await ids(buyer="taro@EXAMPLE") == ["ord_1"] and await ids(buyer="花子") == ["ord_2"]


async def test_search_matches_buyer_text_literally_wildcards_included(store):
    await add(store, [placed(1, buyer=buyer("100% 緑茶", "a_b@example.jp")), placed(2, buyer=buyer("緑茶", "ab@x.jp"))])
    async with store.uow() as uow:
        for text, expected in (("%", ["ord_1"]), ("a_b", ["ord_1"]), ("_", ["ord_1"]), ("緑茶", ["ord_2", "ord_1"])):
            found = await uow.orders.search("tea-shop", OrderQuery(buyer=text))
            assert sorted(o.order_id for o in found) == sorted(expected), text


async def test_search_pages_newest_first_with_ties_in_order_id_order(store):
    first = NOW - timedelta(hours=1)
    await add(store, [placed(3, at=first), placed(2), placed(1), placed(4, at=NOW + timedelta(hours=1))])
    async with store.uow() as uow:
        pages = [[o.order_id for o in await uow.orders.search("tea-shop", OrderQuery(limit=2, offset=offset))]
                 for offset in (0, 2, 4)]
    assert pages == [["ord_4", "ord_1"], ["ord_2", "ord_3"], []]
