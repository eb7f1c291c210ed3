"""e-SCOTT Smart (Sony Payment Services) client: the only code in the system that speaks e-SCOTT.

Every operation is a row of `OPERATIONS`, keyed by its OperateId: which message it is (the endpoint and the
fields every message of that kind carries) and which optional fields it sends. `EscottGateway.send` builds
the form from that row and a `Request`; the typed methods (`authorize`, `capture`, ...) are one-line
conveniences over it for tools and tests. Credentials are passed per call (one gateway, many shops); secrets
are `SecretStr` and are unwrapped only into the form that is posted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Final, TypedDict

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Tracer
from pydantic import SecretStr

from delivery.logs import get_logger
from services.payment.adapters.escott.transport import FormPoster, TransportFailure
from services.payment.adapters.escott.wire import (
    CardInput,
    EscottResult,
    Member,
    MerchantConfig,
    MerchantRefs,
    ProcessRef,
    Source,
    TokenSource,
    classify,
)
from services.payment.domain.gateway import JST, Outcome

_log = get_logger(__name__)
Params = Mapping[str, str | SecretStr | None]


class Message(StrEnum):
    """The kinds of e-SCOTT messages, by what names their subject (`_SUBJECT`) and where they go (`PATHS`)."""

    MASTER = "master"  # a card source (token, card or member) and TenantId
    PROCESS = "process"  # ProcessId/ProcessPass; KaiinId/KaiinPass iff the Master used one
    MEMBER = "member"  # KaiinId/KaiinPass and TenantId
    TOKEN = "token"  # noqa: S105 - a message kind, not a secret: Token and TenantId


AUT, CRP, ATN = "/online/aut/OAUT002.do", "/online/crp/OCRP005.do", "/online/atn/OATN005.do"
PATHS: Final[Mapping[Message, str]] = {Message.MASTER: AUT, Message.PROCESS: AUT, Message.MEMBER: CRP,
                                       Message.TOKEN: ATN}


class SalesDate(StrEnum):
    NONE = "none"
    OPTIONAL = "optional"  # sent when given
    TODAY = "today"  # defaults to today's JST date


@dataclass(frozen=True, kw_only=True)
class OperationSpec:
    """One OperateId: its message, and the optional fields it sends."""

    operate_id: str
    message: Message
    amount: bool = False  # Amount (a positive integer of yen) and, for a Master, PayType
    sales_date: SalesDate = SalesDate.NONE
    card: bool = False  # a member message that stores a card (Token or CardNo/CardExp)
    new_kaiin_pass: bool = False


OPERATIONS: Final[Mapping[str, OperationSpec]] = {spec.operate_id: spec for spec in (
    OperationSpec(operate_id="1Check", message=Message.MASTER),  # validate a card without charging it
    OperationSpec(operate_id="1Auth", message=Message.MASTER, amount=True),  # reserve (与信)
    OperationSpec(operate_id="1Gathering", message=Message.MASTER, amount=True),  # reserve and record the sale
    OperationSpec(operate_id="1Capture", message=Message.PROCESS, sales_date=SalesDate.TODAY),  # 売上確定
    OperationSpec(operate_id="1Change", message=Message.PROCESS, amount=True),  # same amount is K23
    OperationSpec(operate_id="1Delete", message=Message.PROCESS),  # void the hold or cancel the sale (取消)
    OperationSpec(operate_id="1Search", message=Message.PROCESS),  # current Amount (and SalesDate once sold)
    OperationSpec(operate_id="1ReAuth", message=Message.PROCESS, amount=True, sales_date=SalesDate.OPTIONAL),
    OperationSpec(operate_id="4MemAdd", message=Message.MEMBER, card=True),  # store a card for a new KaiinId
    OperationSpec(operate_id="4MemChg", message=Message.MEMBER, card=True, new_kaiin_pass=True),
    OperationSpec(operate_id="4MemRefM", message=Message.MEMBER),  # the stored card, masked, and KaiinStatus
    OperationSpec(operate_id="4MemRef", message=Message.MEMBER),
    OperationSpec(operate_id="4MemInval", message=Message.MEMBER),  # required before 4MemDel
    OperationSpec(operate_id="4MemUnInval", message=Message.MEMBER),
    OperationSpec(operate_id="4MemDel", message=Message.MEMBER),  # its KaiinId can never be registered again
    OperationSpec(operate_id="1TokenSearch", message=Message.TOKEN),  # KI2 used, KI3 expired; does not spend it
)}


@dataclass(frozen=True, kw_only=True)
class Request:
    """What one call may carry; its `OperationSpec` decides what is sent. A Master pays with `card` or, without
    one, `member`; a member message stores `card` when its spec says so; 1TokenSearch reads `card`'s token."""

    card: CardInput | None = None
    member: Member | None = None
    process: ProcessRef | None = None
    amount: int | None = None
    pay_type: str = "01"
    sales_date: date | None = None
    new_kaiin_pass: SecretStr | None = None
    refs: MerchantRefs | None = None
    three_d_secure: Mapping[str, str] = field(default_factory=dict)
    """A Master charge after 3-D Secure: the result fields of the authentication, sent as returned."""


