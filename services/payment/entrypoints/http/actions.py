"""Operator actions over HTTP (`X-Operator-Key`, one shop; another shop's order answers 404): capture, cancel,
amount update, release of a left-over hold, resolution of an unknown step, and bulk capture (R12-R15).

Answers: 200 `{result: "succeeded", payment}`; otherwise problem details (`delivery.problems`: `reason_code`,
`detail`, plus the members `result` and `payment`): a refusal 409 (state: running operation, captured,
auth_capture mode, update required, `order_total_stale`: the order total the caller saw in checkout
(`order_total`, optional) is not the one payment knows yet ...) or 422 (¥0, unchanged amount) with
`result: "refused"`; a gateway decline 422 `gateway_declined` with the raw `gateway_operation`, `codes` and their
`descriptions` (an operator API); an unreachable gateway 503 `gateway_unreachable`; an unknown outcome 502
`gateway_outcome_unknown` (never resent: resolve it); no such payment 404 `payment_not_found`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from delivery.problems import Problem
from services.payment.domain.actions import Action, ActionRequest
from services.payment.domain.gateway import Outcome, Reply
from services.payment.entrypoints.http.payments import not_found
from services.payment.entrypoints.http.views import descriptions, payment_out
from services.payment.handlers.actions import ActionResult, capture_orders, resolve_action, run_action
from services.payment.handlers.deps import Deps
from services.payment.handlers.status import PaymentView
from services.payment.handlers.steps import PaymentNotFound

_STRICT = ConfigDict(extra="forbid", hide_input_in_errors=True)
Id = Annotated[str, Field(min_length=1, max_length=128)]
Amount = Annotated[int, Field(ge=0, le=99_999_999)]  # the gateway's own limit is checked there (its codes shown)
By = Annotated[str | None, Field(default=None, max_length=128, description="operator name, for the history")]
SeenTotal = Annotated[int | None, Field(
    default=None, ge=0, le=99_999_999,
    description="the order total you saw in checkout (optimistic concurrency, R12): while payment's own "
    "`order_total` differs (checkout's edit has not reached payment yet), the request is refused with 409 "
    "`order_total_stale` and nothing is sent to the gateway; wait until payment reports it, then retry. "
    "Omitted: not checked")]
BULK_MAX = 1000


class CaptureIn(BaseModel):
    model_config = _STRICT
    amount: Amount | None = Field(default=None, description="the amount you expect to capture (a guard)")
    order_total: SeenTotal = None
    requested_by: By = None


class CancelIn(BaseModel):
    model_config = _STRICT
    requested_by: By = None


class UpdateIn(BaseModel):
    model_config = _STRICT
    amount: Amount | None = Field(default=None, description="the new amount; defaults to the order's total")
    order_total: SeenTotal = None
    requested_by: By = None


class ResolveActionIn(BaseModel):
    """What the operator found in Sony's screen about an action's step whose outcome is unknown."""

    model_config = _STRICT
    outcome: Literal["succeeded", "failed"]
    transaction_id: str | None = Field(default=None, min_length=1, max_length=32)
    approval_number: str | None = Field(default=None, max_length=16)
    process_id: str | None = Field(default=None, max_length=64, description="a succeeded 1ReAuth: the new hold")
    process_pass: SecretStr | None = Field(default=None, max_length=64, description="write-only, stored encrypted")

    @model_validator(mode="after")
    def _pair_together(self) -> Self:
        if (self.process_id is None) != (self.process_pass is None):
            raise ValueError("process_id and process_pass name a transaction together: give both or neither")
        return self


class BulkItem(BaseModel):
    model_config = _STRICT
    order_id: Id
    amount: Amount | None = None
    order_total: SeenTotal = None


class BulkCaptureIn(BaseModel):
    model_config = _STRICT
    orders: list[BulkItem] = Field(min_length=1, max_length=BULK_MAX)
    requested_by: By = None

    @model_validator(mode="after")
    def _each_order_once(self) -> Self:
        if len({o.order_id for o in self.orders}) != len(self.orders):
            raise ValueError("an order id appears more than once")
        return self


_STATUS = {"succeeded": 200, "declined": 422, "unknown": 502, "not_found": 404}


def result_body(result: ActionResult) -> tuple[int, dict[str, Any]]:
    """HTTP status and body of one operation's result (also one entry of a bulk answer)."""
    body: dict[str, Any] = {"order_id": result.order_id, "result": result.outcome}
    status = _STATUS.get(result.outcome, 409 if result.conflict else 422)
    if result.outcome == "declined":
        status = 503 if result.code == "gateway_unreachable" else 422
        body.update(reason_code=result.code, reason=result.message)
    elif result.outcome == "unknown":
        body.update(reason_code="gateway_outcome_unknown", reason=f"{result.message}; never resent: check "
                    "Sony's screen and resolve it (POST .../operations/resolve)")
    elif result.outcome != "succeeded":
        body.update(reason_code=result.code or result.outcome, reason=result.message)
    if result.gateway_operation:
        body.update(gateway_operation=result.gateway_operation, codes=list(result.codes),
                    descriptions=descriptions(result.codes))
    if result.payment is not None:
        view = PaymentView(payment=result.payment, history=[])
        body["payment"] = payment_out(view).model_dump(mode="json", exclude={"history"})
    return status, body


