"""I5's secret scan of one text (a log line, a topic record): what a redactor would mask, plus the secrets the
run itself handed out (tokens issued, card numbers typed, the merchant's password and token auth code)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from contracts.redaction import MASK, redact_text
from deploy.invariants.facts import SecretHit

_PAIR = re.compile(r"(?i)\b(MerchantPass|KaiinPass|ProcessPass|CardNo|SecCd|k_TokenNinsyoCode|Token)=([^&\s,;'\"]+)")
_JSON_SECRET = re.compile(r'(?i)"(kaiin_?pass|process_?pass|merchant_?pass(?:word)?|card_?no|card_?number|token)"'
                          r'\s*:\s*"([^"]+)"')


class SecretScanner:
    """Finds secrets in texts; `known` are literal values that must appear nowhere (at least 6 characters)."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self.known = sorted({k for k in known if len(k) >= 6}, key=len, reverse=True)
        self.pattern = re.compile("|".join(re.escape(k) for k in self.known)) if self.known else None

    def scan(self, text: str, where: str) -> list[SecretHit]:
        hits = []
        if self.pattern is not None and self.pattern.search(text):
            hits.append(SecretHit(where=where, kind="known secret"))
        for match in _PAIR.finditer(text):
            if match.group(2) != MASK:
                hits.append(SecretHit(where=where, kind=f"{match.group(1)}= pair"))
        for match in _JSON_SECRET.finditer(text):
            if match.group(2) != MASK:
                hits.append(SecretHit(where=where, kind=f'"{match.group(1)}" field'))
        if not hits and redact_text(text).count(MASK) > text.count(MASK):
            hits.append(SecretHit(where=where, kind="card-like number or URL password"))
        return hits
