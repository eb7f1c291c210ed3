"""e-SCOTT wire format: form-encoded UTF-8 requests in, ``key=value&…`` replies out.

Pure functions so the framing rules of the protocol reference (§1.2, §4.1, §8.2) are tested without a
server: replies carry no blank line, no trailing newline, and only URL-safe characters, because the PHP
plugins split raw replies on ``\\r\\n\\r\\n`` and several clients split on ``&``/``=`` without decoding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote

_SAFE_VALUE = re.compile(r"[0-9A-Za-z*|/._-]*\Z")


def parse_params(query: str, body: bytes) -> dict[str, str]:
    """Merge parameters from the query string and a form body (body wins), decoding UTF-8.

    SFRA sends everything in the query string of a POST; the PHP plugins send a form body. Undecodable
    bytes are replaced rather than rejected so field validation can report the offending field.
    """
    params = dict(parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="replace"))
    if body:
        text = body.decode("utf-8", errors="replace")
        params.update(parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace"))
    return params


def encode_value(value: str) -> str:
    """Return ``value`` unchanged when URL-safe, else percent-encoded UTF-8 (never a raw ``&``/``=``)."""
    if _SAFE_VALUE.match(value):
        return value
    return quote(value, safe="*|/._-")


def encode_reply(fields: Mapping[str, str] | Iterable[tuple[str, str]]) -> bytes:
    """Encode reply fields as ``k=v&k=v`` bytes without any newline."""
    items = fields.items() if isinstance(fields, Mapping) else fields
    return "&".join(f"{key}={encode_value(value)}" for key, value in items).encode("ascii")


def decode_reply(body: bytes) -> dict[str, str]:
    """Parse a reply body back into fields (used by tests and the admin tooling)."""
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
