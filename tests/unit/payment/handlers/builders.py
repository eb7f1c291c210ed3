"""Inputs of the payment handlers as the edges make them: `OrderPlaced` as checkout publishes it (translated
exactly as the subscriber does), inbound envelopes, and an order authorized through the real handlers."""

from __future__ import annotations

import itertools
import uuid
from datetime import date

from contracts.envelope import Envelope
from contracts.events import (
    Event,
    OrderPlaced,
    PaymentAuthorized,
    PaymentDeclined,
    PaymentOutcomeUnknown,
    ShopSettingsChanged,
)
from contracts.events.common import Buyer, PaymentChoice
from contracts.events.shops import CardMethodSettings, MailSettings, RenewalRetry, RenewalSettings
from contracts.types import CartType
from delivery.envelopes import Inbound
from services.payment import translate
from services.payment.domain.model import Payment
from services.payment.handlers.orders import place_payment
from services.payment.handlers.shops import record_shop_settings
from tests.fakes.payment import PaymentFakes

SHOP = "shop-1"
_numbers = itertools.count(1)


def order_placed(*, token: str | None = None, member_id: str | None = None, amount: int = 5500,
                 sales_mode: str = "auth", link_mode: str = "always", registered: bool = False,
                 keep_card: bool | None = None, shop_id: str = SHOP, cart_type: CartType = "three_step") -> OrderPlaced:
    """A new order (unique id and payment number); the token travels in clear, as older producers send it."""
    n = next(_numbers)
    choice = {"token": token, "use_registered_card": registered, "keep_card": keep_card, "pay_type": "01"}
    return OrderPlaced(
        order_id=f"ord-{n}", shop_id=shop_id, checkout_id=f"chk-{n}", origin="checkout", cart_type=cart_type,
        payment_number=f"{20250000000000000000 + n:020d}", amount=amount, order_date=date(2025, 6, 1),
        buyer=Buyer(name="山田 太郎", name_kana="ヤマダ タロウ", email="taro@example.jp", member_id=member_id),
        payment=PaymentChoice.model_validate(choice), sales_mode=sales_mode, card_link_mode=link_mode)


def renewal_placed(*, member_id: str = "m-1", cycle_no: int = 2, amount: int = 3980, sales_mode: str = "auth",
                   skip_reason: str | None = None, link_mode: str = "always") -> OrderPlaced:
    """A renewal order as checkout places it (design §6.6): the registered card, no token, the renewal's sales
    mode, one payment; `skip_reason` when checkout decided not to authorize (R21)."""
    n = next(_numbers)
    return OrderPlaced(
        order_id=f"ord-r{n}", shop_id=SHOP, origin="renewal", subscription_id="sub-1", cycle_no=cycle_no,
        cart_type="subscription", payment_number=f"{20250000000000000000 + n:020d}", amount=amount,
        order_date=date(2025, 6, 1),
        buyer=Buyer(name="山田 太郎", name_kana="ヤマダ タロウ", email="taro@example.jp", member_id=member_id),
        payment=PaymentChoice(use_registered_card=True, pay_type="01"), sales_mode=sales_mode,
        card_link_mode=link_mode, payment_skip_reason=skip_reason)


def settings_changed(*, retry: RenewalRetry | None = None, shop_id: str = SHOP, configured: bool = True,
                     link_mode: str = "always") -> ShopSettingsChanged:
    """The shop's settings as checkout publishes them; `retry` is the renewal retry opt-in (default off)."""
    card = CardMethodSettings(configured=configured, display_name="クレジットカード", sales_mode="auth",
                              subscriptions_enabled=True, renewal=RenewalSettings(retry=retry),
                              card_link_mode=link_mode)  # type: ignore[arg-type]
    return ShopSettingsChanged(shop_id=shop_id, shop_name="Shop", card=card,
                               mail=MailSettings(sender_address="shop@example.jp", shop_copy_address="o@example.jp"))


def inbound(event: Event, *, event_id: uuid.UUID | None = None) -> Inbound:
    """`event` as the consumer hands it to a subscriber (a copy under a new id unless `event_id` is given)."""
    correlation = getattr(event, "checkout_id", None) or getattr(event, "subscription_id", None) or "corr-1"
    envelope = Envelope.wrap(event, producer="checkout", correlation_id=correlation, event_id=event_id)
    return Inbound(envelope, envelope.event())


async def place(fakes: PaymentFakes, event: OrderPlaced, *, delivered: Inbound | None = None) -> Payment:
    """Run `place_payment` as the subscriber does (`delivered`: a given delivery of the event)."""
    order, token = translate.place_order(event, fakes.deps.sealer)
    return await place_payment(fakes.deps, order, token, inbound=delivered or inbound(event))


async def authorized_order(fakes: PaymentFakes, *, amount: int = 5500, sales_mode: str = "auth") -> OrderPlaced:
    """An order of a guest paid by token and authorized (1Auth) or captured (1Gathering) at the fake gateway."""
    event = order_placed(token=fakes.gateway.token().get_secret_value(), amount=amount, sales_mode=sales_mode)
    await place(fakes, event)
    return event


async def with_linked_member(fakes: PaymentFakes, member_id: str = "m-1") -> None:
    """`member_id`'s first order linked a card (4MemAdd) and was authorized; the gateway's call log is cleared."""
    await place(fakes, order_placed(token=fakes.gateway.token().get_secret_value(), member_id=member_id))
    fakes.gateway.calls.clear()


async def opt_in(fakes: PaymentFakes, *, max_tries: int = 2, within_days: int = 7) -> None:
    """The shop opts in to renewal retries (its `shops.settings` event applied as the subscriber does)."""
    event = settings_changed(retry=RenewalRetry(max_tries=max_tries, within_days=within_days))
    await record_shop_settings(fakes.deps, translate.shop_settings(event), inbound=inbound(event))


def outcomes(fakes: PaymentFakes, order_id: str) -> list[PaymentAuthorized | PaymentDeclined | PaymentOutcomeUnknown]:
    """The payment outcome events staged for `order_id`, in order."""
    kinds = (PaymentAuthorized, PaymentDeclined, PaymentOutcomeUnknown)
    return [e for e in fakes.state.emitted() if isinstance(e, kinds) and e.order_id == order_id]
