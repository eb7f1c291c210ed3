"""Operator endpoints of one payment (`X-Operator-Key`, checked against the hash checkout registered for that
shop; another shop's key gets 404, I6): the payment with its operation history and live status, and the
resolution of an unknown authorization (design §6.2); and the shop's payments an operator must act on (the
console's review queue). Operator actions are in `actions.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Literal, Self

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from delivery.problems import Problem
from services.payment.domain.model import InvalidTransition, Resolution
from services.payment.entrypoints.http.views import PaymentOut, payment_out
from services.payment.handlers.deps import Deps
from services.payment.handlers.orders import resolve_payment
from services.payment.handlers.status import PaymentView, payments_needing_operator, view_payment
from services.payment.handlers.steps import PaymentNotFound

_STRICT = ConfigDict(extra="forbid", hide_input_in_errors=True)
ShopId = Annotated[str, Field(min_length=1, max_length=128)]


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


class AttentionOut(BaseModel):
    payments: list[PaymentOut]


def not_found(order_id: str) -> Problem:
    """404 for an order without a payment in this shop (another shop's order included, I6)."""
    return Problem(404, "payment_not_found", "no payment for this order in this shop", order_id=order_id,
                   result="not_found")


def router(deps: Deps, guard: Callable[..., Awaitable[None]]) -> APIRouter:
    """`guard`: the shop's own operator key (`delivery.shop_keys.operator_guard`, I6)."""
    routes = APIRouter(prefix="/v1/shops/{shop_id}/payments", tags=["operator"], dependencies=[Depends(guard)])

    @routes.get("", summary="The shop's payments an operator must act on: unknown outcome, unknown operation, "
                "two live holds (least recently changed first; without history or live status)")
    async def needing_operator(shop_id: ShopId, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> AttentionOut:
        found = await payments_needing_operator(deps, shop_id=shop_id, limit=limit)
        return AttentionOut(payments=[payment_out(PaymentView(payment=p, history=[])) for p in found])

    @routes.get("/{order_id}", summary="A payment: state, amounts, ids, allowed operations, live status (1Search), "
                "operation history (R15)")
    async def get_payment(shop_id: ShopId, order_id: ShopId, live: bool = True,
                          status_reads: bool = False) -> PaymentOut:
        view = await view_payment(deps, shop_id=shop_id, order_id=order_id, live=live, status_reads=status_reads)
        if view is None:
            raise not_found(order_id)
        return payment_out(view)

    @routes.post("/{order_id}/resolve", summary="Record the truth about an unknown authorization (design §6.2)")
    async def resolve(shop_id: ShopId, order_id: ShopId, body: ResolveIn) -> PaymentOut:
        resolution = Resolution(authorized=body.outcome == "authorized", transaction_id=body.transaction_id,
                                approval_number=body.approval_number, process_id=body.process_id)
        try:
            await resolve_payment(deps, resolution, shop_id=shop_id, order_id=order_id,
                                  process_pass=body.process_pass)
        except PaymentNotFound:
            raise not_found(order_id) from None
        except InvalidTransition as exc:  # only an unknown authorization is resolved (design §6.2)
            raise Problem(409, "payment_not_unknown", str(exc)) from None
        view = await view_payment(deps, shop_id=shop_id, order_id=order_id, live=False)
        assert view is not None
        return payment_out(view)

    return routes
