"""Field format rules of the e-SCOTT messages and the code each violation yields (reference §3, §4.2).

Every check returns the code to report or ``None``; callers collect them so several format errors come
back together (``K20|K21|K24``), as reference §8.4 asks. Lengths that the reference leaves open (§9.1, §9.2)
are fixed here and documented in the emulator README ("Field limits": which are known, which are guesses);
an unknown limit is never below what a public integration is seen to send.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date

MAX_AMOUNT_DIGITS = 7
"""ECC's limit (¥9,999,999); WEL's comment says 8 digits. The stricter one is the default (``--max-amount-digits``)."""
MERCHANT_FREE_MAX = 32
KAIIN_ID_MAX = 20
"""A guess. WooCommerce sends ``wc<WordPress user id>i<7 digits>`` (14 characters from user 1000 on; 20 for a
10-digit user id), Welcart and EC-CUBE 13, CS-Cart 12, SFRA 11."""
KAIIN_PASS_MAX = 12
PAY_TYPES = frozenset({"01", "02", "03", "05", "06", "10", "12", "15", "18", "20", "24", "80", "88"})

_DIGITS = re.compile(r"[0-9]+\Z")
_ALNUM = re.compile(r"[0-9A-Za-z]+\Z")
_HALF_KANA = re.compile(r"[\uff61-\uff9f ]{1,30}\Z")

Check = Callable[[str], bool]


def is_digits(value: str, lo: int, hi: int) -> bool:
    """True when ``value`` is lo..hi ASCII digits."""
    return lo <= len(value) <= hi and bool(_DIGITS.match(value))


def is_alnum(value: str, lo: int, hi: int) -> bool:
    """True when ``value`` is lo..hi ASCII letters or digits."""
    return lo <= len(value) <= hi and bool(_ALNUM.match(value))


def parse_yyyymmdd(value: str) -> date | None:
    """Parse ``YYYYMMDD`` into a date, or ``None`` when it is not a real calendar date."""
    if not is_digits(value, 8, 8):
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def is_card_exp(value: str) -> bool:
    """``YYMM`` with a month 01–12."""
    return is_digits(value, 4, 4) and 1 <= int(value[2:]) <= 12


def is_amount(value: str, digits: int = MAX_AMOUNT_DIGITS) -> bool:
    """Positive integer yen, no sign or leading zero, at most ``digits`` digits."""
    return is_digits(value, 1, digits) and value[0] != "0"


def is_merchant_free(value: str) -> bool:
    """Free text up to ``MERCHANT_FREE_MAX`` characters (code points of the UTF-8 value, reference §9.12), each
    printable (no control, format, unassigned or private-use character, and no space but U+0020), without the
    wire separators ``&``/``=``, and without U+FFFD: undecodable bytes arrive as that replacement character
    (``wire.parse_params``), and a value that was not UTF-8 is a format error, not text."""
    return len(value) <= MERCHANT_FREE_MAX and all(c.isprintable() and c not in "&=\ufffd" for c in value)


def luhn_ok(pan: str) -> bool:
    """Luhn checksum; a failing number is ``K82`` (card number invalid content)."""
    total = 0
    for index, char in enumerate(reversed(pan)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


FORMATS: dict[str, tuple[str, Check]] = {
    "MerchantId": ("K02", lambda v: is_digits(v, 1, 20)),
    "MerchantPass": ("K03", lambda v: is_alnum(v, 1, 20)),
    "TenantId": ("K04", lambda v: is_alnum(v, 4, 4)),
    "TransactionDate": ("K05", lambda v: parse_yyyymmdd(v) is not None),
    "MerchantFree1": ("K07", is_merchant_free),
    "MerchantFree2": ("K08", is_merchant_free),
    "MerchantFree3": ("K09", is_merchant_free),
    "ProcessId": ("K10", lambda v: is_alnum(v, 32, 32)),
    "ProcessPass": ("K11", lambda v: is_alnum(v, 32, 32)),
    "CardNo": ("K20", lambda v: is_digits(v, 13, 19)),
    "CardExp": ("K21", is_card_exp),
    "PayType": ("K22", lambda v: v in PAY_TYPES),
    "Amount": ("K23", is_amount),
    "SecCd": ("K24", lambda v: is_digits(v, 3, 4)),
    "KanaSei": ("K25", lambda v: bool(_HALF_KANA.match(v))),
    "KanaMei": ("K26", lambda v: bool(_HALF_KANA.match(v))),
    "BirthDay": ("K27", lambda v: is_digits(v, 4, 4)),
    "TelNo": ("K28", lambda v: is_digits(v, 4, 4)),
    "SalesDate": ("K39", lambda v: parse_yyyymmdd(v) is not None),
    "KaiinId": ("K45", lambda v: is_alnum(v, 1, KAIIN_ID_MAX)),
    "KaiinPass": ("K46", lambda v: is_alnum(v, 1, KAIIN_PASS_MAX)),
    "NewKaiinPass": ("K47", lambda v: is_alnum(v, 1, KAIIN_PASS_MAX)),
    "EnableCheckUseKbn": ("K48", lambda v: v in {"0", "1"}),
    "Token": ("KHX", lambda v: is_alnum(v, 16, 64)),
    "k_TokenNinsyoCode": ("KI1", lambda v: is_alnum(v, 1, 32)),
}


def formats_for(max_amount_digits: int) -> dict[str, tuple[str, Check]]:
    """``FORMATS`` with the configured Amount limit (``EngineConfig.max_amount_digits``)."""
    return {**FORMATS, "Amount": ("K23", lambda v: is_amount(v, max_amount_digits))}


def check_formats(
    params: Mapping[str, str], required: tuple[str, ...], optional: tuple[str, ...], *,
    formats: Mapping[str, tuple[str, Check]] = FORMATS,
) -> list[str]:
    """Codes for every missing required field and every present field with a bad format, in field order."""
    codes: list[str] = []
    for name in (*required, *optional):
        code, check = formats[name]
        value = params.get(name, "")
        bad = (value == "" and name in required) or (value != "" and not check(value))
        if bad and code not in codes:
            codes.append(code)
    return codes
