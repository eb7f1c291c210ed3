"""Contracts <-> domain: the only module that imports both (style rule 6)."""

from __future__ import annotations

from dataclasses import asdict

from pydantic import SecretStr

from contracts.events import (
    CancelPayment,
    CapturePayment,
    CardLinked,
    CardUnlinked,
    Event,
    OrderPlaced,
    PaymentAmountUpdated,
    PaymentAuthorized,
    PaymentCanceled,
    PaymentCaptured,
    PaymentDeclined,
    PaymentHoldReleased,
    PaymentOperationFailed,
    PaymentOutcomeUnknown,
    ShopSettingsChanged,
    UpdatePaymentAmount,
)
from contracts.events.commands import PaymentCommand
from delivery.sealing import TokenSealer
from services.payment.domain import events as ev
from services.payment.domain.actions import Action, OperationRequest
from services.payment.domain.cards import CardChoice, LinkMode
from services.payment.domain.codes import describe
from services.payment.domain.model import PlaceOrder
from services.payment.domain.operations import SalesMode
from services.payment.ports import ShopSettings


def place_order(event: OrderPlaced, sealer: TokenSealer) -> tuple[PlaceOrder, SecretStr | None]:
    """The domain command, and the card token kept apart (secret; it never enters the domain).

    The token arrives sealed (`delivery.sealing`); a token in clear is still accepted from older producers.
    Raises `UnsealableToken` when the seal keys of checkout and payment differ."""
    token = event.payment.token
    if token is None and event.sealed_token is not None:
        token = SecretStr(sealer.open(event.sealed_token))
    choice = CardChoice(
        member_id=event.buyer.member_id, has_token=token is not None,
        use_registered_card=event.payment.use_registered_card, keep_card=event.payment.keep_card,
        link_mode=LinkMode(event.card_link_mode), subscription=event.cart_type == "subscription")
    order = PlaceOrder(event.order_id, event.shop_id, event.payment_number, event.amount, event.payment.pay_type,
                       SalesMode(event.sales_mode), event.buyer.name, choice, event.payment_skip_reason)
    return order, token


def shop_settings(event: ShopSettingsChanged) -> ShopSettings:
    card = event.card
    if card is None:
        return ShopSettings(event.shop_id, False, None, None, False, None, False)
    return ShopSettings(event.shop_id, card.configured, card.sales_mode, card.card_link_mode,
                        card.subscriptions_enabled, card.renewal_sales_mode, card.authorize_at_renewal)


def operation_request(command: PaymentCommand) -> OperationRequest:
    """A command on `payments.commands` as the same request the operator HTTP API makes."""
    if isinstance(command, CapturePayment):
        return OperationRequest(Action.CAPTURE, command.requested_by, command.amount)
    if isinstance(command, CancelPayment):
        return OperationRequest(Action.CANCEL, command.requested_by)
    if isinstance(command, UpdatePaymentAmount):
        return OperationRequest(Action.UPDATE_AMOUNT, command.requested_by, command.amount)
    raise ValueError(f"no operation for {command.TYPE}")


_CONTRACTS: dict[type, type[Event]] = {
    ev.PaymentAuthorized: PaymentAuthorized, ev.PaymentDeclined: PaymentDeclined,
    ev.PaymentOutcomeUnknown: PaymentOutcomeUnknown, ev.CardLinked: CardLinked, ev.CardUnlinked: CardUnlinked,
    ev.PaymentCaptured: PaymentCaptured, ev.PaymentCanceled: PaymentCanceled,
    ev.PaymentAmountUpdated: PaymentAmountUpdated, ev.PaymentHoldReleased: PaymentHoldReleased,
    ev.PaymentOperationFailed: PaymentOperationFailed,
}


def to_contract(event: ev.DomainEvent) -> Event:
    """The published form of a domain event (same field names; the contract validates the values).

    Declines get the catalogue's description of each raw code (R16, for operators). `PaymentDeclined.reason`
    (why a decline has no codes) is not in contract v1 yet: unknown fields are ignored until it is added.
    """
    data = asdict(event)
    if isinstance(event, ev.PaymentDeclined | ev.PaymentOperationFailed):
        data["descriptions"] = [describe(code).ja for code in event.codes]
    return _CONTRACTS[type(event)].model_validate(data)
