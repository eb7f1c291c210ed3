"""Registered-card management over HTTP (design §6.8, R18; `handlers/cards.py`).

Storefront (`X-Storefront-Key`, the member id in the path, as a shop's logged-in my-page calls it; the storefront
vouches for the member; another shop's key is 404):

    GET    /v1/shops/{shop_id}/members/{member_id}/card   the card as 4MemRefM shows it, expiry state, open change
    GET    /v1/shops/{shop_id}/members/{member_id}/card/changes/{change_id}   one change: state, reason, message
    POST   /v1/shops/{shop_id}/members/{member_id}/card   {"token", "return_url"?}: register (4MemAdd) -> 201
    PUT    /v1/shops/{shop_id}/members/{member_id}/card   {"token", "return_url"?}: replace (4MemChg, no charge) -> 200

When the shop's card method has 3-D Secure on, a register or replace answers 200 `action_required` with the
OTDS010 form (`action`) instead: the gateway authenticates the card, stores it, and sends the browser to
`POST /public/v1/three-d-secure/cards/{change_id}/return` (`three_d_secure.py`), which finishes the change.
    DELETE /v1/shops/{shop_id}/members/{member_id}/card   delete (4MemInval + 4MemDel) -> 200

Operator (`X-Operator-Key`; never card data, R18's customer view):

    GET    /v1/shops/{shop_id}/customers/{member_id}/card            linked yes/no, since when, an open change
    DELETE /v1/shops/{shop_id}/customers/{member_id}/card            unlink {"requested_by"?} -> 200
    POST   /v1/shops/{shop_id}/customers/{member_id}/card/resolve    settle an unknown outcome (4MemRefM read)

Refusals and failures are problem answers (`delivery.problems`) with a `reason_code`; a change whose outcome is unknown
answers 202 with its state (later requests 409 `card_change_outcome_unknown` until it is resolved). The member is
never shown gateway codes (R16), only `buyer_message`; the operator's view carries them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from delivery.problems import Problem
from services.payment.domain.card_changes import CardChange, ChangeSource, ChangeState
from services.payment.domain.card_rules import CardRefused, buyer_message
from services.payment.domain.gateway import CallImpossible
from services.payment.handlers import cards
from services.payment.handlers.cards import CardChangePending, CardOutcome, CardRequest, CardView, CustomerCard
from services.payment.handlers.deps import Deps

_STRICT = ConfigDict(extra="forbid", hide_input_in_errors=True)
ShopId = Annotated[str, Path(min_length=1, max_length=128)]
MemberId = Annotated[str, Path(min_length=1, max_length=128)]
Guard = Callable[..., Awaitable[None]]

_REFUSED = {"no_registered_card": 404, "card_change_not_found": 404}
"""Refusals before any call are 409 (a state that must change first) unless listed."""
_FAILED = {"gateway_unreachable": 503, "card_unreadable": 502, "interrupted": 409, "card_change_not_made": 409,
           "superseded": 409}
"""A change the gateway refused is 422 (token spent or expired, card declined, member function off) unless
listed."""


class TokenIn(BaseModel):
    """The one-time token the card page's token script minted (never logged, never echoed)."""

    model_config = _STRICT
    token: SecretStr = Field(min_length=1, max_length=128)
    return_url: str | None = Field(
        default=None, max_length=2048, pattern=r"^https?://",
        description="3-D Secure only: the card page the member's browser is sent back to (with ?change_id=)")


class UnlinkIn(BaseModel):
    model_config = _STRICT
    requested_by: str | None = Field(default=None, max_length=128, description="operator name, for the history")


