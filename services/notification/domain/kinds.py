"""The kinds of mail, who receives each, and which ones a shop can switch off.

Every completed order (R23) gets `thanks` (buyer) and `shop_copy` (受注通知, the shop), also a renewal order.
A renewal order completed without authorization (R21, `payment_status` "skipped") gets in addition
`renewal_skipped_shop` (the shop: why it was not charged) and `renewal_skipped_buyer` (the buyer: please contact
the shop). A renewal whose authorization was declined (R22) gets no thanks mail but `renewal_failed_shop` (the
shop: which subscription, cycle, order, payment number and reason) and `renewal_failed_buyer` (the buyer: the R16
message, please update your card or contact the shop).

The two buyer notices of a renewal are sent only while the shop's `renewal.notify_buyer_on_failure` is on (the
contract's default). Each kind is sent at most once per order (the mail log's unique key `(order_id, kind)`).
"""

from __future__ import annotations

ORDER_KINDS = ("thanks", "shop_copy")
SKIPPED_RENEWAL_KINDS = ("renewal_skipped_shop", "renewal_skipped_buyer")
FAILED_RENEWAL_KINDS = ("renewal_failed_shop", "renewal_failed_buyer")
KINDS = (*ORDER_KINDS, *SKIPPED_RENEWAL_KINDS, *FAILED_RENEWAL_KINDS)

BUYER_KINDS = frozenset({"thanks", "renewal_skipped_buyer", "renewal_failed_buyer"})
"""Sent to the buyer's address; every other kind goes to the shop's copy address, with the buyer as Reply-To."""

SWITCHABLE_KINDS = frozenset({"renewal_skipped_buyer", "renewal_failed_buyer"})
"""Sent only while the shop's `notify_buyer_on_failure` is on (an operator's resend is sent regardless)."""


def to_buyer(kind: str) -> bool:
    return kind in BUYER_KINDS
