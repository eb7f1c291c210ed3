"""Secrets never reach logs, events or error texts (invariant I5).

Two nets: values under secret-sounding keys are masked whole, and free text is scrubbed of card-number-like
digit runs and of `Name=value` pairs whose name is a secret (the e-SCOTT wire format is `key=value&...`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "***"
SECRET_KEYS = frozenset({
    "password", "passwd", "pass", "secret", "token", "card_number", "cardno", "card_no", "seccd",
    "security_code", "cvv", "merchantpass", "merchant_pass", "kaiinpass", "kaiin_pass", "processpass",
    "process_pass", "authorization", "api_key", "operator_key", "storefront_key", "tokenninsyocode",
    "k_tokenninsyocode", "token_auth_code", "encryption_key",
})
_SECRET_NAME = r"(?:MerchantPass|KaiinPass|ProcessPass|Token|CardNo|SecCd|k_TokenNinsyoCode|password|token)"
_PAIR = re.compile(rf"(?i)\b({_SECRET_NAME})(\s*[=:]\s*)([^&\s,;'\"]+)")
_CARD = re.compile(r"(?<!\d)\d{13,19}(?!\d)")
_URL_PASSWORD = re.compile(r"(//[^:/@\s]+:)([^@\s]+)(@)")


def is_secret_key(key: str) -> bool:
    normalized = key.lower().replace("-", "_")
    return normalized in SECRET_KEYS or normalized.endswith(("_password", "_pass", "_token", "_secret"))


def redact_text(text: str) -> str:
    text = _PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)
    return _CARD.sub(MASK, text)


def redact(value: Any) -> Any:
    """Deep copy of `value` with secrets masked."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: MASK if isinstance(k, str) and is_secret_key(k) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    return value
