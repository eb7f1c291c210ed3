"""Masking of secrets before anything is shown (design I5: no secret in logs, events or errors).

Two nets: values under secret-named keys are masked whole (works on raw dicts such as an envelope's `data`
or a gateway request), and free text is scrubbed of card-like numbers (13-19 digits standing alone, or in groups
of four, that pass the Luhn check), of `Name=value` pairs whose name is a secret (the e-SCOTT wire format is
`key=value&...`) and of passwords in URLs. Our own ids (`ord_…`, `sub-…`, payment numbers, gateway transaction
ids) are left readable: a digit run inside a word is not a card, nor is one failing the Luhn check (issue 14), nor
one a card cannot start with (issue 17: 13 digits are a card only as a Visa, starting with 4; 14-19 digits only from
the card industry's major identifiers 2-6), nor the value of a field known to hold a gateway id (`TransactionId`,
`payment_number`), which about one in ten 13-digit TransactionIds used to be masked for passing the Luhn check.
The envelope's repr, the JSON log renderer and dead-letter reasons all use this one module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "**********"

SECRET_KEYS: frozenset[str] = frozenset({
    "token", "cardno", "cardnumber", "cardexp", "seccd", "securitycode", "cvv", "password", "passwd",
    "secret", "merchantpass", "kaiinpass", "processpass", "tokenauthcode", "ktokenninsyocode",
    "tokenninsyocode", "authorization", "apikey", "operatorkey", "storefrontkey", "encryptionkey",
})
"""Normalised (lower case, no `_`/`-`) names of keys whose values are secrets."""

_SECRET_SUFFIXES = ("password", "pass", "token", "secret")
_SECRET_NAME = r"(?:MerchantPass|KaiinPass|ProcessPass|Token|CardNo|CardExp|SecCd|k_TokenNinsyoCode|password)"  # noqa: S105 - names, not a secret
_PAIR = re.compile(rf"(?i)\b({_SECRET_NAME})(\s*[=:]\s*)([^&\s,;'\"]+)")
_CARD = re.compile(r"(?<![\w-])(?:\d{13,19}|\d{4}(?P<sep>[ -])\d{4}(?:(?P=sep)\d{1,4}){2,3})(?![\w-])")
"""A card-like number: 13-19 digits, or groups of four joined by one space or hyphen, standing alone. A run of digits
inside one of our ids (`ord_b9cd73f1234567890123fda5`, `sub-…`) is part of a word and is left alone (issue 14)."""
_URL_PASSWORD = re.compile(r"(//[^:/@\s]+:)([^@\s]+)(@)")
ID_KEYS: frozenset[str] = frozenset({"transactionid", "paymentnumber"})
"""Normalised names of fields that hold a gateway or payment id, never a card: their values are not card-scanned."""
_ID_PAIR = re.compile(r"(?i)(\b(?:TransactionId|transaction_id|payment_number)[\"']?\s*[=:]\s*[\"']?)(\d{13,19})\b")
"""An id field's value inside free text (`TransactionId=…` on the wire, `"transaction_id": "…"` in JSON)."""


def is_secret_key(key: str) -> bool:
    """True if a key names a secret (`token`, `KaiinPass`, `merchant_pass`, `db_password`, ...)."""
    normalized = key.replace("_", "").replace("-", "").lower()
    return normalized in SECRET_KEYS or normalized.endswith(_SECRET_SUFFIXES)


def redact_text(text: str) -> str:
    """`text` with secret `Name=value` pairs, URL passwords and card-number-like digit runs masked."""
    text = _PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)
    return _scrub_cards(text)


def _scrub_cards(text: str) -> str:
    """Card-like numbers masked, except the values of id fields named in the text itself."""
    kept = [(m.start(2), m.end(2)) for m in _ID_PAIR.finditer(text)]
    if not kept:
        return _CARD.sub(_mask_card, text)
    return _CARD.sub(lambda m: m.group(0) if (m.start(), m.end()) in kept else _mask_card(m), text)


def is_id_key(key: str) -> bool:
    """True if a key names a field holding a gateway or payment id (`transaction_id`, `TransactionId`)."""
    return key.replace("_", "").replace("-", "").lower() in ID_KEYS


def _mask_card(match: re.Match[str]) -> str:
    """Mask a card-like number that passes the Luhn check every card number passes; other standalone digit runs
    (a 13-digit gateway TransactionId, a timestamp) are ids, not cards."""
    digits = re.sub(r"[ -]", "", match.group(0))
    return MASK if _card_shaped(digits) and _luhn(digits) else match.group(0)


def _card_shaped(digits: str) -> bool:
    """A length and first digit a payment card can have: 13 digits only as a Visa (4…); 14-19 digits from the major
    industry identifiers of payment cards, 2 (Mastercard 2-series) to 6 (Discover, UnionPay, Maestro)."""
    if len(digits) == 13:
        return digits[0] == "4"
    return 14 <= len(digits) <= 19 and digits[0] in "23456"


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def redact(value: Any) -> Any:
    """A copy of `value` with secret-named keys' values masked at any depth and strings scrubbed."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            key: (MASK if value[key] is not None else None)
            if isinstance(key, str) and is_secret_key(key)
            else _redact_id(value[key]) if isinstance(key, str) and is_id_key(key)
            else redact(value[key])
            for key in value
        }
    if isinstance(value, list | tuple):
        return type(value)(redact(item) for item in value)
    return value


def _redact_id(value: Any) -> Any:
    """An id field's value: secret pairs and URL passwords scrubbed as anywhere, its digits never taken for a card."""
    if not isinstance(value, str):
        return redact(value)
    text = _PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", value)
    return _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)
