"""EMV 3-D Secure on the member's card page (design §6.8, `domain/card_authentication.py`): the OTDS010 form
that carries the 4MemAdd/4MemChg to the gateway through the member's browser, and the gateway's return.

    register/replace (3-D Secure on) -> the change awaits, the form goes back to the storefront (action_required)
    the browser's return (public HTTP) -> recorded once under the member's lease -> 4MemRefM read -> done (event)
                                                                                \\-> failed (nothing stored)

The token travels only inside the encrypted form (the gateway spends it when it stores the card); payment keeps
nothing of it. A return is opened with the shop's key and judged only when it names the change's ProcNo and
reference; a replay (the same result again) changes nothing, a forgery or a late return is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pydantic import SecretStr

from delivery.logs import get_logger
from services.payment.domain.authentication import AuthenticationClosed, AuthenticationRequest, AuthenticationState
from services.payment.domain.card_authentication import ask, reference, returned
from services.payment.domain.card_changes import CardChange, ChangeState
from services.payment.domain.card_rules import CardRefused
from services.payment.domain.gateway import business_date
from services.payment.handlers.card_changes import apply_decision, drive_change, holder_of
from services.payment.handlers.deps import Deps
from services.payment.handlers.leases import release_member_lease, take_member_lease
from services.payment.ports import UnitOfWork

log = get_logger(__name__)
UNAVAILABLE = "three_d_secure_unavailable"


@dataclass(frozen=True, kw_only=True)
class AuthenticationForm:
    """What the storefront auto-submits from the member's browser: POST `fields` to `url` before `deadline`."""

    url: str
    fields: dict[str, str]
    deadline: datetime


@dataclass(frozen=True, kw_only=True)
class CardReturn:
    """What a return did: `recorded`, `replayed` (harmless) or `refused` with `reason`; the change as it ends up
    and where to send the browser."""

    status: str
    change_id: str
    return_url: str | None
    reason: str | None = None
    state: str | None = None


def authentication_request(deps: Deps, accepted: tuple[str, ...], return_url: str | None) -> AuthenticationRequest:
    window = timedelta(seconds=deps.policy.card_authentication_window_s)
    return AuthenticationRequest(deadline=deps.clock.now() + window, accepted_results=accepted, return_url=return_url)


async def send_to_authentication(deps: Deps, change: CardChange, *, token: SecretStr, holder: str,
                                 request: AuthenticationRequest) -> tuple[CardChange, AuthenticationForm | None]:
    """Make the calls before the one that stores the card (a replace's read of the old card), then hand that one
    to the browser as the OTDS010 form; a change that ended before (the read failed) has no form."""
    change = await drive_change(deps, change, token=None, holder=holder, until_token=True)
    if change.state is not ChangeState.RUNNING:
        return change, None
    async with deps.uow() as uow:
        fresh = await uow.card_changes.get(change.change_id, lock=True)
        assert fresh is not None
        waiting = ask(fresh, request=request, proc_no=deps.ids.proc_no(), now=deps.clock.now())
        form = await _form(deps, uow, waiting, token=token)
        saved = await uow.card_changes.save(waiting)
    log.info("card_change.authentication_asked", change_id=saved.change_id, shop_id=saved.shop_id,
             kind=saved.kind.value, deadline=request.deadline.isoformat())
    return saved, form


async def _form(deps: Deps, uow: UnitOfWork, change: CardChange, *, token: SecretStr) -> AuthenticationForm:
    forms, auth = deps.three_d_secure, change.authentication
    credentials = await uow.shops.credentials(change.shop_id)
    key = await uow.members.key(change.kaiin_id)
    if forms is None or credentials is None or credentials.tds_key is None or key is None or auth is None:
        raise CardRefused(UNAVAILABLE, "the shop requires 3-D Secure but has no 3-D Secure key and IV")
    inner = {"MerchantId": credentials.merchant_id, "MerchantPass": credentials.merchant_pass.get_secret_value(),
             "TransactionDate": business_date(deps.clock.now()).strftime("%Y%m%d"), "TenantId": credentials.tenant_id,
             "OperateId": change.step.value, "KaiinId": key.kaiin_id, "KaiinPass": key.kaiin_pass.get_secret_value(),
             "Token": token.get_secret_value(), "ProcNo": auth.proc_no,
             "RedirectUrl": forms.card_redirect_url(change.change_id), "MerchantFree1": reference(change)}
    fields = {"MerchantId": credentials.merchant_id, "EncryptValue": forms.encrypt(inner, credentials)}
    return AuthenticationForm(url=forms.action_url, fields=fields, deadline=auth.request.deadline)


async def record_card_return(deps: Deps, *, change_id: str, encrypt_value: str) -> CardReturn:
    """The gateway sent the member back: record the result once under the member's lease, then finish the change
    (the 4MemRefM read and its announcement). Raises `LookupError` for an unknown change."""
    async with deps.uow() as uow:
        change = await uow.card_changes.get(change_id)
    if change is None or deps.three_d_secure is None:
        raise LookupError(change_id)
    holder = holder_of(deps.ids.change_id())
    if not await take_member_lease(deps, change.shop_id, change.member_id, holder=holder,
                                   wait_s=deps.policy.card_busy_wait_s):
        raise CardRefused("card_busy", "another card operation of this member is running; try again shortly")
    try:
        outcome, change = await _record(deps, change_id, encrypt_value)
        if outcome.status == "recorded":
            change = await drive_change(deps, change, token=None, holder=holder)
    finally:
        await release_member_lease(deps, change.shop_id, change.member_id, holder=holder)
    log.info("card_change.authentication_returned", change_id=change_id, shop_id=change.shop_id,
             status=outcome.status, reason=outcome.reason, state=change.state.value, codes=list(change.codes))
    return replace(outcome, state=change.state.value)


async def _record(deps: Deps, change_id: str, encrypt_value: str) -> tuple[CardReturn, CardChange]:
    assert deps.three_d_secure is not None
    async with deps.uow() as uow:
        change = await uow.card_changes.get(change_id, lock=True)
        assert change is not None
        auth = change.authentication
        return_url = auth.request.return_url if auth else None
        credentials = await uow.shops.credentials(change.shop_id)
        result = deps.three_d_secure.decrypt(encrypt_value, credentials) if credentials else None
        if result is None:
            return CardReturn(status="refused", change_id=change_id, return_url=return_url,
                              reason="authentication_return_invalid"), change
        if auth is not None and auth.state is not AuthenticationState.AWAITING and auth.result and \
                result.get("ProcNo") == auth.proc_no and \
                result.get("ThreeDSServerTransactionId") == auth.result.get("ThreeDSServerTransactionId"):
            return CardReturn(status="replayed", change_id=change_id, return_url=return_url), change
        try:
            decision = returned(change, result, now=deps.clock.now())
        except AuthenticationClosed as closed:
            log.warning("card_change.authentication_return_refused", change_id=change_id, reason=closed.reason)
            return CardReturn(status="refused", change_id=change_id, return_url=return_url,
                              reason=closed.reason), change
        saved = await apply_decision(deps, uow, decision)
    if saved.reason == "authentication_abandoned":  # late: refused (a stored card is settled by a 4MemRefM read)
        return CardReturn(status="refused", change_id=change_id, return_url=return_url, reason=saved.reason), saved
    return CardReturn(status="recorded", change_id=change_id, return_url=return_url), saved
