"""Text PostgreSQL cannot store, refused at the HTTP edge of every service (a 422, never a 500).

JSON allows `\\u0000` (NUL) and unpaired surrogates (`\\ud800`); pydantic's `str` accepts them, and only the
database notices (NUL cannot be stored in text, and UTF-8 cannot encode a lone surrogate), after validation, as
an internal error. Found by fuzzing the running stack's OpenAPI (schemathesis).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

MESSAGE = "text must not contain NUL characters or unpaired surrogates"


async def reject_unstorable_text(request: Request) -> None:
    """A dependency of every route: 422 (through the service's own validation-error format) for a JSON body
    with unstorable text, pointing at the first offending field."""
    if request.method not in ("POST", "PUT", "PATCH") or not request.headers.get("content-type", "").startswith(
            "application/json"):
        return
    try:
        body = await request.json()
    except ValueError:
        return  # not JSON at all: the body model reports it
    where = _unstorable(body, ("body",))
    if where is not None:
        raise RequestValidationError([{"loc": where, "type": "value_error", "msg": MESSAGE}])


def _unstorable(value: Any, loc: tuple[Any, ...]) -> tuple[Any, ...] | None:
    if isinstance(value, str):
        return None if _encodable(value) else loc
    if isinstance(value, dict):
        for key, item in value.items():
            found = _unstorable(key, loc) or _unstorable(item, (*loc, key))
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _unstorable(item, (*loc, index))
            if found is not None:
                return found
    return None


def _encodable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
