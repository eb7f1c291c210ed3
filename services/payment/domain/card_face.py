"""What a member may see of the card stored at the gateway, as 4MemRefM shows it (design §6.8, R18): the brand, the
masked number (first 4 and last 4 digits) and the expiry month. Never the number itself (I5).

The expiry month is kept as `YYYY-MM` (the card event contracts' form); a card is valid through the end of its
month, so it is "expired" from the first day of the next month and "expires this month" during its last month.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_YYMM = re.compile(r"([0-9]{2})(0[1-9]|1[0-2])\Z")
_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])\Z")
_COMPANIES = {"VS": "Visa", "MC": "Mastercard", "JC": "JCB", "AX": "American Express", "DC": "Diners Club"}
"""CompanyCd values the gateway is known to answer (protocol reference §3: a short card company code)."""
_PREFIXES = (("4", "Visa"), ("35", "JCB"), ("34", "American Express"), ("37", "American Express"),
             ("36", "Diners Club"), ("30", "Diners Club"), ("38", "Diners Club"), ("5", "Mastercard"),
             ("2", "Mastercard"))
"""The brand by the first digits of the number, where the company code says nothing we know."""


@dataclass(frozen=True, kw_only=True)
class CardFace:
    """The stored card as shown: masked number, expiry month (YYYY-MM) and brand; any may be unknown (None)."""

    masked: str | None = None
    expiry: str | None = None
    brand: str | None = None

    @property
    def complete(self) -> bool:
        """Both the masked number and the expiry are known (enough to tell one card from another)."""
        return self.masked is not None and self.expiry is not None

    @property
    def first4(self) -> str | None:
        return self.masked[:4] if self.masked and len(self.masked) >= 8 else None

    @property
    def last4(self) -> str | None:
        return self.masked[-4:] if self.masked and len(self.masked) >= 8 else None


def expiry_month(card_exp: str | None) -> str | None:
    """The gateway's `CardExp` (YYMM) as `YYYY-MM`; None when missing or malformed."""
    found = _YYMM.match(card_exp or "")
    return f"20{found.group(1)}-{found.group(2)}" if found else None


def brand_name(company_code: str | None, masked: str | None) -> str | None:
    """The brand of the stored card: from the gateway's company code, else from the number's first digits."""
    if company_code and company_code in _COMPANIES:
        return _COMPANIES[company_code]
    digits = masked or ""
    return next((brand for prefix, brand in _PREFIXES if digits.startswith(prefix)), company_code or None)


@dataclass(frozen=True, kw_only=True)
class ExpiryStatus:
    expired: bool
    expires_this_month: bool


def expiry_status(expiry: str | None, today: date) -> ExpiryStatus | None:
    """Whether a card expiring in `expiry` (YYYY-MM) has expired, or expires this month, on `today` (JST)."""
    found = _MONTH.match(expiry or "")
    if found is None:
        return None
    month, now = (int(found.group(1)), int(found.group(2))), (today.year, today.month)
    return ExpiryStatus(expired=month < now, expires_this_month=month == now)
