"""What each cycle delivers: the first order's buyer, shipping, lines and fees (replayed in every renewal order).

Changes to the lines apply from the next generated cycle: a renewal order copies the contents at the moment it
is generated, and an order already generated keeps what it had.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from services.subscription.domain.errors import InvalidLines


@dataclass(frozen=True, kw_only=True)
class Buyer:
    """The member who subscribed (R19: never a guest)."""

    name: str
    name_kana: str
    email: str
    member_id: str


@dataclass(frozen=True, kw_only=True)
class Shipping:
    """Where each delivery goes. `fee` None is "to be advised" (R21 then skips the renewal's authorization)."""

    carrier_id: str
    fee: int | None
    recipient_name: str
    postal_code: str
    prefecture: str
    city: str
    address_line1: str
    address_line2: str = ""
    phone: str | None = None


@dataclass(frozen=True, kw_only=True)
class Line:
    sku: str
    name: str
    unit_price: int
    quantity: int


@dataclass(frozen=True)
class Fee:
    name: str
    amount: int | None


@dataclass(frozen=True, kw_only=True)
class Contents:
    buyer: Buyer
    shipping: Shipping
    lines: tuple[Line, ...]
    fees: tuple[Fee, ...] = ()

    def __post_init__(self) -> None:
        check_lines(self.lines)

    def with_lines(self, lines: Sequence[Line]) -> Contents:
        return replace(self, lines=tuple(lines))


def check_lines(lines: Sequence[Line]) -> None:
    """At least one line, quantities of at least one, no negative price, a total of at least ¥1 (R4)."""
    if not lines:
        raise InvalidLines("a subscription delivers at least one line")
    for line in lines:
        if line.quantity < 1 or line.unit_price < 0:
            raise InvalidLines(f"line {line.sku!r}: quantity must be at least 1 and the price not negative")
    if sum(line.unit_price * line.quantity for line in lines) < 1:
        raise InvalidLines("the lines total ¥0: a subscription by card must be at least ¥1 (R4)")