def _source_params(source: Source | None) -> dict[str, str | SecretStr | None]:
    if isinstance(source, TokenSource):
        return {"Token": source.token}
    if isinstance(source, Member):
        return {"KaiinId": source.kaiin_id, "KaiinPass": source.kaiin_pass}
    if source is not None:
        return {"CardNo": source.card_no, "CardExp": source.card_exp, "SecCd": source.sec_cd}
    return {}


def _positive(amount: int | None) -> str:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise ValueError("amount must be a positive integer number of yen")
    return str(amount)


def _required(value: object, spec: OperationSpec, what: str) -> None:
    if value is None:
        raise ValueError(f"{spec.operate_id} needs {what}")


def _master(spec: OperationSpec, merchant: MerchantConfig, request: Request) -> Params:
    source = request.card or request.member
    _required(source, spec, "a card, token or member")
    return {"TenantId": merchant.tenant_id, **_source_params(source)}


def _process(spec: OperationSpec, _: MerchantConfig, request: Request) -> Params:
    _required(request.process, spec, "the transaction's ProcessId/ProcessPass")
    assert request.process is not None
    return {"ProcessId": request.process.process_id, "ProcessPass": request.process.process_pass,
            **_source_params(request.member)}


def _member(spec: OperationSpec, merchant: MerchantConfig, request: Request) -> Params:
    _required(request.member, spec, "a member")
    card = _source_params(request.card) if spec.card else {}
    return {"TenantId": merchant.tenant_id, **_source_params(request.member), **card}


def _token(spec: OperationSpec, merchant: MerchantConfig, request: Request) -> Params:
    _required(request.card, spec, "a token")
    return {"TenantId": merchant.tenant_id, **_source_params(request.card)}


_SUBJECT: Final[Mapping[Message, Callable[[OperationSpec, MerchantConfig, Request], Params]]] = {
    Message.MASTER: _master, Message.PROCESS: _process, Message.MEMBER: _member, Message.TOKEN: _token}


def form_fields(spec: OperationSpec, merchant: MerchantConfig, request: Request, *, today: date) -> Params:
    """The message's own fields: its subject (per message kind) and the optional fields the spec names."""
    params: dict[str, str | SecretStr | None] = dict(_SUBJECT[spec.message](spec, merchant, request))
    if spec.amount:
        params["Amount"] = _positive(request.amount)
        if spec.message is Message.MASTER:
            params["PayType"] = request.pay_type
    day = request.sales_date or (today if spec.sales_date is SalesDate.TODAY else None)
    if spec.sales_date is not SalesDate.NONE and day is not None:
        params["SalesDate"] = day.strftime("%Y%m%d")
    if spec.new_kaiin_pass:
        params["NewKaiinPass"] = request.new_kaiin_pass
    return params


