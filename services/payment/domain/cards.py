"""Where the money comes from and what happens to the member's stored card (design R7-R10, §6.1).

A member keeps at most one card per shop at the gateway (a `KaiinId`). For each order this module decides,
from the buyer's choice, the shop's link mode (snapshotted in the order) and whether the member has a link:

- which card pays: the one-time token, or the stored card (by member, no token);
- whether the token is first linked (4MemAdd for a new member id, 4MemChg to replace the stored card);
- whether an existing link is removed after the order (4MemInval then 4MemDel).

A renewal order (design §6.6, R19/R20) is charged by the merchant, not the buyer: always the member's stored
card by `KaiinId`, never a token, never a link, replacement or removal (the first order linked the card).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.payment.domain.gateway import GatewayOperation, Outcome, Reply


class LinkMode(StrEnum):
    """R7-R9: when a member's card is stored at the gateway."""

    ALWAYS = "always"
    BUYER_CHOICE = "buyer_choice"
    NEVER = "never"


class CardSource(StrEnum):
    TOKEN = "token"  # noqa: S105 - a card source name, not a secret
    MEMBER = "member"


class Refused(Exception):
    """The order cannot be paid as asked; `reason` is a stable code operators see (no gateway call made)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class CardChoice:
    """What the buyer asked for, with the link mode the shop had at order time."""

    member_id: str | None
    has_token: bool
    use_registered_card: bool
    keep_card: bool | None
    link_mode: LinkMode
    subscription: bool = False
    renewal: bool = False


@dataclass(frozen=True, kw_only=True)
class CardPlan:
    """The decided card source and link work for one order."""

    source: CardSource
    link: GatewayOperation | None = None
    unlink_after: bool = False
    unlink_reason: str | None = None

    @property
    def touches_member(self) -> bool:
        """True when a gateway member (KaiinId) is used: charged, linked or unlinked."""
        return self.source is CardSource.MEMBER or self.link is not None or self.unlink_after


def plan_card(choice: CardChoice, *, linked: bool) -> CardPlan:
    """R7-R10 as a table; raises `Refused` when there is no card to pay with.

    A registered card wins over a token when both are sent. A guest's `use_registered_card` is ignored
    (guests never have a link, R10).
    """
    guest = choice.member_id is None
    if choice.renewal:
        return _renewal_plan(choice, linked=linked)
    if choice.use_registered_card and not guest:
        if not linked:
            raise Refused("no_registered_card")
        return _with_removal(CardPlan(source=CardSource.MEMBER), choice, linked=linked)
    if not choice.has_token:
        raise Refused("no_card_source")
    if guest:
        return CardPlan(source=CardSource.TOKEN)
    if _keeps_card(choice):
        return CardPlan(source=CardSource.MEMBER, link=GatewayOperation.MEM_CHG if linked else GatewayOperation.MEM_ADD)
    return _with_removal(CardPlan(source=CardSource.TOKEN), choice, linked=linked)


def _renewal_plan(choice: CardChoice, *, linked: bool) -> CardPlan:
    """R19/R20: a renewal pays with the stored card or not at all; whatever else the order says is ignored."""
    if choice.member_id is None or not linked:
        raise Refused("no_registered_card")
    return CardPlan(source=CardSource.MEMBER)


_MEMBER_UNUSABLE = {"K71": "no_registered_card", "K74": "registered_card_unusable",
                    "K75": "registered_card_unusable", "K79": "registered_card_unusable"}
"""A charge by member the gateway refused because of the member record itself: no such KaiinId (deleted or never
registered there), locked after wrong passwords, invalidated, or judged invalid (protocol reference §4.2)."""


def member_decline_reason(codes: tuple[str, ...]) -> str | None:
    """Why a charge by member was declined when the gateway has no usable card for the member, else None."""
    return next((_MEMBER_UNUSABLE[code] for code in codes if code in _MEMBER_UNUSABLE), None)


def _keeps_card(choice: CardChoice) -> bool:
    """`always` (forced for subscriptions, R19) links; `buyer_choice` links only when the box is ticked."""
    if choice.link_mode is LinkMode.ALWAYS or choice.subscription:
        return True
    return choice.link_mode is LinkMode.BUYER_CHOICE and choice.keep_card is True


def _with_removal(plan: CardPlan, choice: CardChoice, *, linked: bool) -> CardPlan:
    """R8/R9: `never` removes an existing link; `buyer_choice` removes it only on an explicit "don't keep".

    An absent `keep_card` (null) in `buyer_choice` links nothing and removes nothing: storing needs consent,
    deleting needs an explicit choice.
    """
    if not linked or choice.subscription:
        return plan
    if choice.link_mode is LinkMode.NEVER:
        return CardPlan(source=plan.source, unlink_after=True, unlink_reason="link_mode_never")
    if choice.link_mode is LinkMode.BUYER_CHOICE and choice.keep_card is False:
        return CardPlan(source=plan.source, unlink_after=True, unlink_reason="keep_card_unchecked")
    return plan


class LinkStatus(StrEnum):
    """A gateway member record as we know it. Ids are never reused, so rows are never deleted."""

    REGISTERING = "registering"  # 4MemAdd recorded, no answer yet
    ACTIVE = "active"  # the member's current stored card
    FAILED = "failed"  # 4MemAdd declined or never sent: nothing at the gateway
    UNKNOWN = "unknown"  # 4MemAdd outcome unknown: the member may exist at the gateway (ops)
    INVALIDATED = "invalidated"  # 4MemInval done; 4MemDel pending or failed
    DELETED = "deleted"


CURRENT_LINK = frozenset({LinkStatus.REGISTERING, LinkStatus.ACTIVE})
"""At most one record per shop member is in these states (one member, one card, R10)."""


def link_status_after(current: LinkStatus, op: GatewayOperation, reply: Reply, *, retrying: bool) -> LinkStatus:
    """The member record's status after a member operation's reply (`retrying`: a not_sent call goes again)."""
    if op is GatewayOperation.MEM_ADD:
        return _after_add(reply, retrying=retrying)
    if op is GatewayOperation.MEM_INVAL and (reply.outcome is Outcome.OK or reply.codes == ("K75",)):
        return LinkStatus.INVALIDATED
    if op is GatewayOperation.MEM_DEL and reply.outcome is Outcome.OK:
        return LinkStatus.DELETED
    return current


def _after_add(reply: Reply, *, retrying: bool) -> LinkStatus:
    if reply.outcome is Outcome.OK:
        return LinkStatus.ACTIVE
    if reply.outcome is Outcome.UNKNOWN:
        return LinkStatus.UNKNOWN
    if reply.outcome is Outcome.NOT_SENT and retrying:
        return LinkStatus.REGISTERING
    return LinkStatus.FAILED
