"""Idempotency keys that tell the truth (issue 14): the same key with the same body repeats the first outcome; the
same key with a different body is a conflict that says which fields differ (HTTP 409 `idempotency_key_reused`,
or a dead letter with that reason on Kafka).

A body is remembered as its fingerprint: one short SHA-256 per leaf field (`lines.0.quantity`, `payment.token`),
never the values, so a stored fingerprint holds no personal data and no secret, yet names what changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

REASON_CODE = "idempotency_key_reused"
Fingerprint = dict[str, str]


class IdempotencyKeyReused(Exception):
    """A key seen before came with a different body: `fields` are the differing leaf paths."""

    def __init__(self, key: str, fields: list[str]):
        super().__init__(f"{key} was first used with a different body; differing fields: {', '.join(fields)}")
        self.key = key
        self.fields = fields


def fingerprint(body: Any) -> Fingerprint:
    """One hash per leaf of a JSON-like value (dicts by key, lists by index; empty containers are leaves)."""
    found: Fingerprint = {}
    _leaves(body, "", found)
    return found


def body_sha256(body: Any) -> str:
    """The SHA-256 of the canonical JSON of a whole body (sorted keys), e.g. an event's `data`."""
    return hashlib.sha256(_canonical(body).encode()).hexdigest()


def differing(first: Mapping[str, str] | None, again: Mapping[str, str]) -> list[str]:
    """The leaf paths whose values differ between two fingerprints (none when the first is unknown)."""
    if first is None:
        return []
    return sorted(path for path in first.keys() | again.keys() if first.get(path) != again.get(path))


def _leaves(value: Any, path: str, found: Fingerprint) -> None:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            _leaves(item, f"{path}.{key}" if path else str(key), found)
    elif isinstance(value, list | tuple) and value:
        for index, item in enumerate(value):
            _leaves(item, f"{path}.{index}" if path else str(index), found)
    else:
        found[path or "$"] = hashlib.sha256(_canonical(value).encode()).hexdigest()[:16]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
