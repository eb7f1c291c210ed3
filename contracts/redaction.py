"""Masking of secrets in nested data before it is shown (design I5: no secret in logs, events or errors).

Masking is by key name, so it also works on raw dicts (an envelope's `data`, a gateway request) whose values
are plain strings. The log configuration and the envelope's repr both use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MASK = "**********"

SECRET_KEYS: frozenset[str] = frozenset(
    {
        "token",
        "cardno",
        "cardnumber",
        "cardexp",
        "seccd",
        "securitycode",
        "password",
        "merchantpass",
        "kaiinpass",
        "processpass",
        "tokenauthcode",
        "ktokenninsyocode",
        "tokenninsyocode",
    }
)
"""Normalised (lower case, no `_`/`-`) names of keys whose values are secrets."""


def is_secret_key(key: str) -> bool:
    """True if a key names a secret (`token`, `KaiinPass`, `merchant_pass`, `k_TokenNinsyoCode`, ...)."""
    return key.replace("_", "").replace("-", "").lower() in SECRET_KEYS


def redact(value: Any) -> Any:
    """A copy of `value` with every secret-named key's value (at any depth) replaced by `MASK`."""
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
