"""`OrderRepository`: an order reads back exactly as added or saved (by id, by checkout, a renewal by its cycle), one
order per id, per (shop, checkout id) and per renewal cycle, payment numbers come from one increasing sequence, and
search filters, orders and pages as the operator API promises."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from services.checkout.domain.edits import OrderEdit, edit_order
from services.checkout.domain.order import (
    Authorized,
    Declined,
    OperationFailed,
    Order,
    OrderStatus,
    decide_payment,
    place_order,
    reject_checkout,
)
from services.checkout.domain.payment_number import payment_number
from services.checkout.domain.renewal import place_renewal_order
from services.checkout.domain.rules import Rejection
from services.checkout.domain.values import Buyer, Fee, Line, jst_date
from services.checkout.ports import OrderQuery
from tests.unit.checkout.builders import NOW, card, renewal, request, shop, subscription_request

DECLINED = Declined(operation="1Auth", codes=("G12",), descriptions=("カード使用不可",),
                    buyer_message="クレジットカード会社にお問い合わせください")


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


def renewed(cycle_no: int, *, n: int | None = None, **card_changes: object) -> Order:
    """The renewal order of cycle `cycle_no` of sub-1 (order ord_r<n>, payment number n; n defaults to the cycle)."""
    n = n or cycle_no
    return place_renewal_order(renewal(cycle_no), shop(card=card(**card_changes)), order_id=f"ord_r{n}",
                               payment_number=payment_number(NOW.date(), 100 + n), now=NOW)


async def test_renewal_orders_read_back_whole_by_id_and_by_cycle_and_never_by_checkout(store):
    pending, skipped = renewed(2), renewed(3, authorize_at_renewal=False)
    await add(store, [pending, skipped])
    async with store.uow() as uow:
        for order in (pending, skipped):
            assert order.renewal is not None
            assert await uow.orders.get(order.order_id) == order
            assert await uow.orders.by_cycle("sub-1", order.renewal.cycle_no) == order
        assert skipped.payment_skip_reason == "authorize_at_renewal_off" and pending.checkout_id is None
        assert await uow.orders.by_cycle("sub-1", 4) is None and await uow.orders.by_cycle("sub-2", 2) is None
        assert await uow.orders.by_checkout("tea-shop", "sub-1:2") is None


async def test_a_saved_renewal_reads_back_with_its_retry_time_then_its_failure(store):
    await add(store, [renewed(2)])
    retry_at = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
    waiting = decide_payment(renewed(2), replace(DECLINED, retry_at=retry_at)).order
    failed = decide_payment(waiting, DECLINED).order
    for saved in (waiting, failed):
        async with store.uow() as uow:
            await uow.orders.save(saved)
        async with store.uow() as uow:
            assert await uow.orders.get(saved.order_id) == saved
    assert waiting.retry_at == retry_at and failed.status is OrderStatus.PAYMENT_FAILED


async def test_one_order_per_renewal_cycle(store):
    await add(store, [renewed(2)])
    async with store.uow() as uow:
        assert not await uow.orders.add(renewed(2, n=9))
        assert await uow.orders.add(renewed(3))
        assert await uow.orders.add(placed(1))  # storefront checkouts have no cycle
    async with store.uow() as uow:
        assert (await uow.orders.by_cycle("sub-1", 2)) == renewed(2)
        assert await uow.orders.get("ord_r9") is None


async def test_search_finds_failed_renewals_by_their_status(store):
    await add(store, [renewed(2), renewed(3), placed(1)])
    async with store.uow() as uow:
        await uow.orders.save(decide_payment(renewed(2), DECLINED).order)
        found = await uow.orders.search("tea-shop", OrderQuery(status=OrderStatus.PAYMENT_FAILED))
    assert [o.order_id for o in found] == ["ord_r2"]


async def test_day_counts_count_one_jst_date_of_the_shop_and_its_decline_codes_per_buyer_message(store):
    late = NOW.replace(hour=15, minute=30)  # 00:30 JST the next day: another order date
    k99 = Declined(operation="1Auth", codes=("K99", "G12"), descriptions=("", ""),
                   buyer_message="ソニーペイメント取引の処理に失敗いたしました。")
    orders = [placed(n) for n in range(1, 6)] + [placed(6, at=late), _other_shop(placed(7))]
    await add(store, orders)
    async with store.uow() as uow:
        await uow.orders.save(decide_payment(orders[0], Authorized(amount=3200, captured=False,
                                                                   transaction_id="T1")).order)
        for order in (orders[1], orders[2], orders[5], orders[6]):
            await uow.orders.save(decide_payment(order, DECLINED).order)
        await uow.orders.save(decide_payment(orders[3], k99).order)
    async with store.uow() as uow:
        counts = await uow.orders.day_counts("tea-shop", jst_date(NOW))
        empty = await uow.orders.day_counts("tea-shop", date(2020, 1, 1))
    assert counts.by_status == {"completed": 1, "rejected": 3, "pending_payment": 1}
    assert counts.declines == [("クレジットカード会社にお問い合わせください", "G12", 2),
                               ("ソニーペイメント取引の処理に失敗いたしました。", "G12", 1),
                               ("ソニーペイメント取引の処理に失敗いたしました。", "K99", 1)]
    assert (empty.by_status, empty.declines) == ({}, [])
