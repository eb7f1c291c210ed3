"""Operator API: read the mail log, resend a mail.

Auth (design §8, I6): `X-Operator-Key` must be the shop's own operator key, whose SHA-256 checkout registers
here (`PUT /internal/v1/shops/{shop_id}/operator-key`, `delivery.shop_keys`); 401 without a key, 404 for a key
of another shop.

    GET  /v1/shops/{shop_id}/mails?status=&order_id=&limit=   the log, newest first
    GET  /v1/shops/{shop_id}/orders/{order_id}/mails          an order's mails (+ resends)
    GET  /v1/shops/{shop_id}/mails/{mail_id}                  one mail, with what was sent
    POST /v1/shops/{shop_id}/mails/{mail_id}/resend           a new, logged mail {"recipient"?: str};
                                                              `Idempotency-Key` makes a repeat return the first
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel

from delivery.idempotency import REASON_CODE
from delivery.problems import Problem, field_error
from services.notification.domain.errors import InvalidAddress, ResendConflict
from services.notification.domain.model import Mail
from services.notification.handlers import operator
from services.notification.handlers.deps import Deps

Status = Literal["pending", "sending", "sent", "failed", "suppressed", "unsendable"]


class ResendRequest(BaseModel):
    recipient: str | None = None


def router(deps: Deps, *, guard: Callable[..., Awaitable[None]]) -> APIRouter:
    """The operator routes on `deps`; `guard` opens a shop's routes with its own operator key only
    (`delivery.shop_keys.operator_guard`)."""
    api = APIRouter(prefix="/v1/shops/{shop_id}", tags=["operator"], dependencies=[Depends(guard)])

    @api.get("/mails", summary="The shop's mail log, newest first")
    async def list_mails(shop_id: str, status: Status | None = None, order_id: str | None = None,
                         limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
        mails = await operator.list_mails(deps, shop_id=shop_id, order_id=order_id, status=status, limit=limit)
        return [mail_view(m) for m in mails]

    @api.get("/orders/{order_id}/mails",
             summary="One order's (or card notice's) mails (thanks, shop copy, renewal and card notices), resends")
    async def order_mails(shop_id: str, order_id: str) -> list[dict[str, Any]]:
        mails = await operator.list_mails(deps, shop_id=shop_id, order_id=order_id, limit=500)
        if not mails:
            raise Problem(404, "order_mails_not_found", f"no mails for order {order_id!r}")
        return [mail_view(m) for m in mails]

    @api.get("/mails/{mail_id}", summary="One mail, with the subject and text that were sent")
    async def get_mail(shop_id: str, mail_id: str) -> dict[str, Any]:
        _uuid_or_404(mail_id)
        mail = _found(await operator.find_mail(deps, shop_id=shop_id, mail_id=mail_id), shop_id, mail_id)
        view = mail_view(mail)
        if mail.content is not None:
            view.update(subject=mail.content.subject, text=mail.content.text, html=mail.content.html)
        return view

    @api.post("/mails/{mail_id}/resend", status_code=202, summary="Send the mail again as a new, logged mail")
    async def resend(shop_id: str, mail_id: str, body: ResendRequest | None = None,
                     idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
                     ) -> dict[str, Any]:
        """With `Idempotency-Key` (scoped to this mail), repeating the request with the same body (a double click, a
        retried call) returns the first resend and sends nothing more; the same key with another body (another or
        no `recipient`) is a 409 `idempotency_key_reused` naming the field."""
        _uuid_or_404(mail_id)
        try:
            mail = await operator.resend_mail(deps, shop_id=shop_id, mail_id=mail_id,
                                              recipient=body.recipient if body else None,
                                              idempotency_key=idempotency_key)
        except InvalidAddress as exc:
            raise Problem(422, "invalid_address", str(exc),
                          errors=[field_error(["body", "recipient"], str(exc), "invalid_address")]) from None
        except ResendConflict as exc:
            raise Problem(409, REASON_CODE, str(exc), errors=[
                field_error(["body", field], "differs from the first request with this Idempotency-Key", REASON_CODE)
                for field in exc.fields]) from None
        return mail_view(_found(mail, shop_id, mail_id))

    return api


def _found(mail: Mail | None, shop_id: str, mail_id: str) -> Mail:
    if mail is None:  # also another shop's mail: 404, not 403 (I6)
        raise Problem(404, "mail_not_found", f"no mail {mail_id} in shop {shop_id!r}")
    return mail


def _uuid_or_404(mail_id: str) -> None:
    try:
        uuid.UUID(mail_id)
    except ValueError:
        raise Problem(404, "mail_not_found", f"no mail {mail_id!r}") from None


def mail_view(mail: Mail) -> dict[str, Any]:
    """The log row as operators read it (no message body: that is on the single-mail view)."""
    return {
        "mail_id": mail.mail_id, "order_id": mail.order_id, "shop_id": mail.shop_id, "kind": mail.kind,
        "status": mail.status.value, "recipient": mail.recipient, "attempts": mail.attempts,
        "last_error": mail.last_error, "smtp_response": mail.smtp_response, "message_id": mail.message_id,
        "resend_of": mail.resend_of, "created_at": _iso(mail.created_at), "sent_at": _iso(mail.sent_at),
        "next_attempt_at": _iso(mail.next_attempt_at) if mail.status.value == "pending" else None,
        "recoveries": mail.recoveries, "permanent_failure": mail.permanent_failure,
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
