"""EMV 3-D Secure on the member's card page (design §6.8): when the shop requires it, a register (4MemAdd) or
replace (4MemChg) is not sent by payment but posted by the member's browser to the gateway's OTDS010, which
authenticates the card and then stores it; the gateway's return says both.

    running (4MemAdd, or 4MemChg after the read of the old card) --the form to the browser--> awaiting_authentication
    awaiting_authentication --return: accepted and stored (ResponseCd OK)--> applied --4MemRefM read--> done (event)
    awaiting_authentication --return: refused or not stored--> failed (authentication_failed / the gateway's reason)
    awaiting_authentication --deadline passed (the member's next card work, or a late return)--> failed
                                                                                     (authentication_abandoned)

A return is recorded once (`check_return`: it names this change's ProcNo and reference, and the change still
waits). A late return that says the gateway did store the card is not dropped: the change becomes `unknown` and
the usual 4MemRefM read settles it (the gateway, not the deadline, decides what the member's card is).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from services.payment.domain.authentication import (
    ABANDONED,
    FAILED,
    Authentication,
    AuthenticationRequest,
    AuthenticationState,
    abandoned,
    check_return,
    decided,
    overdue,
)
from services.payment.domain.card_changes import CardChange, ChangeDecision, ChangeKind, ChangeState
from services.payment.domain.card_rules import declined_reason
from services.payment.domain.cards import LinkStatus
from services.payment.domain.gateway import GatewayOperation

Op = GatewayOperation


def reference(change: CardChange) -> str:
    """MerchantFree1 of the OTDS010 form: the change id without dashes (32 characters), echoed by the return."""
    return change.change_id.replace("-", "")


def ready_to_authenticate(change: CardChange) -> bool:
    """The change's next call is the one that stores a card (4MemAdd, or 4MemChg once the old card was read)."""
    return change.state is ChangeState.RUNNING and change.step in (Op.MEM_ADD, Op.MEM_CHG)


def ask(change: CardChange, *, request: AuthenticationRequest, proc_no: str, now: datetime) -> CardChange:
    """The change waits for the browser's round trip through OTDS010 (its 4MemAdd/4MemChg is in the form)."""
    if not ready_to_authenticate(change):
        raise ValueError(f"card change {change.change_id} stores no card now ({change.state}, {change.step})")
    return replace(change, state=ChangeState.AWAITING_AUTHENTICATION, updated_at=now,
                   authentication=Authentication(request=request, proc_no=proc_no))


def returned(change: CardChange, result: Mapping[str, str], *, now: datetime) -> ChangeDecision:
    """The gateway's return, opened with the shop's key. Raises `AuthenticationClosed` (changes nothing) unless
    it names this change's round trip and the change still waits for it."""
    auth = change.authentication
    check_return(auth, result, payment_number=reference(change))
    assert auth is not None
    stored = tuple(c for c in result.get("ResponseCd", "").split("|") if c) == ("OK",)
    if overdue(auth, now):
        late = replace(change, authentication=abandoned(auth), updated_at=now)
        if stored:  # the gateway stored the card after all: a 4MemRefM read settles what the member has
            return ChangeDecision(change=replace(late, state=ChangeState.UNKNOWN, reason=ABANDONED))
        return _refused(late, ABANDONED, ())
    auth = decided(auth, result)
    change = replace(change, authentication=auth, updated_at=now)
    if auth.state is AuthenticationState.AUTHENTICATED and stored:
        if change.kind is ChangeKind.REGISTER:
            return ChangeDecision(change=replace(change, state=ChangeState.APPLIED), member_status=LinkStatus.ACTIVE)
        return ChangeDecision(change=replace(change, state=ChangeState.APPLIED), card_changed=True)
    secure_ok = result.get("SecureResultCode") in auth.request.accepted_results
    secure_refused = not secure_ok or any(c.startswith("U") for c in auth.codes)
    return _refused(change, FAILED if secure_refused else declined_reason(auth.codes), auth.codes)


def expire(change: CardChange, now: datetime) -> ChangeDecision | None:
    """A change whose member did not come back by the deadline fails as abandoned; None while it may still."""
    if change.state is not ChangeState.AWAITING_AUTHENTICATION or not overdue(change.authentication, now):
        return None
    assert change.authentication is not None
    return _refused(replace(change, authentication=abandoned(change.authentication), updated_at=now), ABANDONED, ())


def _refused(change: CardChange, reason: str, codes: tuple[str, ...]) -> ChangeDecision:
    """Nothing stored: a register's new member record fails (the gateway has no such member)."""
    status = LinkStatus.FAILED if change.kind is ChangeKind.REGISTER else None
    return ChangeDecision(change=replace(change, state=ChangeState.FAILED, reason=reason, codes=codes),
                          member_status=status)
