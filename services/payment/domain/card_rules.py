"""The rules of card management that need no gateway (design §6.8, R18): when a member may manage a card at all,
when a delete is refused, and how a refused member call is named for the member (R16, R17)."""

from __future__ import annotations

from services.payment.domain import codes as result_codes
from services.payment.domain.authentication import CARD_COMPANY_CODES


class CardRefused(Exception):
    """A card request refused before any gateway call; `reason_code` is stable (the HTTP answer's)."""

    def __init__(self, reason_code: str, detail: str, *, blocking: tuple[str, ...] = ()) -> None:
        super().__init__(detail)
        self.reason_code = reason_code
        self.detail = detail
        self.blocking = blocking


KEEPS_CARD = frozenset({"active", "paused"})
"""Subscription statuses that need the stored card: a paused subscription resumes with it; only `canceled` frees
the card (R18). A subscription canceled "after the current cycle" stays `active` until it ends."""


def availability_refusal(*, configured: bool, link_mode: str | None) -> CardRefused | None:
    """R18: the member manages a card only while the shop's card method is configured, and only where the shop
    keeps cards at all (link mode not `never`, R9)."""
    if not configured:
        return CardRefused("card_method_not_configured", "the shop's card method is not configured (R18)")
    if link_mode == "never":
        return CardRefused("card_link_mode_never", "the shop does not keep cards (card link mode `never`, R9)")
    return None


def deletion_refusal(subscriptions: list[str]) -> CardRefused | None:
    """R18: the card cannot be deleted while a subscription (active or paused) would charge it."""
    if not subscriptions:
        return None
    return CardRefused("active_subscription", "the member has a subscription that renews with this card; cancel it "
                       "first, or replace the card instead", blocking=tuple(sorted(subscriptions)))


_TOKEN_CODES = {"KI2": "token_spent", "KI3": "token_expired", "KHZ": "token_invalid", "KHX": "token_invalid"}


def declined_reason(codes: tuple[str, ...]) -> str:
    """The stable reason code of a member call the gateway refused: the member function is not contracted (K68,
    R17), the token was used (KI2), expired or unknown, the card company declined (G/C codes), or another refusal."""
    if "K68" in codes:
        return "member_function_unavailable"
    token = next((_TOKEN_CODES[code] for code in codes if code in _TOKEN_CODES), None)
    if token is not None:
        return token
    if any(code[:1] in ("G", "C") for code in codes):
        return "card_declined"
    return "card_refused"


def buyer_message(codes: tuple[str, ...]) -> str:
    """What the member may be shown for a failed change (never the codes, R16); K68 is R17's message."""
    if "K68" in codes:
        return result_codes.MEMBER_FUNCTION_OFF
    if CARD_COMPANY_CODES & set(codes):  # 3-D Secure failed, or no 3-D Secure password: the card company helps
        return result_codes.BUYER_CARD_COMPANY
    return result_codes.buyer_message(codes)
