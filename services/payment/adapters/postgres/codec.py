"""JSON column encodings of the operation values on a payment (in progress, unknown, previous hold).

Written and read explicitly, field by field, so a stored row is readable by a person and a renamed field
breaks a test rather than an operator's payment. Never holds a secret (the old ProcessPass has its own column).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from services.payment.domain.actions import Action, HoldState, InProgress, PreviousHold, UnknownOperation
from services.payment.domain.operations import Operation


def _dumps(data: dict[str, Any] | None) -> str | None:
    return None if data is None else json.dumps(data, ensure_ascii=False)


def in_progress_to_json(value: InProgress | None) -> str | None:
    if value is None:
        return None
    return _dumps({**asdict(value), "since": value.since.isoformat()})


def in_progress_from_json(raw: str | None) -> InProgress | None:
    if raw is None:
        return None
    d = json.loads(raw)
    return InProgress(Action(d["action"]), Operation(d["step"]), d["attempt_id"], datetime.fromisoformat(d["since"]),
                      d["requested_by"], d["target_amount"], d["on_previous"], d["unsent"])


def unknown_to_json(value: UnknownOperation | None) -> str | None:
    return None if value is None else _dumps(asdict(value))


def unknown_from_json(raw: str | None) -> UnknownOperation | None:
    if raw is None:
        return None
    d = json.loads(raw)
    return UnknownOperation(Action(d["action"]), Operation(d["step"]), d["attempt_id"], d["requested_by"],
                            d["target_amount"], d["reason"])


def previous_to_json(value: PreviousHold | None) -> str | None:
    return None if value is None else _dumps({**asdict(value), "codes": list(value.codes)})


def previous_from_json(raw: str | None) -> PreviousHold | None:
    if raw is None:
        return None
    d = json.loads(raw)
    return PreviousHold(d["process_id"], d["transaction_id"], d["amount"], HoldState(d["state"]), tuple(d["codes"]),
                        d["reason"])
