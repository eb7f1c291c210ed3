"""Every event contract of the system, one module per area (design §4: nothing else defines events)."""

from contracts.events.base import Event
from contracts.events.cards import CardLinked, CardReplaced, CardUnlinked
from contracts.events.checkout import CheckoutRequested
from contracts.events.commands import CancelPayment, CapturePayment, ChargeAuthenticatedPayment, UpdatePaymentAmount
from contracts.events.notifications import MailFailed, MailFailedV2, MailSent, MailSentV2
from contracts.events.orders import (
    OrderAmountChanged,
    OrderCompleted,
    OrderNeedsReview,
    OrderPlaced,
    OrderRejected,
    RenewalPaymentFailed,
)
from contracts.events.payments import (
    PaymentAmountUpdated,
    PaymentAuthenticationRequired,
    PaymentAuthorized,
    PaymentCanceled,
    PaymentCaptured,
    PaymentDeclined,
    PaymentHoldReleased,
    PaymentOperationFailed,
    PaymentOutcomeUnknown,
)
from contracts.events.shops import ShopSettingsChanged
from contracts.events.subscriptions import (
    RenewalCardExpiring,
    RenewalCycleSettled,
    RenewalOrderRequested,
    SubscriptionChanged,
    SubscriptionStarted,
)

ALL_EVENTS: tuple[type[Event], ...] = (
    CheckoutRequested,
    OrderPlaced,
    OrderCompleted,
    OrderRejected,
    OrderNeedsReview,
    PaymentAuthorized,
    PaymentDeclined,
    PaymentOutcomeUnknown,
    PaymentCaptured,
    PaymentCanceled,
    PaymentAmountUpdated,
    PaymentOperationFailed,
    CardLinked,
    CardUnlinked,
    ShopSettingsChanged,
    RenewalOrderRequested,
    SubscriptionStarted,
    MailSent,
    MailFailed,
    OrderAmountChanged,
    PaymentHoldReleased,
    CapturePayment,
    CancelPayment,
    UpdatePaymentAmount,
    RenewalPaymentFailed,
    SubscriptionChanged,
    RenewalCycleSettled,
    MailSentV2,
    MailFailedV2,
    CardReplaced,
    RenewalCardExpiring,
    PaymentAuthenticationRequired,
    ChargeAuthenticatedPayment,
)
"""All concrete event types; the registry, schema snapshots and AsyncAPI document are built from this."""

__all__ = [
    "ALL_EVENTS",
    "CancelPayment",
    "CapturePayment",
    "CardLinked",
    "CardReplaced",
    "CardUnlinked",
    "ChargeAuthenticatedPayment",
    "CheckoutRequested",
    "Event",
    "MailFailed",
    "MailFailedV2",
    "MailSent",
    "MailSentV2",
    "OrderAmountChanged",
    "OrderCompleted",
    "OrderNeedsReview",
    "OrderPlaced",
    "OrderRejected",
    "PaymentAmountUpdated",
    "PaymentAuthenticationRequired",
    "PaymentAuthorized",
    "PaymentCanceled",
    "PaymentCaptured",
    "PaymentDeclined",
    "PaymentHoldReleased",
    "PaymentOperationFailed",
    "PaymentOutcomeUnknown",
    "RenewalCardExpiring",
    "RenewalCycleSettled",
    "RenewalOrderRequested",
    "RenewalPaymentFailed",
    "ShopSettingsChanged",
    "SubscriptionChanged",
    "SubscriptionStarted",
    "UpdatePaymentAmount",
]
