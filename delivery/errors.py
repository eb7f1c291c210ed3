"""How a handler tells the consumer what kind of failure it hit.

- `InvalidMessage`: the record can never be processed (bad bytes, schema violation): dead-letter at once.
- `PermanentError`: valid record, but processing it can never succeed: dead-letter at once.
- anything else: transient; retried with backoff, dead-lettered when the attempts run out.
Messages in these exceptions end up in logs and DLQ headers: they must never contain secrets.
"""

from __future__ import annotations

from pydantic import ValidationError


class InvalidMessage(Exception):
    pass


class PermanentError(Exception):
    pass


def describe_validation_error(exc: ValidationError) -> str:
    """Field paths and messages only: pydantic's default text would echo the input (maybe a token)."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        location = ".".join(str(p) for p in error["loc"]) or "<root>"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)
