"""HTTP edge of the payment service (docs/services.md): internal endpoints for checkout, operator endpoints.

Internal (`X-Internal-Token`): write-only gateway credentials, the operator key hash, a member's stored card.
Operator (`X-Operator-Key`, checked against the hash checkout registered for that shop; another shop's key
gets 404, I6): a payment with its operation history and live status, and the resolution of an unknown
authorization (design §6.2). Capture, cancel and amount update are in `operations_http.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Literal, Self

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from delivery.shop_keys import internal_guard
from services.payment.domain.model import InvalidTransition, Resolution
from services.payment.entrypoints.views import PaymentOut, payment_out
from services.payment.handlers import PaymentHandlers, PaymentNotFound
from services.payment.ports import Credentials
from services.payment.shops import ShopHandlers
from services.payment.status import StatusReader

_STRICT = ConfigDict(extra="forbid", hide_input_in_errors=True)
ShopId = Annotated[str, Field(min_length=1, max_length=128)]


class CredentialsIn(BaseModel):
    model_config = _STRICT
    merchant_id: str = Field(pattern=r"^[0-9]{1,20}$")
    merchant_pass: SecretStr = Field(min_length=1, max_length=20)
    token_auth_code: SecretStr = Field(min_length=1, max_length=32)
    tenant_id: str = Field(default="0001", pattern=r"^[0-9A-Za-z]{4}$")


class StoredCardOut(BaseModel):
    linked: bool
    masked_card_no: str | None


class ResolveIn(BaseModel):
    """What the operator found in Sony's screen (searched by the payment number, MerchantFree1)."""

    model_config = _STRICT
    outcome: Literal["authorized", "not_authorized"]
    transaction_id: str | None = Field(default=None, min_length=1, max_length=32)
    approval_number: str | None = Field(default=None, max_length=16)
    process_id: str | None = Field(default=None, max_length=64)
    process_pass: SecretStr | None = Field(default=None, max_length=64, description="write-only, stored encrypted")

    @model_validator(mode="after")
    def _authorized_needs_the_transaction_id(self) -> Self:
        if self.outcome == "authorized" and not self.transaction_id:
            raise ValueError("an authorized outcome needs the gateway's transaction_id")
        return self


def internal_router(shops: ShopHandlers, internal_token: SecretStr) -> APIRouter:
    router = APIRouter(prefix="/internal/v1/shops/{shop_id}", tags=["internal"],
                       dependencies=[Depends(internal_guard(internal_token))])

    @router.put("/gateway-credentials", status_code=204, summary="Store the shop's e-SCOTT credentials (write-only)")
    async def put_credentials(shop_id: ShopId, body: CredentialsIn) -> Response:
        await shops.put_credentials(shop_id, Credentials(body.merchant_id, body.merchant_pass,
                                                         body.token_auth_code, body.tenant_id))
        return Response(status_code=204)

    @router.get("/members/{member_id}/card", summary="Whether a member has a stored card, and its masked number")
    async def member_card(shop_id: ShopId, member_id: ShopId) -> StoredCardOut:
        card = await shops.stored_card(shop_id, member_id)
        return StoredCardOut(linked=card.linked, masked_card_no=card.masked_card_no)

    return router


def operator_router(guard: Callable[..., Awaitable[None]], payments: PaymentHandlers,
                    status: StatusReader) -> APIRouter:
    """`guard`: the shop's own operator key (`delivery.shop_keys.operator_guard`, I6)."""
    router = APIRouter(prefix="/v1/shops/{shop_id}/payments", tags=["operator"], dependencies=[Depends(guard)])

    @router.get("/{order_id}", summary="A payment: state, amounts, ids, allowed operations, live status (1Search), "
                "operation history (R15)")
    async def get_payment(shop_id: ShopId, order_id: ShopId, live: bool = True,
                          status_reads: bool = False) -> PaymentOut:
        view = await status.view(shop_id, order_id, live=live, status_reads=status_reads)
        if view is None:
            raise HTTPException(404, "no payment for this order")
        return payment_out(view)

    @router.post("/{order_id}/resolve", summary="Record the truth about an unknown authorization (design §6.2)")
    async def resolve(shop_id: ShopId, order_id: ShopId, body: ResolveIn) -> PaymentOut:
        resolution = Resolution(body.outcome == "authorized", body.transaction_id, body.approval_number,
                                body.process_id)
        try:
            await payments.resolve_payment(shop_id, order_id, resolution, body.process_pass)
        except PaymentNotFound:
            raise HTTPException(404, "no payment for this order") from None
        except InvalidTransition as exc:
            raise HTTPException(409, str(exc)) from None
        view = await status.view(shop_id, order_id, live=False)
        assert view is not None
        return payment_out(view)

    return router