class EscottGateway:
    """e-SCOTT operations over a shared ``http`` client owned by the caller (see `create_http_client`).

    ``base_url`` is ``https://www.e-scott.jp`` in production or the emulator's URL. ``today`` supplies the
    JST business date sent as TransactionDate (injectable for tests). ``observe(result, seconds)`` is told of
    every call (metrics); ``tracer`` records each as a span `escott <OperateId>` (OperateId, outcome
    and result codes only: no card data, no passwords).
    """

    def __init__(self, http: FormPoster, base_url: str, *,
                 today: Callable[[], date] | None = None,
                 observe: Callable[[EscottResult, float], None] | None = None, tracer: Tracer | None = None) -> None:
        self._http = http
        self._tracer = tracer or trace.NoOpTracer()
        self._base_url = base_url.rstrip("/")
        self._today = today or (lambda: datetime.now(JST).date())
        self._observe = observe or (lambda result, seconds: None)

    async def send(self, operate_id: str, merchant: MerchantConfig, request: Request) -> EscottResult:
        """One call of the operation `operate_id` (a row of `OPERATIONS`): its form, posted, classified."""
        spec, refs, today = OPERATIONS[operate_id], request.refs or MerchantRefs(), self._today()
        form = {"MerchantId": merchant.merchant_id, "MerchantPass": merchant.merchant_pass,
                "TransactionDate": today.strftime("%Y%m%d"), "OperateId": operate_id,
                "MerchantFree1": refs.free1, "MerchantFree2": refs.free2, "MerchantFree3": refs.free3,
                **form_fields(spec, merchant, request, today=today)}
        if spec.message is Message.MASTER:
            form.update(request.three_d_secure)
        started = time.perf_counter()
        with self._tracer.start_as_current_span(f"escott {operate_id}", kind=SpanKind.CLIENT) as span:
            result = await self._post(PATHS[spec.message], operate_id, form)
            span.set_attributes({"escott.operate_id": operate_id, "escott.outcome": result.outcome.value,
                                 "escott.codes": list(result.codes)})
        seconds = time.perf_counter() - started
        self._observe(result, seconds)
        _log.debug("escott.call", operate_id=operate_id, merchant_id=merchant.merchant_id,
                  outcome=result.outcome.value, codes=list(result.codes), reason=result.reason,
                  transaction_id=result.transaction_id, ms=round(seconds * 1000, 1))
        return result

    async def _post(self, path: str, operate_id: str, form: Params) -> EscottResult:
        """POST the form; map transport failures by whether any byte can have left (see `wire`)."""
        data = {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in form.items() if v}
        try:
            status, body = await self._http.post(self._base_url + path, data)
        except TransportFailure as failure:
            return EscottResult(operate_id=operate_id, outcome=Outcome.UNKNOWN if failure.sent else Outcome.NOT_SENT,
                                reason=failure.reason)
        return classify(operate_id, status, body)

    # Typed conveniences over `send` (tools and tests; the card gateway port calls `send` by OperateId).
    async def check(self, merchant: MerchantConfig, source: Source, refs: MerchantRefs | None = None) -> EscottResult:
        return await self.send("1Check", merchant, Request(refs=refs, **_as_source(source)))

    async def authorize(self, merchant: MerchantConfig, source: Source, *, amount: int, pay_type: str = "01",
                        refs: MerchantRefs | None = None) -> EscottResult:
        return await self.send("1Auth", merchant, Request(refs=refs, **_as_source(source), amount=amount,
                                                           pay_type=pay_type))

    async def authorize_and_capture(self, merchant: MerchantConfig, source: Source, *, amount: int,
                                    pay_type: str = "01", refs: MerchantRefs | None = None) -> EscottResult:
        return await self.send("1Gathering", merchant, Request(refs=refs, **_as_source(source), amount=amount,
                                                                pay_type=pay_type))

    async def capture(self, merchant: MerchantConfig, process: ProcessRef, *, sales_date: date | None = None,
                      member: Member | None = None, refs: MerchantRefs | None = None) -> EscottResult:
        return await self.send("1Capture", merchant, Request(refs=refs, process=process, sales_date=sales_date,
                                                              member=member))

    async def change_amount(self, merchant: MerchantConfig, process: ProcessRef, *, amount: int,
                            member: Member | None = None, refs: MerchantRefs | None = None) -> EscottResult:
        return await self.send("1Change", merchant, Request(refs=refs, process=process, amount=amount, member=member))

    async def cancel(self, merchant: MerchantConfig, process: ProcessRef, *, member: Member | None = None,
                     refs: MerchantRefs | None = None) -> EscottResult:
        return await self.send("1Delete", merchant, Request(refs=refs, process=process, member=member))

    async def search(self, merchant: MerchantConfig, process: ProcessRef, *, member: Member | None = None,
                     refs: MerchantRefs | None = None) -> EscottResult:
        return await self.send("1Search", merchant, Request(refs=refs, process=process, member=member))

    async def reauthorize(self, merchant: MerchantConfig, process: ProcessRef, *, amount: int,
                          sales_date: date | None = None, member: Member | None = None,
                          refs: MerchantRefs | None = None) -> EscottResult:
        return await self.send("1ReAuth", merchant, Request(refs=refs, process=process, amount=amount,
                                                             sales_date=sales_date, member=member))

    async def add_member(self, merchant: MerchantConfig, member: Member, card: CardInput,
                         refs: MerchantRefs | None = None) -> EscottResult:
        return await self.send("4MemAdd", merchant, Request(refs=refs, member=member, card=card))

    async def change_member(self, merchant: MerchantConfig, member: Member, card: CardInput | None = None, *,
                            new_kaiin_pass: SecretStr | None = None,
                            refs: MerchantRefs | None = None) -> EscottResult:
        return await self.send("4MemChg", merchant, Request(refs=refs, member=member, card=card,
                                                             new_kaiin_pass=new_kaiin_pass))

    async def member_reference(self, merchant: MerchantConfig, member: Member, *, masked: bool = True,
                               refs: MerchantRefs | None = None) -> EscottResult:
        return await self.send("4MemRefM" if masked else "4MemRef", merchant, Request(refs=refs, member=member))

    async def invalidate_member(self, merchant: MerchantConfig, member: Member,
                                refs: MerchantRefs | None = None) -> EscottResult:
        return await self.send("4MemInval", merchant, Request(refs=refs, member=member))

    async def revalidate_member(self, merchant: MerchantConfig, member: Member,
                                refs: MerchantRefs | None = None) -> EscottResult:
        return await self.send("4MemUnInval", merchant, Request(refs=refs, member=member))

    async def delete_member(self, merchant: MerchantConfig, member: Member,
                            refs: MerchantRefs | None = None) -> EscottResult:
        return await self.send("4MemDel", merchant, Request(refs=refs, member=member))

    async def token_search(self, merchant: MerchantConfig, token: TokenSource,
                           refs: MerchantRefs | None = None) -> EscottResult:
        return await self.send("1TokenSearch", merchant, Request(refs=refs, card=token))


class _SourceFields(TypedDict, total=False):
    card: CardInput
    member: Member


def _as_source(source: Source) -> _SourceFields:
    """A Master's card source as the request field that carries it."""
    return {"member": source} if isinstance(source, Member) else {"card": source}
