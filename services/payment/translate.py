"""Contracts <-> domain: the only module that imports both (style rule 6)."""

from __future__ import annotations

from dataclasses import asdict

from pydantic import SecretStr

from contracts.events import (
    CancelPayment,
    CapturePayment,
    CardLinked,
    CardReplaced,
    CardUnlinked,
    ChargeAuthenticatedPayment,
    Event,
    OrderPlaced,
    PaymentAmountUpdated,
    PaymentAuthenticationRequired,
    PaymentAuthorized,
    PaymentCanceled,
    PaymentCaptured,
    PaymentDeclined,
    PaymentHoldReleased,
    PaymentOperationFailed,
    PaymentOutcomeUnknown,
    ShopSettingsChanged,
    SubscriptionChanged,
    SubscriptionStarted,
    UpdatePaymentAmount,
)
from contracts.events.commands import PaymentCommand
from delivery.sealing import TokenSealer
from services.payment.domain import events as ev
from services.payment.domain.actions import Action, ActionRequest
from services.payment.domain.authentication import AuthenticationRequest
from services.payment.domain.cards import CardChoice, LinkMode
from services.payment.domain.codes import describe
from services.payment.domain.gateway import SalesMode
from services.payment.domain.model import PlaceOrder
from services.payment.domain.retries import RetryPolicy
from services.payment.ports import ShopSettings, SubscriptionStatus


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
        link_mode=LinkMode(event.card_link_mode), subscription=event.cart_type == "subscription",
        renewal=event.origin == "renewal")
    order = PlaceOrder(order_id=event.order_id, shop_id=event.shop_id, payment_number=event.payment_number,
                       amount=event.amount, pay_type=event.payment.pay_type, sales_mode=SalesMode(event.sales_mode),
                       buyer_name=event.buyer.name, choice=choice, skip_reason=event.payment_skip_reason,
                       authentication=_authentication(event))
    return order, token


def _authentication(event: OrderPlaced) -> AuthenticationRequest | None:
    asked = event.authentication
    if asked is None or event.origin == "renewal":  # merchant-initiated charges never ask for 3-D Secure
        return None
    return AuthenticationRequest(deadline=asked.deadline, accepted_results=tuple(asked.accepted_results),
                                 return_url=asked.return_url)


def shop_settings(event: ShopSettingsChanged) -> ShopSettings:
    card = event.card
    if card is None:
        return ShopSettings(shop_id=event.shop_id, configured=False)
    retry, tds = card.renewal.retry, card.three_d_secure
    return ShopSettings(shop_id=event.shop_id, configured=card.configured, sales_mode=card.sales_mode,
                        card_link_mode=card.card_link_mode, subscriptions_enabled=card.subscriptions_enabled,
                        renewal_sales_mode=card.renewal_sales_mode, authorize_at_renewal=card.authorize_at_renewal,
                        renewal_retry=None if retry is None else RetryPolicy(max_tries=retry.max_tries,
                                                                              within_days=retry.within_days),
                        card_authentication=tuple(tds.accepted_results) if tds and tds.enabled else None)


def subscription_status(event: SubscriptionStarted | SubscriptionChanged, *, version: int) -> SubscriptionStatus:
    """A subscription lifecycle event as the status payment's delete guard keeps (R18); `version`: the envelope's
    subject_version (the subscription's own, growing with each change)."""
    return SubscriptionStatus(subscription_id=event.subscription_id, shop_id=event.shop_id,
                              member_id=event.member_id, status=event.status, version=version)


def charge_authenticated(order_id: str, shop_id: str) -> ChargeAuthenticatedPayment:
    """Payment's command to itself after a recorded 3-D Secure return (design §6.7)."""
    return ChargeAuthenticatedPayment(order_id=order_id, shop_id=shop_id, requested_by="three_d_secure_return")


def action_request(command: PaymentCommand) -> ActionRequest:
    """A command on `payments.commands` as the same action request the operator HTTP API makes."""
    if isinstance(command, CapturePayment):
        return ActionRequest(Action.CAPTURE, command.requested_by, command.amount, order_total=command.order_total)
    if isinstance(command, CancelPayment):
        return ActionRequest(Action.CANCEL, command.requested_by)
    if isinstance(command, UpdatePaymentAmount):
        return ActionRequest(Action.UPDATE_AMOUNT, command.requested_by, command.amount,
                             order_total=command.order_total)
    raise ValueError(f"no action for {command.TYPE}")


_CONTRACTS: dict[type, type[Event]] = {
    ev.PaymentAuthorized: PaymentAuthorized, ev.PaymentDeclined: PaymentDeclined,
    ev.PaymentOutcomeUnknown: PaymentOutcomeUnknown, ev.CardLinked: CardLinked, ev.CardReplaced: CardReplaced,
    ev.CardUnlinked: CardUnlinked,
    ev.PaymentCaptured: PaymentCaptured, ev.PaymentCanceled: PaymentCanceled,
    ev.PaymentAmountUpdated: PaymentAmountUpdated, ev.PaymentHoldReleased: PaymentHoldReleased,
    ev.PaymentOperationFailed: PaymentOperationFailed,
    ev.PaymentAuthenticationRequired: PaymentAuthenticationRequired,
}


def to_contract(event: ev.DomainEvent) -> Event:
    """The published form of a domain event (same field names; the contract validates the values).

    Declines get the catalogue's description of each raw code (R16, for operators); a decline payment will retry
    (a renewal, R22 opt-in) carries `retry_at`.
    """
    data = asdict(event)
    if isinstance(event, ev.PaymentDeclined | ev.PaymentOperationFailed):
        data["descriptions"] = [describe(code).ja for code in event.codes]
    return _CONTRACTS[type(event)].model_validate(data)
