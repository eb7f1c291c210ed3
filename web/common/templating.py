"""Jinja2 with autoescaping on for every template (shop names, notes and buyer data are user text), and the
filters the pages use: yen amounts and times in Japan time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

JST = timezone(timedelta(hours=9), "JST")


def yen(value: Any) -> str:
    if value is None or value == "":
        return "—"
    try:
        return f"¥{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def jst(value: Any) -> str:
    """An ISO timestamp shown in Japan time (dates pass through)."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        return str(value)
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S")


class Pages:
    def __init__(self, directory: Path):
        # Lenient undefined: an API answer may leave an optional member out, and the page shows it blank.
        self.env = Environment(loader=FileSystemLoader(directory), autoescape=select_autoescape(default=True),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.filters.update(yen=yen, jst=jst)

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(name).render(request=request, **context)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


# No inline scripts run except our own files; no frames; no referrer leaks of order ids to other sites.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
