"""Who produces and who consumes which topic and event types (design §3), with consumer group ids.

This table is the single description of the message flow: services use `SERVICES[...]` for their group ids
and subscriptions, tests check it against the registry, and the AsyncAPI document is generated from it.
Outside parties (storefronts, monitoring) are listed too, because the document is written for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.events import (
    CancelPayment,
    CapturePayment,
    CardLinked,
    CardReplaced,
    CardUnlinked,
    ChargeAuthenticatedPayment,
    CheckoutRequested,
    Event,
    MailFailed,
    MailFailedV2,
    MailSent,
    MailSentV2,
    OrderAmountChanged,
    OrderCompleted,
    OrderNeedsReview,
    OrderPlaced,
    OrderRejected,
    PaymentAmountUpdated,
    PaymentAuthenticationRequired,
    PaymentAuthorized,
    PaymentCanceled,
    PaymentCaptured,
    PaymentDeclined,
    PaymentHoldReleased,
    PaymentOperationFailed,
    PaymentOutcomeUnknown,
    RenewalCardExpiring,
    RenewalCycleSettled,
    RenewalOrderRequested,
    RenewalPaymentFailed,
    ShopSettingsChanged,
    SubscriptionChanged,
    SubscriptionStarted,
    UpdatePaymentAmount,
)
from contracts.registry import events_on
from contracts.topics import (
    CHECKOUT_REQUESTS,
    NOTIFICATIONS_EVENTS,
    ORDERS_EVENTS,
    PAYMENTS_COMMANDS,
    PAYMENTS_EVENTS,
    SHOPS_SETTINGS,
    SUBSCRIPTIONS_COMMANDS,
    SUBSCRIPTIONS_EVENTS,
)


@dataclass(frozen=True, slots=True)
class Flow:
    """One topic a party reads or writes, and the event types involved (empty: none defined yet)."""

    topic: str
    events: tuple[type[Event], ...]

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(event.TYPE for event in self.events)


@dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    """A service of ours (with its consumer group id) or an outside party (group id chosen by them)."""

    name: str
    description: str
    group_id: str | None
    consumes: tuple[Flow, ...] = ()
    produces: tuple[Flow, ...] = ()
    internal: bool = True

    def consumed_topics(self) -> tuple[str, ...]:
        return tuple(flow.topic for flow in self.consumes)

    def produced_topics(self) -> tuple[str, ...]:
        return tuple(flow.topic for flow in self.produces)


_PAYMENT_RESULTS = (PaymentAuthorized, PaymentDeclined, PaymentOutcomeUnknown, PaymentAuthenticationRequired)
_PAYMENT_OPERATIONS = (PaymentCaptured, PaymentCanceled, PaymentAmountUpdated, PaymentOperationFailed,
                       PaymentHoldReleased)
_PAYMENT_COMMANDS = (CapturePayment, CancelPayment, UpdatePaymentAmount)
_SUBSCRIPTION_LIFECYCLE = (SubscriptionStarted, SubscriptionChanged)
_CARD_LINKS = (CardLinked, CardReplaced, CardUnlinked)

CHECKOUT = Party(
    name="checkout",
    description="Validates checkouts (R1-R10), owns orders and shop settings, decides each order's outcome.",
    group_id="checkout",
    consumes=(
        Flow(CHECKOUT_REQUESTS, (CheckoutRequested,)),
        Flow(PAYMENTS_EVENTS, _PAYMENT_RESULTS + _PAYMENT_OPERATIONS),
        Flow(SUBSCRIPTIONS_COMMANDS, (RenewalOrderRequested,)),
    ),
    produces=(
        Flow(ORDERS_EVENTS, (OrderPlaced, OrderCompleted, OrderRejected, OrderNeedsReview, OrderAmountChanged,
                             RenewalPaymentFailed)),
        Flow(SHOPS_SETTINGS, (ShopSettingsChanged,)),
    ),
)

PAYMENT = Party(
    name="payment",
    description="Talks to e-SCOTT: authorizes orders, links member cards, runs operator operations.",
    group_id="payment",
    consumes=(
        Flow(ORDERS_EVENTS, (OrderPlaced, OrderAmountChanged)),
        Flow(PAYMENTS_COMMANDS, (*_PAYMENT_COMMANDS, ChargeAuthenticatedPayment)),
        Flow(SHOPS_SETTINGS, (ShopSettingsChanged,)),
        Flow(SUBSCRIPTIONS_EVENTS, _SUBSCRIPTION_LIFECYCLE),
    ),
    produces=(Flow(PAYMENTS_EVENTS, events_on(PAYMENTS_EVENTS)),
              Flow(PAYMENTS_COMMANDS, (ChargeAuthenticatedPayment,))),
)

SUBSCRIPTION = Party(
    name="subscription",
    description="Owns subscriptions and their cycles; asks checkout for one order per due cycle (R20, I4).",
    group_id="subscription",
    consumes=(
        Flow(ORDERS_EVENTS, (OrderPlaced, OrderCompleted, OrderRejected, OrderNeedsReview, RenewalPaymentFailed)),
        Flow(PAYMENTS_EVENTS, _CARD_LINKS),
        Flow(SHOPS_SETTINGS, (ShopSettingsChanged,)),
    ),
    produces=(
        Flow(SUBSCRIPTIONS_COMMANDS, (RenewalOrderRequested,)),
        Flow(SUBSCRIPTIONS_EVENTS, (*_SUBSCRIPTION_LIFECYCLE, RenewalCycleSettled, RenewalCardExpiring)),
    ),
)

NOTIFICATION = Party(
    name="notification",
    description="Sends the thanks mail and the shop copy for each completed order, exactly once (R23, I3).",
    group_id="notification",
    consumes=(
        Flow(ORDERS_EVENTS, (OrderCompleted, RenewalPaymentFailed)),
        Flow(PAYMENTS_EVENTS, (CardReplaced, CardUnlinked)),
        Flow(SHOPS_SETTINGS, (ShopSettingsChanged,)),
        Flow(SUBSCRIPTIONS_EVENTS, (RenewalCardExpiring,)),
    ),
    produces=(Flow(NOTIFICATIONS_EVENTS, (MailSent, MailFailed, MailSentV2, MailFailedV2)),),
)

STOREFRONT = Party(
    name="storefront",
    description="A shop's storefront: publishes checkouts and learns their outcomes from orders.events.",
    group_id=None,
    consumes=(Flow(ORDERS_EVENTS, (OrderCompleted, OrderRejected, OrderNeedsReview)),),
    produces=(Flow(CHECKOUT_REQUESTS, (CheckoutRequested,)),),
    internal=False,
)

MONITORING = Party(
    name="monitoring",
    description="Monitoring and reconciliation: reads every payment event.",
    group_id=None,
    consumes=(Flow(PAYMENTS_EVENTS, events_on(PAYMENTS_EVENTS)),
              Flow(SUBSCRIPTIONS_EVENTS, events_on(SUBSCRIPTIONS_EVENTS))),
    internal=False,
)

AUTOMATION = Party(
    name="automation",
    description="Shop automation (e.g. capture on shipment) sending payment commands; results on payments.events.",
    group_id=None,
    produces=(Flow(PAYMENTS_COMMANDS, _PAYMENT_COMMANDS),),
    internal=False,
)

SERVICES: dict[str, Party] = {party.name: party for party in (CHECKOUT, PAYMENT, SUBSCRIPTION, NOTIFICATION)}
"""Our four services by name (design §3)."""

PARTIES: tuple[Party, ...] = (*SERVICES.values(), STOREFRONT, MONITORING, AUTOMATION)
"""Every party in the message flow, ours first."""


def consumers_of(topic: str) -> tuple[Party, ...]:
    """The parties that read a topic."""
    return tuple(party for party in PARTIES if topic in party.consumed_topics())


def producers_of(topic: str) -> tuple[Party, ...]:
    """The parties that write a topic."""
    return tuple(party for party in PARTIES if topic in party.produced_topics())
