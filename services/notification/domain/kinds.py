"""The kinds of mail, who receives each, and which ones a shop can switch off.

Every completed order (R23) gets `thanks` (buyer) and `shop_copy` (受注通知, the shop), also a renewal order.
A renewal order completed without authorization (R21, `payment_status` "skipped") gets in addition
`renewal_skipped_shop` (the shop: why it was not charged) and `renewal_skipped_buyer` (the buyer: please contact
the shop). A renewal whose authorization was declined (R22) gets no thanks mail but `renewal_failed_shop` (the
shop: which subscription, cycle, order, payment number and reason) and `renewal_failed_buyer` (the buyer: the R16
message, please update your card or contact the shop).

A member's stored card (R18) gives the buyer a short notice, with no card data: `card_replaced` and
`card_removed` when it was replaced or removed on the member's page or by an operator (a change made in a checkout
sends nothing: the buyer made it in the order), and `card_expiring` when the subscription service warns that the
next renewal would charge a card expired by then (`RenewalCardExpiring`). A card notice is a mail without an
order: its log rows name the notice's reference instead (`compose.card_notice_id`).

The two buyer notices of a renewal are sent only while the shop's `renewal.notify_buyer_on_failure` is on (the
contract's default), the card notices only while its `notify_card_changes` is on (default too). Each kind is
sent at most once per order or notice (the mail log's unique key `(order_id, kind)`).
"""

from __future__ import annotations

ORDER_KINDS = ("thanks", "shop_copy")
SKIPPED_RENEWAL_KINDS = ("renewal_skipped_shop", "renewal_skipped_buyer")
FAILED_RENEWAL_KINDS = ("renewal_failed_shop", "renewal_failed_buyer")
CARD_REPLACED, CARD_REMOVED, CARD_EXPIRING = "card_replaced", "card_removed", "card_expiring"
CARD_KINDS = (CARD_REPLACED, CARD_REMOVED, CARD_EXPIRING)
KINDS = (*ORDER_KINDS, *SKIPPED_RENEWAL_KINDS, *FAILED_RENEWAL_KINDS, *CARD_KINDS)

BUYER_KINDS = frozenset({"thanks", "renewal_skipped_buyer", "renewal_failed_buyer", *CARD_KINDS})
"""Sent to the buyer's address; every other kind goes to the shop's copy address, with the buyer as Reply-To."""

SWITCHABLE_KINDS = frozenset({"renewal_skipped_buyer", "renewal_failed_buyer"})
"""Sent only while the shop's `notify_buyer_on_failure` is on (an operator's resend is sent regardless)."""
CARD_SWITCHABLE_KINDS = frozenset(CARD_KINDS)
"""Sent only while the shop's `notify_card_changes` is on (an operator's resend is sent regardless)."""


def to_buyer(kind: str) -> bool:
    return kind in BUYER_KINDS