def storefront_router(deps: Deps, guard: Guard) -> APIRouter:
    """`guard`: the shop's own storefront key (`delivery.shop_keys.storefront_guard`, I6)."""
    api = APIRouter(prefix="/v1/shops/{shop_id}/members/{member_id}/card", tags=["storefront"],
                    dependencies=[Depends(guard)])

    @api.get("", summary="The member's registered card as the gateway shows it (masked), and its expiry state")
    async def show(shop_id: ShopId, member_id: MemberId) -> JSONResponse:
        return await _answer(lambda: _shown(deps, CardRequest(shop_id=shop_id, member_id=member_id)))

    @api.post("", summary="Register a card from a token (4MemAdd)", status_code=201)
    async def register(shop_id: ShopId, member_id: MemberId, body: TokenIn) -> JSONResponse:
        request = CardRequest(shop_id=shop_id, member_id=member_id)
        return await _answer(lambda: _changed(cards.register_card(deps, request, body.token,
                                                                  return_url=body.return_url), ok=201))

    @api.put("", summary="Replace the card by another (4MemChg: no authorization, no charge; R22: next renewal)")
    async def replace(shop_id: ShopId, member_id: MemberId, body: TokenIn) -> JSONResponse:
        request = CardRequest(shop_id=shop_id, member_id=member_id)
        return await _answer(lambda: _changed(cards.replace_card(deps, request, body.token,
                                                                 return_url=body.return_url), ok=200))

    @api.get("/changes/{change_id}", summary="One card change of the member: how a 3-D Secure register or "
             "replace ended (state, reason_code, buyer_message)")
    async def show_change(shop_id: ShopId, member_id: MemberId, change_id: UUID) -> JSONResponse:
        request = CardRequest(shop_id=shop_id, member_id=member_id)

        async def shown() -> JSONResponse:
            change = await cards.card_change(deps, request, str(change_id))
            failed = change.state is ChangeState.FAILED
            return JSONResponse({**change_json(change), "buyer_message": buyer_message(change.codes) if failed
                                 else None})
        return await _answer(shown)

    @api.delete("", summary="Delete the card (4MemInval + 4MemDel); refused while a subscription renews with it")
    async def delete(shop_id: ShopId, member_id: MemberId) -> JSONResponse:
        request = CardRequest(shop_id=shop_id, member_id=member_id)
        return await _answer(lambda: _changed(cards.delete_card(deps, request), ok=200))

    return api


def operator_router(deps: Deps, guard: Guard) -> APIRouter:
    """`guard`: the shop's own operator key (`delivery.shop_keys.operator_guard`, I6)."""
    api = APIRouter(prefix="/v1/shops/{shop_id}/customers/{member_id}/card", tags=["operator"],
                    dependencies=[Depends(guard)])

    @api.get("", summary="Whether the customer has a registered card, and since when (never card data)")
    async def show(shop_id: ShopId, member_id: MemberId) -> JSONResponse:
        return JSONResponse(customer_json(await cards.customer_card(deps, shop_id=shop_id, member_id=member_id)))

    @api.delete("", summary="Unlink the customer's card (4MemInval + 4MemDel); refused while a subscription "
                "renews with it")
    async def unlink(shop_id: ShopId, member_id: MemberId, body: Annotated[UnlinkIn | None, Body()] = None,
                     ) -> JSONResponse:
        request = CardRequest(shop_id=shop_id, member_id=member_id, source=ChangeSource.OPERATOR,
                              requested_by=body.requested_by if body else None)
        return await _answer(lambda: _unlinked(deps, request))

    @api.post("/resolve", summary="Settle a card change of unknown outcome with a 4MemRefM read (never a resend)")
    async def resolve(shop_id: ShopId, member_id: MemberId) -> JSONResponse:
        async def resolved() -> JSONResponse:
            customer = await cards.resolve_card_change(deps, shop_id=shop_id, member_id=member_id)
            return JSONResponse(customer_json(customer))
        return await _answer(resolved)

    return api


async def _answer(run: Callable[[], Awaitable[JSONResponse]]) -> JSONResponse:
    """Run one request; refusals before any call become their problem answer."""
    try:
        return await run()
    except CardRefused as refused:
        extra: dict[str, Any] = {"subscriptions": list(refused.blocking)} if refused.blocking else {}
        raise Problem(_REFUSED.get(refused.reason_code, 409), refused.reason_code, refused.detail, **extra) from None
    except CardChangePending as pending:
        raise Problem(409, "card_change_outcome_unknown", "an earlier card change of this member has an unknown "
                      "outcome; it is resolved with the member's next request or by the shop",
                      change=change_json(pending.change)) from None
    except CallImpossible as impossible:
        raise Problem(409, impossible.code, impossible.message) from None


async def _shown(deps: Deps, request: CardRequest) -> JSONResponse:
    return JSONResponse(view_json(await cards.view_card(deps, request)))


async def _changed(outcome: Awaitable[CardOutcome], *, ok: int) -> JSONResponse:
    """Done: `ok` with the card; unknown: 202 with the state; failed: its problem answer (no gateway codes)."""
    done = await outcome
    change = done.change
    if change.state is ChangeState.DONE:
        return JSONResponse({"result": "done", "change": change_json(change), **view_json(done.view)}, status_code=ok)
    if done.form is not None:
        return JSONResponse(action_json(done), status_code=200)
    if change.state is ChangeState.UNKNOWN:
        return JSONResponse({"result": "outcome_unknown", "reason_code": "card_change_outcome_unknown",
                             "detail": "the gateway's answer was lost; never sent again: resolved with a safe read "
                             "at the member's next card request or by the shop", "change": change_json(change),
                             **view_json(done.view)}, status_code=202)
    reason = change.reason or "card_refused"
    raise Problem(_FAILED.get(reason, 422), reason, _FAILURE_DETAIL.get(reason, "the card change was refused"),
                  buyer_message=buyer_message(change.codes), change=change_json(change))


