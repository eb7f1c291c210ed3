"""`CardGateway` over the e-SCOTT client: one domain `GatewayCall` in, one classified `GatewayAnswer` out.

The call is sent by its gateway operation (the OperateId the domain names); which of its inputs go on the wire
is the client's table (`escott.OPERATIONS`), so nothing here branches on the operation.
"""

from __future__ import annotations

from contracts import gateway_text
from services.payment.adapters import escott
from services.payment.domain.card_face import expiry_month
from services.payment.domain.gateway import Outcome, Reply
from services.payment.ports import GatewayAnswer, GatewayCall

_UNKNOWN_REASONS = {
    "ReadTimeout": "timeout", "WriteTimeout": "timeout", "TimeoutException": "timeout",
    "RemoteProtocolError": "connection_reset", "ReadError": "connection_reset", "WriteError": "connection_reset",
    "unparsable reply": "unparsable", "unparsable ResponseCd": "unparsable",
    "reply for another OperateId": "unparsable",
}


def free_field(text: str, field: gateway_text.FreeField = gateway_text.MERCHANT_FREE2) -> str:
    """A MerchantFree value the gateway accepts, made by the same rules checkout accepted it by
    (`contracts.gateway_text`: NFKC, one space for any whitespace run, no control or invisible characters,
    no `&`/`=`, cut to the field's limit); empty when nothing is left (the client then leaves the field out)."""
    return gateway_text.free_text(text, field)


def unknown_reason(reason: str) -> str:
    """The contract's vocabulary for unknown outcomes: timeout, connection_reset, http_5xx, unparsable."""
    if reason.startswith("HTTP 5"):
        return "http_5xx"
    return _UNKNOWN_REASONS.get(reason, reason or "unknown")


class EscottCardGateway:
    def __init__(self, client: escott.EscottGateway) -> None:
        self._client = client

    async def send(self, call: GatewayCall) -> GatewayAnswer:
        credentials = call.credentials
        merchant = escott.MerchantConfig(credentials.merchant_id, credentials.merchant_pass, credentials.tenant_id)
        result = await self._client.send(call.operation.value, merchant, request(call))
        return answer(result)


def request(call: GatewayCall) -> escott.Request:
    """Everything the call has, as the client's request: a charge pays with the token or, without one, the
    member; a link stores the token on the member; a Process call names its pair (and the member iff given)."""
    member = escott.Member(call.member.kaiin_id, call.member.kaiin_pass) if call.member else None
    process = escott.ProcessRef(call.process.process_id, call.process.process_pass) if call.process else None
    return escott.Request(card=escott.TokenSource(call.token) if call.token else None, member=member,
                          process=process, amount=call.amount, pay_type=call.pay_type, sales_date=call.sales_date,
                          refs=escott.MerchantRefs(free_field(call.free1, gateway_text.MERCHANT_FREE1),
                                                   free_field(call.free2, gateway_text.MERCHANT_FREE2)),
                          three_d_secure=dict(call.three_d_secure))


def answer(result: escott.EscottResult) -> GatewayAnswer:
    """Map the client's classified result to the domain reply (secrets kept aside as SecretStr)."""
    reason = unknown_reason(result.reason) if result.outcome is Outcome.UNKNOWN else result.reason
    process = result.process
    amount, status = result.fields.get("Amount", ""), result.fields.get("KaiinStatus", "")
    held = int(amount) if amount.isdigit() else None
    reply = Reply(outcome=result.outcome, codes=tuple(result.codes), transaction_id=result.transaction_id,
                  approval_number=result.fields.get("ApproveNo") or None,
                  process_id=process.process_id if process else None, reason=reason, amount=held)
    return GatewayAnswer(reply=reply, process_pass=process.process_pass if process else None,
                         masked_card=result.masked_card_no, amount=held,
                         sales_date=result.fields.get("SalesDate") or None, card_expiry=expiry_month(result.card_exp),
                         company_code=result.fields.get("CompanyCd") or None,
                         kaiin_status=int(status) if status.isdigit() else None)
