"""The 20-digit payment number (決済番号, R14): sent as MerchantFree1, shown on orders, searchable.

Shape: the JST order date (YYYYMMDD) followed by a 12-digit sequence number. The date makes numbers
readable and sortable for people searching Sony's screen; the sequence (from one database sequence, never
reused) makes them unique on its own, so two orders can never share a number even across days.
"""

from __future__ import annotations

import re
from datetime import date

SEQUENCE_DIGITS = 12
_SHAPE = re.compile(r"^[0-9]{20}$")


def payment_number(order_date: date, sequence: int) -> str:
    """The payment number of the `sequence`-th order, placed on `order_date` (JST)."""
    if not 0 < sequence < 10**SEQUENCE_DIGITS:
        raise ValueError(f"payment number sequence out of range: {sequence}")
    return f"{order_date:%Y%m%d}{sequence:0{SEQUENCE_DIGITS}d}"


def is_payment_number(text: str) -> bool:
    return bool(_SHAPE.match(text))
