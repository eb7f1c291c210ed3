"""Text we send to a free field of the e-SCOTT gateway, made acceptable in one place (design R14, issue 14).

Checkout refuses, at submission, a text this module cannot make acceptable (`refusal`: a 422 naming the field,
or an `OrderRejected` for a request on Kafka); payment sends `free_text` of the same value. Both use this pure
module, so what checkout accepts is what the gateway accepts (the property tests prove it against the emulator).

The gateway's rules (protocol reference §3, §9.1, §9.12): MerchantFree1-3 are free text, UTF-8, echoed back;
`&` and `=` separate the wire's `key=value` pairs; the exact length is not public, and the emulator fixes the
strictest known reading, at most 32 printable characters (its README, "Choices" 1), answering `K07`-`K09`
otherwise. So a text is made acceptable by these steps, in this order:

1. NFKC, which keeps the meaning of what people type in Japan: the ideographic space U+3000 becomes a space,
   half-width katakana become full-width (ﾀﾞ -> ダ), full-width Latin letters and digits become ASCII.
2. Every whitespace character (tab, CR, LF, no-break space, ideographic space, line and paragraph separators)
   becomes a space; control, format (zero-width space and joiner, BOM, bidi marks, soft hyphen), surrogate,
   private-use and unassigned characters and U+FFFD (what is left of undecodable bytes) are removed; `&`
   and `=` become a space, as payment always did (a buyer named "A&B" stays readable in Sony's screen).
3. Runs of spaces become one space; leading and trailing spaces go.
4. The text is cut to the field's limit, counted in characters (code points), so a character is never split.

A text that is empty after steps 1-3 (only invisible or control characters) cannot identify anybody in Sony's
screen: `refusal` says so. The auth-assist kana fields (`KanaSei`/`KanaMei`, half-width katakana) are not sent
by this system (payment sends no auth-assist values); `name_kana` never reaches the gateway.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MERCHANT_FREE_MAX_CHARS = 32
"""MerchantFree1-3: the strictest known limit (protocol reference §9.1; emulator README, "Choices" 1)."""

WIRE_SEPARATORS = frozenset("&=")
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_REPLACEMENT_CHARACTER = "\ufffd"
_SPACES = re.compile(r" {2,}")


@dataclass(frozen=True)
class FreeField:
    """One free text field of the gateway: its wire name and its limit in characters."""

    wire_name: str
    max_chars: int = MERCHANT_FREE_MAX_CHARS


MERCHANT_FREE1 = FreeField("MerchantFree1")
"""The payment number (R14): 20 digits, always acceptable."""
MERCHANT_FREE2 = FreeField("MerchantFree2")
"""The buyer's name (R14), so Sony's admin screen finds the payment by it."""
MERCHANT_FREE3 = FreeField("MerchantFree3")
"""Unused today."""


def normalise(text: str) -> str:
    """Steps 1-3: what the text becomes on the wire before it is cut (may be empty)."""
    kept = "".join(_wire_char(char) for char in unicodedata.normalize("NFKC", text))
    kept = unicodedata.normalize("NFKC", kept)  # removing a joiner may leave a sequence NFKC composes
    return _SPACES.sub(" ", "".join(_wire_char(char) for char in kept)).strip(" ")


def free_text(text: str, field: FreeField = MERCHANT_FREE2) -> str:
    """The value sent in `field`: normalised and cut to its limit on a character boundary (may be empty)."""
    return normalise(text)[: field.max_chars].rstrip(" ")


def refusal(text: str, field: FreeField = MERCHANT_FREE2) -> str | None:
    """Why `text` cannot go into `field` (None: it can, as `free_text(text, field)`). The reason is shown to
    storefronts, so it names no gateway field, operation or code (R16)."""
    if not normalise(text):
        return ("nothing the card payment can carry is left once control, invisible and separator characters "
                "are removed: give a name with visible characters")
    return None


def _wire_char(char: str) -> str:
    if char.isspace() or char in WIRE_SEPARATORS:
        return " "
    if char == _REPLACEMENT_CHARACTER or unicodedata.category(char) in _REMOVED_CATEGORIES:
        return ""
    return char
