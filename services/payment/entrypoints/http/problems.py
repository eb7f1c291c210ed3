"""The problem answer (`application/problem+json`, RFC 9457, with a stable `reason_code`) of payment's card
management API (style rule 13): built here, in one place.

    {"type": "urn:problem:payment:active_subscription", "title": "Conflict", "status": 409,
     "detail": "...", "reason_code": "active_subscription", "subscriptions": ["sub-1"]}
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse

MEDIA_TYPE = "application/problem+json"


def problem(status: int, reason_code: str, detail: str, **extensions: Any) -> JSONResponse:
    body = {"type": f"urn:problem:payment:{reason_code}", "title": HTTPStatus(status).phrase, "status": status,
            "detail": detail, "reason_code": reason_code, **extensions}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)