_FAILURE_DETAIL = {
    "authentication_failed": "3-D Secure did not authenticate the card; nothing was stored",
    "authentication_abandoned": "the member did not finish 3-D Secure in time; nothing was stored",
    "token_spent": "the token was already used: mint a new one with the token script",
    "token_expired": "the token expired: mint a new one with the token script",
    "token_invalid": "the token is unknown to the gateway",
    "card_declined": "the card company declined the card",
    "member_function_unavailable": "the shop's gateway contract has no stored card (member) function",
    "gateway_unreachable": "the gateway could not be reached; nothing changed",
    "card_unreadable": "the stored card could not be read; nothing changed",
    "card_change_not_made": "the change did not happen at the gateway",
    "interrupted": "the change was interrupted before its card was sent; nothing changed",
}


async def _unlinked(deps: Deps, request: CardRequest) -> JSONResponse:
    done = await cards.delete_card(deps, request)
    customer = await cards.customer_card(deps, shop_id=request.shop_id, member_id=request.member_id)
    body = {"change": change_json(done.change, operator=True), **customer_json(customer)}
    if done.change.state is ChangeState.DONE:
        return JSONResponse({"result": "done", **body})
    if done.change.state is ChangeState.UNKNOWN:
        return JSONResponse({"result": "outcome_unknown", "reason_code": "card_change_outcome_unknown", **body},
                            status_code=202)
    reason = done.change.reason or "card_refused"
    raise Problem(_FAILED.get(reason, 422), reason, _FAILURE_DETAIL.get(reason, "the unlink was refused"), **body)


def action_json(done: CardOutcome) -> dict[str, Any]:
    """3-D Secure (the shop requires it): the storefront auto-submits `action` from the member's browser; the
    gateway sends the browser back to payment, which finishes the change and redirects to `return_url`."""
    form = done.form
    assert form is not None
    return {"result": "action_required", "change": change_json(done.change),
            "action": {"type": "redirect_form", "method": "POST", "url": form.url, "fields": form.fields},
            "authentication_deadline": form.deadline.isoformat(), **view_json(done.view)}


def view_json(view: CardView) -> dict[str, Any]:
    """The member's page: the card masked as the gateway shows it, never the number (I5)."""
    card = None
    if view.linked:
        face, expiry = view.face, view.expiry
        card = {"brand": face.brand if face else None, "masked_card_no": face.masked if face else None,
                "first4": face.first4 if face else None, "last4": face.last4 if face else None,
                "expiry": face.expiry if face else None, "expired": expiry.expired if expiry else None,
                "expires_this_month": expiry.expires_this_month if expiry else None}
    refusal = view.delete_refusal
    return {"member_id": view.member_id, "linked": view.linked, "card": card,
            "pending_change": change_json(view.pending) if view.pending else None,
            "deletable": view.linked and refusal is None and view.pending is None,
            "delete_refusal": None if refusal is None or not view.linked else {
                "reason_code": refusal.reason_code, "detail": refusal.detail,
                "subscriptions": list(refusal.blocking)}}


def customer_json(customer: CustomerCard) -> dict[str, Any]:
    """The shop's customer view: linked yes/no and the date, nothing of the card."""
    return {"member_id": customer.member_id, "linked": customer.linked,
            "linked_at": customer.linked_at.isoformat() if customer.linked_at else None,
            "pending_change": change_json(customer.pending, operator=True) if customer.pending else None}


def change_json(change: CardChange, *, operator: bool = False) -> dict[str, Any]:
    """A card change's state; the gateway operation and codes only for operators (R16: a storefront's texts never
    name them)."""
    body: dict[str, Any] = {"change_id": change.change_id, "kind": change.kind.value, "source": change.source.value,
                            "state": change.state.value, "reason_code": change.reason,
                            "created_at": change.created_at.isoformat(),
                            "updated_at": change.updated_at.isoformat() if change.updated_at else None}
    if operator:
        body.update(gateway_operation=change.step.value, codes=list(change.codes))
    return body
