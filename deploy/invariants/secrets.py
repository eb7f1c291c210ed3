"""I5's secret scan of one text (a log line, a topic record): what a redactor would mask, plus the secrets the
run itself handed out (tokens issued, card numbers typed, the merchant's password and token auth code)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from contracts.redaction import MASK
from deploy.invariants.facts import SecretHit

_PAIR = re.compile(r"(?i)\b(MerchantPass|KaiinPass|ProcessPass|CardNo|SecCd|k_TokenNinsyoCode|Token)=([^&\s,;'\"]+)")
_JSON_SECRET = re.compile(r'(?i)"(kaiin_?pass|process_?pass|merchant_?pass(?:word)?|card_?no|card_?number|token)"'
                          r'\s*:\s*"([^"]+)"')

_CARD = re.compile(r"(?<![\w-])[2-6]\d{3}(?P<sep>[ -]?)\d{4}(?P=sep)\d{4}(?P=sep)\d{1,7}(?![\w-])")
"""A card-like number: 13-19 digits starting 2-6 (the card networks' first digits), plain or in groups of four.
Gateway TransactionIds (13 digits starting with 1 at the emulator) and our 20-digit payment numbers are not."""
_URL_PASSWORD = re.compile(r"//[^:/@\s]+:([^@\s]+)@")
_WORD_CHARS = re.compile(r"\w+", re.ASCII)
"""A secret made only of these characters (every token the gateway issues) lies inside one maximal run of them
wherever it appears, so it is found by looking up that run's windows of its length in a set."""
MIN_KNOWN = 6


def luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


class SecretScanner:
    """Finds secrets in texts; `known` are literal values that must appear nowhere (at least 6 characters).

    A long run hands out one token per order, so `known` holds ten thousand values: one regex alternation of them
    tries every value at every position of every text (hours for a 10,000-order run's logs). Values made of word
    characters are looked up instead: each maximal word run of a text, and its windows of each known length, in a
    set; only the few others (a password with punctuation) go into a regex."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        distinct = {k for k in known if len(k) >= MIN_KNOWN}
        self._words: dict[int, set[str]] = {}
        for value in distinct:
            if _WORD_CHARS.fullmatch(value):
                self._words.setdefault(len(value), set()).add(value)
        others = sorted((k for k in distinct if not _WORD_CHARS.fullmatch(k)), key=len, reverse=True)
        self.pattern = re.compile("|".join(re.escape(k) for k in others)) if others else None
        self._shortest = min(self._words, default=0)

    def _holds_known(self, text: str) -> bool:
        if self.pattern is not None and self.pattern.search(text):
            return True
        if not self._words:
            return False
        for run in _WORD_CHARS.findall(text):
            if len(run) < self._shortest:
                continue
            for length, values in self._words.items():
                if any(run[i:i + length] in values for i in range(len(run) - length + 1)):
                    return True
        return False

    def scan(self, text: str, where: str) -> list[SecretHit]:
        hits = []
        if self._holds_known(text):
            hits.append(SecretHit(where=where, kind="known secret"))
        for match in _PAIR.finditer(text):
            if match.group(2) != MASK:
                hits.append(SecretHit(where=where, kind=f"{match.group(1)}= pair"))
        for match in _JSON_SECRET.finditer(text):
            if match.group(2) != MASK:
                hits.append(SecretHit(where=where, kind=f'"{match.group(1)}" field'))
        for match in _CARD.finditer(text):
            digits = re.sub(r"[ -]", "", match.group(0))
            if 13 <= len(digits) <= 19 and luhn(digits):
                hits.append(SecretHit(where=where, kind="card number"))
        for match in _URL_PASSWORD.finditer(text):
            if match.group(1) != MASK:
                hits.append(SecretHit(where=where, kind="password in a URL"))
        return hits
