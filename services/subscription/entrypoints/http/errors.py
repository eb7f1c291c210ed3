"""This service's refusals as problem details (`application/problem+json`, RFC 9457, with a stable `reason_code`):
the one shape of every service, built by `delivery.problems` (style rule 13, issue 14); here only which domain
error is which problem.

    {"type": "urn:problem:subscription:subscription_canceled", "title": "Conflict", "status": 409,
     "detail": "subscription sub-... is canceled", "reason_code": "subscription_canceled", "errors": [],
     "state": {"status": "canceled", "next_cycle_on": null, "ends_on": null}}

Domain errors map by class (`PROBLEMS`); a 409 carries the subscription's current state. The key guards'
401/404 and request validation (which never echoes the input) get the same shape from `delivery.problems`.
"""

from __future__ import annotations

from typing import Any

from delivery.problems import Problem, Refusal
from services.subscription.domain import errors
from services.subscription.entrypoints.http.views import state_view

PROBLEMS: dict[type[errors.SubscriptionError], tuple[int, str]] = {
    errors.SubscriptionNotFound: (404, "subscription_not_found"),
    errors.SubscriptionCanceled: (409, "subscription_canceled"),
    errors.SubscriptionEnding: (409, "subscription_ending"),
    errors.SubscriptionPaused: (409, "subscription_paused"),
    errors.InvalidCycle: (422, "invalid_cycle"),
    errors.InvalidNextDate: (422, "invalid_next_date"),
    errors.InvalidLines: (422, "invalid_lines"),
}


def refused(exc: Exception) -> Problem:
    """The problem of a domain error (`service_app(refusals=REFUSALS)`)."""
    assert isinstance(exc, errors.SubscriptionError)
    status, code = next((p for cls, p in PROBLEMS.items() if isinstance(exc, cls)), (422, "refused"))
    extra: dict[str, Any] = {"state": state_view(exc.subscription)} if isinstance(exc, errors.StateConflict) else {}
    return Problem(status, code, str(exc), **extra)


REFUSALS: dict[type[Exception], Refusal] = {errors.SubscriptionError: refused}
