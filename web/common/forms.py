"""Form bodies (application/x-www-form-urlencoded) parsed with the standard library: the front ends post no
files, so no multipart parser is needed."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import HTTPException, Request

MAX_FORM_BYTES = 256 * 1024


async def read_form(request: Request) -> dict[str, str]:
    """The last value of each field."""
    return dict(await read_form_items(request))


async def read_form_items(request: Request) -> list[tuple[str, str]]:
    """Every (name, value) pair in order (repeated fields, e.g. the order ids of a bulk capture)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, "フォームが大きすぎます")
    return parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)


def int_field(form: dict[str, str], name: str) -> int | None:
    """An integer field, or None if blank or not a number (the API then says what is wrong)."""
    text = form.get(name, "").strip().replace(",", "")
    try:
        return int(text)
    except ValueError:
        return None
