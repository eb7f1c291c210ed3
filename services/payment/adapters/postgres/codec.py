"""JSON column encodings of the action values on a payment (running action, unknown action, previous hold).

Written and read explicitly, field by field, so a stored row is readable by a person and a renamed field
breaks a test rather than an operator's payment. Never holds a secret (the old ProcessPass has its own column).
The columns keep their first names: `in_progress` (the running action), `unknown_operation` (the unknown one).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from services.payment.domain.actions import Action, HoldState, PreviousHold, RunningAction, UnknownAction
from services.payment.domain.authentication import Authentication, AuthenticationRequest, AuthenticationState
from services.payment.domain.gateway import GatewayOperation


def _dumps(data: dict[str, Any] | None) -> str | None:
    return None if data is None else json.dumps(data, ensure_ascii=False)


def running_to_json(value: RunningAction | None) -> str | None:
    if value is None:
        return None
    return _dumps({**asdict(value), "since": value.since.isoformat()})


def running_from_json(raw: str | None) -> RunningAction | None:
    if raw is None:
        return None
    d = json.loads(raw)
    return RunningAction(action=Action(d["action"]), step=GatewayOperation(d["step"]), attempt_id=d["attempt_id"],
                         since=datetime.fromisoformat(d["since"]), requested_by=d["requested_by"],
                         target_amount=d["target_amount"], on_previous=d["on_previous"], unsent=d["unsent"])


def unknown_to_json(value: UnknownAction | None) -> str | None:
    return None if value is None else _dumps(asdict(value))


def unknown_from_json(raw: str | None) -> UnknownAction | None:
    if raw is None:
        return None
    d = json.loads(raw)
    return UnknownAction(action=Action(d["action"]), step=GatewayOperation(d["step"]), attempt_id=d["attempt_id"],
                         requested_by=d["requested_by"], target_amount=d["target_amount"], reason=d["reason"])


def previous_to_json(value: PreviousHold | None) -> str | None:
    return None if value is None else _dumps({**asdict(value), "codes": list(value.codes)})


def previous_from_json(raw: str | None) -> PreviousHold | None:
    if raw is None:
        return None
    d = json.loads(raw)
    return PreviousHold(process_id=d["process_id"], transaction_id=d["transaction_id"], amount=d["amount"],
                        state=HoldState(d["state"]), codes=tuple(d["codes"]), reason=d["reason"])


def authentication_to_json(value: Authentication | None) -> str | None:
    """The 3-D Secure round trip; its result fields are proof of an authentication, not card data."""
    if value is None:
        return None
    request = value.request
    return _dumps({"deadline": request.deadline.isoformat(), "accepted_results": list(request.accepted_results),
                   "return_url": request.return_url, "proc_no": value.proc_no, "state": value.state.value,
                   "result": value.result, "codes": list(value.codes)})


def authentication_from_json(raw: str | None) -> Authentication | None:
    if raw is None:
        return None
    d = json.loads(raw)
    request = AuthenticationRequest(deadline=datetime.fromisoformat(d["deadline"]),
                                    accepted_results=tuple(d["accepted_results"]), return_url=d["return_url"])
    return Authentication(request=request, proc_no=d["proc_no"], state=AuthenticationState(d["state"]),
                          result=dict(d["result"]), codes=tuple(d["codes"]))
