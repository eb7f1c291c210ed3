"""Shop handlers and the operator's view through the real handlers on fakes: write-only credentials, the settings
projection applied once, a member's stored card looked up once (4MemRefM), and the live status (1Search, R17)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from contracts.events import ShopSettingsChanged
from contracts.events.shops import CardMethodSettings, MailSettings
from services.payment import translate
from services.payment.domain.codes import STATUS_UNREADABLE
from services.payment.domain.gateway import GatewayOperation as Op
from services.payment.domain.gateway import Outcome
from services.payment.handlers.shops import find_stored_card, record_shop_settings, store_credentials
from services.payment.handlers.status import view_payment
from services.payment.ports import Credentials
from tests.fakes.payment import DEMO_CREDENTIALS, PaymentFakes
from tests.fakes.payment_gateway import answered
from tests.unit.payment.handlers.builders import SHOP, authorized_order, inbound, order_placed, place


@pytest.fixture
async def fakes() -> PaymentFakes:
    fakes = PaymentFakes()
    await fakes.add_shop(SHOP)
    return fakes


async def test_credentials_are_stored_for_the_shop(fakes: PaymentFakes) -> None:
    other = Credentials(merchant_id="20000002", merchant_pass=SecretStr("pass2"), token_auth_code=SecretStr("T2"))
    await store_credentials(fakes.deps, other, shop_id="shop-2")
    assert (fakes.state.credentials["shop-2"], fakes.state.credentials[SHOP]) == (other, DEMO_CREDENTIALS)


async def test_a_settings_snapshot_is_projected_once_per_event(fakes: PaymentFakes) -> None:
    event = ShopSettingsChanged(shop_id=SHOP, shop_name="デモ", card=CardMethodSettings(
        configured=True, display_name="カード", sales_mode="auth_capture", card_link_mode="never"),
        mail=MailSettings(sender_address="shop@example.jp", shop_copy_address="orders@example.jp"))
    delivered = inbound(event)
    await record_shop_settings(fakes.deps, translate.shop_settings(event), inbound=delivered)
    fakes.state.settings.clear()
    await record_shop_settings(fakes.deps, translate.shop_settings(event), inbound=delivered)
    assert fakes.state.settings == {}  # the redelivery applied nothing


async def test_a_members_stored_card_is_looked_up_once_and_remembered(fakes: PaymentFakes) -> None:
    await place(fakes, order_placed(token=fakes.gateway.token().get_secret_value(), member_id="m-1"))
    first = await find_stored_card(fakes.deps, shop_id=SHOP, member_id="m-1")
    again = await find_stored_card(fakes.deps, shop_id=SHOP, member_id="m-1")
    nobody = await find_stored_card(fakes.deps, shop_id=SHOP, member_id="m-2")
    assert (first.linked, first.masked_card_no) == (True, "4111********1111")
    assert (again, nobody.linked, fakes.gateway.sent(Op.MEM_REF)) == (first, False, [Op.MEM_REF])


async def test_the_view_reads_the_live_amount_and_hides_status_reads_from_the_history(fakes: PaymentFakes) -> None:
    order = await authorized_order(fakes, amount=6200)
    view = await view_payment(fakes.deps, shop_id=SHOP, order_id=order.order_id)
    reads = await view_payment(fakes.deps, shop_id=SHOP, order_id=order.order_id, live=False, status_reads=True)
    assert view is not None and view.live is not None and reads is not None
    assert (view.live.available, view.live.amount) == (True, 6200)
    assert [a.operation for a in view.history] == [Op.AUTH]
    assert [a.operation for a in reads.history] == [Op.AUTH, Op.SEARCH]


async def test_a_live_status_the_gateway_refuses_is_unreadable_with_its_code_r17(fakes: PaymentFakes) -> None:
    order = await authorized_order(fakes)
    fakes.gateway.script(Op.SEARCH, answered(Outcome.DECLINED, "K12"))
    view = await view_payment(fakes.deps, shop_id=SHOP, order_id=order.order_id)
    assert view is not None and view.live is not None
    assert (view.live.available, view.live.message, view.live.codes) == (False, STATUS_UNREADABLE, ("K12",))


async def test_without_credentials_the_live_status_is_unreadable_without_a_call(fakes: PaymentFakes) -> None:
    order = await authorized_order(fakes)
    fakes.state.unreadable.add(SHOP)
    view = await view_payment(fakes.deps, shop_id=SHOP, order_id=order.order_id)
    assert view is not None and view.live is not None
    assert (view.live.reason, fakes.gateway.sent(Op.SEARCH)) == ("gateway_credentials_missing", [])


async def test_another_shops_payment_has_no_view(fakes: PaymentFakes) -> None:
    order = await authorized_order(fakes)
    assert await view_payment(fakes.deps, shop_id="shop-2", order_id=order.order_id) is None
