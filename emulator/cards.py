"""Test cards and card-company rules: which PAN, expiry, PayType and amount give which result.

Sony publishes no test-card list (reference §9.14), so these are the emulator's own, deterministic choices;
the README carries the same table. Every PAN here passes the Luhn check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Card:
    """Card data as the gateway holds it (from a token, a member record or the request)."""

    pan: str
    exp: str  # YYMM
    sec_cd: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Behaviour:
    """What a test card does when charged.

    ``decline`` applies to every use (checks, charges and member registration); ``member_decline`` only to
    charges by member, so a card can be stored successfully and then fail at renewal.
    """

    label: str
    decline: str | None = None
    member_decline: str | None = None
    sec_unmatch: bool = False
    stall: bool = False


APPROVE = Behaviour(label="approves")

TEST_CARDS: dict[str, Behaviour] = {
    "4111111111111111": Behaviour(label="Visa, approves"),
    "5555555555554444": Behaviour(label="Mastercard, approves"),
    "3530111333300000": Behaviour(label="JCB, approves"),
    "378282246310005": Behaviour(label="American Express, approves (no PayType 02/88)"),
    "36227206271667": Behaviour(label="Diners, approves (PayType 01/80/88 only)"),
    "4000000000000002": Behaviour(label="card unusable", decline="G12"),
    "4000000000009995": Behaviour(label="daily limit over", decline="G55"),
    "4000000000000069": Behaviour(label="expiry error", decline="G83"),
    "4000000000000127": Behaviour(label="security code wrong", decline="G44"),
    "4000000000000101": Behaviour(label="other exception", decline="K99"),
    "4000000000000341": Behaviour(label="stores fine, every charge by member declines", member_decline="G12"),
    "4000000000000259": Behaviour(label="daily usage count or amount over", decline="G54"),
    "4000000000009987": Behaviour(label="invalid card", decline="G56"),
    "4000000000009979": Behaviour(label="lost/stolen (accident) card", decline="G60"),
    "4000000000000010": Behaviour(label="card number error", decline="G65"),
    "4000000000000028": Behaviour(label="no such card number", decline="C16"),
    "4000000000000119": Behaviour(label="e-SCOTT system error", decline="C02"),
    "4000000000000036": Behaviour(label="approved but security code unmatched (K40, McSecCd=1)", sec_unmatch=True),
    "4000000000000044": Behaviour(label="never answers (no state change): client times out", stall=True),
}

_BRANDS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("4",), "VISA", "VS"),
    (("51", "52", "53", "54", "55", "22", "23", "24", "25", "26", "27"), "MASTER", "MC"),
    (("35",), "JCB", "JC"),
    (("34", "37"), "AMEX", "AX"),
    (("36", "30", "38"), "DINERS", "DC"),
)

BONUS_MINIMUM = 10_000
INSTALLMENT_MINIMUM = 1_000
INSTALLMENTS = frozenset({"02", "03", "05", "06", "10", "12", "15", "18", "20", "24"})


def behaviour_of(pan: str) -> Behaviour:
    """The test behaviour of ``pan``; any other Luhn-valid number of a known brand approves."""
    return TEST_CARDS.get(pan, APPROVE)


def brand_of(pan: str) -> tuple[str, str] | None:
    """(brand, CompanyCd) for the PAN's scheme, or ``None`` when outside the contract (``C17``)."""
    for prefixes, brand, company in _BRANDS:
        if pan.startswith(prefixes):
            return brand, company
    return None


def is_expired(exp: str, today: date) -> bool:
    """A ``YYMM`` expiry is valid through the end of its month (``C13`` after that)."""
    return (2000 + int(exp[:2]), int(exp[2:])) < (today.year, today.month)


def pay_type_code(brand: str, pay_type: str, *, amount: int, contracted: frozenset[str]) -> str | None:
    """Code for a PayType the merchant, brand or amount does not allow, else ``None``.

    Merchant contract first (``C10`` division, ``C12`` installment count), then brand rules taken from
    the plugins' client-side tables (reference §3 "PayType per brand"), then the amount minimums.
    """
    if pay_type not in contracted:
        return "C12" if pay_type in INSTALLMENTS else "C10"
    if brand == "AMEX" and pay_type in {"02", "88"}:
        return "G74" if pay_type == "02" else "G78"
    if brand == "DINERS" and pay_type in INSTALLMENTS:
        return "G74"
    if pay_type == "80" and amount < BONUS_MINIMUM:
        return "C15"
    if pay_type in INSTALLMENTS and amount < INSTALLMENT_MINIMUM:
        return "G75"
    return None