def _answer(result: ActionResult) -> JSONResponse:
    """200 with the result; any other answer is a problem (`delivery.problems`) whose extension members are the
    result's (`result`, `payment`, and for a decline `gateway_operation`, `codes`, `descriptions`)."""
    status, body = result_body(result)
    if status < 400:
        return JSONResponse(body, status_code=status)
    members = {key: value for key, value in body.items() if key not in ("reason_code", "reason")}
    raise Problem(status, body["reason_code"], body["reason"], **members)


def router(deps: Deps, guard: Callable[..., Awaitable[None]]) -> APIRouter:
    """`guard`: the shop's own operator key (`delivery.shop_keys.operator_guard`, I6)."""
    routes = APIRouter(prefix="/v1/shops/{shop_id}/payments", tags=["operator"], dependencies=[Depends(guard)])
    _bulk_route(routes, deps)
    _action_routes(routes, deps)
    _resolve_route(routes, deps)
    return routes


def _bulk_route(router: APIRouter, deps: Deps) -> None:
    @router.post("/bulk-capture", summary="Capture many orders at once; one result per order")
    async def bulk_capture(shop_id: Id, body: BulkCaptureIn) -> JSONResponse:
        requests = {o.order_id: ActionRequest(Action.CAPTURE, body.requested_by, o.amount, order_total=o.order_total)
                    for o in body.orders}
        results = await capture_orders(deps, requests, shop_id=shop_id)
        entries = [result_body(r)[1] for r in results]
        summary: dict[str, int] = {}
        for entry in entries:
            summary[entry["result"]] = summary.get(entry["result"], 0) + 1
        return JSONResponse({"summary": summary, "results": entries})


def _action_routes(router: APIRouter, deps: Deps) -> None:
    """An operation's options are all optional, so its body is too: no body (or `{}`) asks with none (issue 14)."""
    async def run(shop_id: str, order_id: str, request: ActionRequest) -> JSONResponse:
        try:
            return _answer(await run_action(deps, request, shop_id=shop_id, order_id=order_id))
        except PaymentNotFound:
            raise not_found(order_id) from None

    @router.post("/{order_id}/capture", summary="1Capture of the hold (SalesDate = today, JST); R12")
    async def capture(shop_id: Id, order_id: Id, body: CaptureIn | None = None) -> JSONResponse:
        body = body or CaptureIn()
        return await run(shop_id, order_id, ActionRequest(Action.CAPTURE, body.requested_by, body.amount,
                                                          order_total=body.order_total))

    @router.post("/{order_id}/cancel", summary="1Delete of the hold (auth mode, before capture); R12/R13")
    async def cancel(shop_id: Id, order_id: Id, body: CancelIn | None = None) -> JSONResponse:
        body = body or CancelIn()
        return await run(shop_id, order_id, ActionRequest(Action.CANCEL, body.requested_by))

    @router.post("/{order_id}/update-amount", summary="取引更新: a new hold at the order total, then the old one "
                 "voided (design §6.5)")
    async def update_amount(shop_id: Id, order_id: Id, body: UpdateIn | None = None) -> JSONResponse:
        body = body or UpdateIn()
        return await run(shop_id, order_id, ActionRequest(Action.UPDATE_AMOUNT, body.requested_by, body.amount,
                                                          order_total=body.order_total))

    @router.post("/{order_id}/release-previous-hold", summary="Retry voiding the hold an amount update left live")
    async def release(shop_id: Id, order_id: Id, body: CancelIn | None = None) -> JSONResponse:
        body = body or CancelIn()
        return await run(shop_id, order_id, ActionRequest(Action.RELEASE_PREVIOUS_HOLD, body.requested_by))


def _resolve_route(router: APIRouter, deps: Deps) -> None:
    @router.post("/{order_id}/operations/resolve", summary="Record the truth about an unknown operation")
    async def resolve(shop_id: Id, order_id: Id, body: ResolveActionIn) -> JSONResponse:
        reply = Reply(outcome=Outcome.OK, transaction_id=body.transaction_id, approval_number=body.approval_number,
                      process_id=body.process_id)
        try:
            result = await resolve_action(deps, reply, shop_id=shop_id, order_id=order_id,
                                          succeeded=body.outcome == "succeeded", process_pass=body.process_pass)
        except PaymentNotFound:
            raise not_found(order_id) from None
        return _answer(result)
