"""Masking of secrets before anything is shown (design I5: no secret in logs, events or errors).

Two nets: values under secret-named keys are masked whole (works on raw dicts such as an envelope's `data`
or a gateway request), and free text is scrubbed of card-number-like digit runs, of `Name=value` pairs whose
name is a secret (the e-SCOTT wire format is `key=value&...`) and of passwords in URLs. The envelope's repr,
the JSON log renderer and dead-letter reasons all use this one module.
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
_CARD = re.compile(r"(?<!\d)\d{13,19}(?!\d)")
_URL_PASSWORD = re.compile(r"(//[^:/@\s]+:)([^@\s]+)(@)")


def is_secret_key(key: str) -> bool:
    """True if a key names a secret (`token`, `KaiinPass`, `merchant_pass`, `db_password`, ...)."""
    normalized = key.replace("_", "").replace("-", "").lower()
    return normalized in SECRET_KEYS or normalized.endswith(_SECRET_SUFFIXES)


def redact_text(text: str) -> str:
    """`text` with secret `Name=value` pairs, URL passwords and card-number-like digit runs masked."""
    text = _PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)
    return _CARD.sub(MASK, text)


def redact(value: Any) -> Any:
    """A copy of `value` with secret-named keys' values masked at any depth and strings scrubbed."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            key: (MASK if value[key] is not None else None)
            if isinstance(key, str) and is_secret_key(key)
            else redact(value[key])
            for key in value
        }
    if isinstance(value, list | tuple):
        return type(value)(redact(item) for item in value)
    return value
