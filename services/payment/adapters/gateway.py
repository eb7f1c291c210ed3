"""`CardGateway` over the e-SCOTT client: one domain `GatewayCall` in, one classified `GatewayAnswer` out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from services.payment.adapters import escott
from services.payment.domain.gateway import PROCESS_CALLS, GatewayOperation, Outcome, Reply
from services.payment.ports import GatewayAnswer, GatewayCall

T = TypeVar("T")
FREE_FIELD_MAX = 32  # MerchantFree1-3: the strictest known limit (emulator README, open question 1)

_UNKNOWN_REASONS = {
    "ReadTimeout": "timeout", "WriteTimeout": "timeout", "TimeoutException": "timeout",
    "RemoteProtocolError": "connection_reset", "ReadError": "connection_reset", "WriteError": "connection_reset",
    "unparsable reply": "unparsable", "unparsable ResponseCd": "unparsable",
    "reply for another OperateId": "unparsable",
}


def free_field(text: str) -> str:
    """A MerchantFree value the gateway accepts: no `&`/`=` (wire separators), at most 32 characters."""
    return text.replace("&", " ").replace("=", " ").strip()[:FREE_FIELD_MAX]


def unknown_reason(reason: str) -> str:
    """The contract's vocabulary for unknown outcomes: timeout, connection_reset, http_5xx, unparsable."""
    if reason.startswith("HTTP 5"):
        return "http_5xx"
    return _UNKNOWN_REASONS.get(reason, reason or "unknown")


class EscottCardGateway:
    def __init__(self, client: escott.EscottGateway) -> None:
        self._client = client

    async def send(self, call: GatewayCall) -> GatewayAnswer:
        merchant = escott.MerchantConfig(call.credentials.merchant_id, call.credentials.merchant_pass,
                                  call.credentials.tenant_id)
        refs = escott.MerchantRefs(free_field(call.free1), free_field(call.free2))
        result = await self._dispatch(call, merchant, refs)()
        return answer(result)

    def _dispatch(self, call: GatewayCall, merchant: escott.MerchantConfig,
                  refs: escott.MerchantRefs) -> Callable[[], Awaitable[escott.EscottResult]]:
        c, op = self._client, call.operation
        member = escott.Member(call.member.kaiin_id, call.member.kaiin_pass) if call.member else None
        if op in (GatewayOperation.AUTH, GatewayOperation.GATHERING):
            charge = c.authorize if op is GatewayOperation.AUTH else c.authorize_and_capture
            source = member or escott.TokenSource(_required(call.token, op))
            return lambda: charge(merchant, source, amount=call.amount, pay_type=call.pay_type, refs=refs)
        if op in PROCESS_CALLS:
            return self._process(call, merchant, refs, member)
        key = _required(member, op)
        if op is GatewayOperation.MEM_ADD:
            return lambda: c.add_member(merchant, key, escott.TokenSource(_required(call.token, op)), refs)
        if op is GatewayOperation.MEM_CHG:
            return lambda: c.change_member(merchant, key, escott.TokenSource(_required(call.token, op)), refs=refs)
        member_calls = {GatewayOperation.MEM_INVAL: c.invalidate_member, GatewayOperation.MEM_DEL: c.delete_member}
        if op in member_calls:
            return lambda: member_calls[op](merchant, key, refs)
        return lambda: c.member_reference(merchant, key, refs=refs)

    def _process(self, call: GatewayCall, merchant: escott.MerchantConfig, refs: escott.MerchantRefs,
                 member: escott.Member | None) -> Callable[[], Awaitable[escott.EscottResult]]:
        """Process messages name the transaction by its pair; KaiinId goes along iff the charge used one."""
        c, op = self._client, call.operation
        process = _required(call.process, op)
        ref = escott.ProcessRef(process.process_id, process.process_pass)
        if op is GatewayOperation.CAPTURE:
            return lambda: c.capture(merchant, ref, sales_date=call.sales_date, member=member, refs=refs)
        if op is GatewayOperation.CHANGE:
            return lambda: c.change_amount(merchant, ref, amount=call.amount, member=member, refs=refs)
        if op is GatewayOperation.REAUTH:
            return lambda: c.reauthorize(merchant, ref, amount=call.amount, sales_date=call.sales_date,
                                         member=member, refs=refs)
        if op is GatewayOperation.SEARCH:
            return lambda: c.search(merchant, ref, refs=refs)
        return lambda: c.cancel(merchant, ref, member=member, refs=refs)


def _required(value: T | None, op: GatewayOperation) -> T:
    if value is None:
        raise ValueError(f"{op} call is missing a required input")
    return value


def answer(result: escott.EscottResult) -> GatewayAnswer:
    """Map the client's classified result to the domain reply (secrets kept aside as SecretStr)."""
    outcome = Outcome(result.outcome.value)
    reason = unknown_reason(result.reason) if result.outcome is escott.Outcome.UNKNOWN else result.reason
    process = result.process
    reply = Reply(outcome=outcome, codes=tuple(result.codes), transaction_id=result.transaction_id,
                  approval_number=result.fields.get("ApproveNo") or None,
                  process_id=process.process_id if process else None, reason=reason)
    amount = result.fields.get("Amount", "")
    return GatewayAnswer(reply=reply, process_pass=process.process_pass if process else None,
                         masked_card=result.masked_card_no, amount=int(amount) if amount.isdigit() else None,
                         sales_date=result.fields.get("SalesDate") or None)
