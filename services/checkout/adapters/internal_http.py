"""PUT to another service's internal API (`X-Internal-Token` is set on the client by the app).

Errors never carry response bodies: a framework's validation answer may echo the request, and a request may
hold a merchant password. Only the status code or the exception type is reported.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from services.checkout.ports import InternalServiceError


async def put_json(client: httpx.AsyncClient, path: str, body: dict[str, str], *, service: str,
                   error: type[InternalServiceError] = InternalServiceError) -> None:
    try:
        response = await client.put(path, json=body)
    except httpx.HTTPError as exc:
        raise error(f"{service} service unreachable ({type(exc).__name__})") from None
    if response.status_code not in (200, 204):
        refused = 400 <= response.status_code < 500
        what = "refused the request" if refused else "failed"
        raise error(f"{service} service {what} (HTTP {response.status_code})", refused=refused)


def segment(value: str) -> str:
    """A path segment: shop and member ids are quoted whole."""
    return quote(value, safe="")
