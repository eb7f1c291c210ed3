"""The services' HTTP APIs as the front ends call them: one pooled client, the caller's key in a header (never in
a URL), and every answer — success or problem details (RFC 9457) — as an `Answer` the page can show as it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

SERVICES = ("checkout", "payment", "subscription", "notification")


@dataclass(frozen=True, kw_only=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def reason_code(self) -> str:
        return str(self.body.get("reason_code", "")) if isinstance(self.body, dict) else ""

    @property
    def message(self) -> str:
        """What the API said went wrong: its `detail` and each field error, as given."""
        if not isinstance(self.body, dict):
            return f"HTTP {self.status}"
        text = str(self.body.get("detail") or self.body.get("reason") or self.body.get("title") or "")
        for error in self.body.get("errors") or []:
            loc = ".".join(str(p) for p in error.get("loc", []) if p != "body")
            text += f"\n{loc}: {error.get('msg', '')}" if loc else f"\n{error.get('msg', '')}"
        return text.strip() or f"HTTP {self.status}"


def segment(value: str) -> str:
    """One path segment, percent-encoded (ids come from users and URLs)."""
    return quote(value, safe="")


class Api:
    """Calls to the four services; `key_header` is `X-Operator-Key` (console) or `X-Storefront-Key` (storefront)."""

    def __init__(self, urls: dict[str, str], *, key_header: str, timeout_s: float = 40.0):
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self.key_header = key_header
        self.http = httpx.AsyncClient(timeout=timeout_s)

    async def call(self, service: str, method: str, path: str, *, key: str, json: Any = None,
                   params: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Answer:
        wanted = {self.key_header: key, **(headers or {})}
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            response = await self.http.request(method, self.urls[service] + path, json=json, params=query,
                                               headers=wanted)
        except httpx.HTTPError as exc:
            return Answer(status=503, body={"detail": f"{service} に接続できません ({type(exc).__name__})",
                                            "reason_code": "service_unreachable"})
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = {"detail": response.text[:500]}
        return Answer(status=response.status_code, body=body, headers=dict(response.headers))

    async def aclose(self) -> None:
        await self.http.aclose()
