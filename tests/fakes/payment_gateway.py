"""A fake of payment's `CardGateway` port: a small model of e-SCOTT (the emulator's behaviour for the calls payment
makes) plus scripted answers.

- `token(pan)` mints a one-time token, as the token script does; test cards decline as the emulator's do
  (4000000000000002 G12, 4000000000000101 K99; 4000000000000036 approves but answers K40, its hold live).
- Holds: 1Auth/1Gathering make a transaction named by a ProcessId/ProcessPass; 1Capture, 1Change, 1Delete,
  1Search and 1ReAuth act on it (K12 unknown pair, K14 wrong state, K23 same amount, K80/K81 member mismatch).
- Members: 4MemAdd/4MemChg store the token's card, 4MemRefM shows it masked with its expiry (YYYY-MM), company
  code and `KaiinStatus` (0 valid, 3 invalidated), 4MemInval (K75 twice), 4MemDel (K70 unless invalidated); a
  KaiinId is never registered twice (K69); an unknown or deleted member is K71.
- 1TokenSearch answers OK while the token is unspent, KI2 once used, KHZ for a token it never issued.
- `script(operation, *answers)` queues answers for the next calls of one gateway operation (a decline, an
  unknown outcome, an exception as if the process died after sending, or a coroutine that runs while the call
  is on the wire); `down` makes every call `not_sent`.

`in_unit` (from the fake unit of work) is checked on every call: a call from inside a unit of work fails the
test, because a real one would hold a transaction open across a network call (design §6.2).
"""

from __future__ import annotations

import itertools
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from pydantic import SecretStr

from services.payment.domain.gateway import GatewayOperation as Op
from services.payment.domain.gateway import Outcome, Reply
from services.payment.ports import Credentials, GatewayAnswer, GatewayCall

DEMO_CREDENTIALS = Credentials(merchant_id="10000001", merchant_pass=SecretStr("escottpass01"),
                               token_auth_code=SecretStr("DEMOTOKEN0001"))
DECLINES = {"4000000000000002": "G12", "4000000000000101": "K99"}
K40_CARD = "4000000000000036"
Scripted = GatewayAnswer | BaseException | Callable[[GatewayCall], Awaitable[GatewayAnswer]]
"""An answer, an exception to raise (the process died after sending), or what happens while the call is on the
wire (a coroutine that runs other requests, then answers)."""


def answered(outcome: Outcome = Outcome.OK, *codes: str, reason: str = "", **reply: str) -> GatewayAnswer:
    """A scripted answer: `answered(Outcome.DECLINED, "G12")`, `answered(Outcome.UNKNOWN, reason="timeout")`."""
    return GatewayAnswer(reply=Reply(outcome=outcome, codes=codes, reason=reason, **reply))  # type: ignore[arg-type]


@dataclass(kw_only=True)
class Hold:
    process_pass: str
    pan: str
    amount: int
    state: str  # authorized | captured | deleted
    kaiin_id: str | None
    sales_date: str | None = None


@dataclass(kw_only=True)
class Member:
    kaiin_pass: str
    pan: str | None
    status: str  # valid | invalid | deleted
    exp: str = ""  # YYMM


_COMPANY = {"4": "VS", "5": "MC", "35": "JC", "34": "AX", "37": "AX", "36": "DC"}


class FakeCardGateway:
    def __init__(self, *, in_unit: Callable[[], bool] = lambda: False) -> None:
        self.calls: list[GatewayCall] = []
        self.down = False
        self._in_unit = in_unit
        self._script: dict[Op, deque[Scripted]] = defaultdict(deque)
        self._tokens: dict[str, tuple[str, bool]] = {}
        self._expiries: dict[str, str] = {}
        self._holds: dict[str, Hold] = {}
        self._members: dict[str, Member] = {}
        self._numbers = itertools.count(1)

    # -- test controls ------------------------------------------------------------------------------------
    def token(self, pan: str = "4111111111111111", exp: str = "3012") -> SecretStr:
        """A one-time token for `pan` expiring `exp` (YYMM), as the token script mints it."""
        token = f"FAKETOKEN{next(self._numbers):08d}"
        self._tokens[token] = (pan, False)
        self._expiries[token] = exp
        return SecretStr(token)

    def member_card(self, kaiin_id: str) -> tuple[str, str] | None:
        """The card number and status (valid, invalid, deleted) the gateway holds for a member (the admin view)."""
        member = self._members.get(kaiin_id)
        return (member.pan or "", member.status) if member is not None else None

    def script(self, operation: Op, *answers: Scripted) -> None:
        """The next calls of `operation` get these answers (or raise these exceptions), in order."""
        self._script[operation].extend(answers)

    def sent(self, operation: Op | None = None) -> list[Op]:
        """The gateway operations sent so far (of one kind, if given)."""
        return [c.operation for c in self.calls if operation in (None, c.operation)]

    # -- the port -----------------------------------------------------------------------------------------
    async def send(self, call: GatewayCall) -> GatewayAnswer:
        assert not self._in_unit(), f"{call.operation} sent inside a unit of work"
        self.calls.append(call)
        if self._script[call.operation]:
            scripted = self._script[call.operation].popleft()
            if isinstance(scripted, BaseException):
                raise scripted
            return scripted if isinstance(scripted, GatewayAnswer) else await scripted(call)
        if self.down:
            return answered(Outcome.NOT_SENT, reason="ConnectError")
        return self._model(call)

    def process(self, call: GatewayCall) -> GatewayAnswer:
        """What the gateway does with `call`, outside the call log and the script: for a scripted call that is
        processed while its reply is lost (or its sender dies)."""
        return self._model(call)

    def _model(self, call: GatewayCall) -> GatewayAnswer:
        op = call.operation
        if op in (Op.AUTH, Op.GATHERING):
            return self._charge(call)
        if op in (Op.MEM_ADD, Op.MEM_CHG, Op.MEM_REF, Op.MEM_INVAL, Op.MEM_DEL):
            return self._member_call(call)
        if op is Op.TOKEN_SEARCH:
            return self._token_search(call)
        return self._process_call(call)

    def _token_search(self, call: GatewayCall) -> GatewayAnswer:
        """1TokenSearch: OK while the token is usable (it is not spent by asking), else KHZ or KI2."""
        found = self._tokens.get(call.token.get_secret_value()) if call.token is not None else None
        if found is None:
            return self._declined("KHZ")
        return self._declined("KI2") if found[1] else self._ok()

    # -- Master: 1Auth, 1Gathering ------------------------------------------------------------------------
    def _charge(self, call: GatewayCall) -> GatewayAnswer:
        if call.member is not None:
            member = self._members.get(call.member.kaiin_id)
            if member is None or member.status != "valid" or member.pan is None:
                return self._declined("K71")
            pan, kaiin_id = member.pan, call.member.kaiin_id
        else:
            pan_or_code = self._spend(call.token)
            if pan_or_code.startswith("K"):
                return self._declined(pan_or_code)
            pan, kaiin_id = pan_or_code, None
        if pan in DECLINES:
            return self._declined(DECLINES[pan])
        state = "captured" if call.operation is Op.GATHERING else "authorized"
        process_id = self._new_hold(pan=pan, amount=call.amount, state=state, kaiin_id=kaiin_id)
        answer = self._ok(process_id=process_id, approval_number=f"{next(self._numbers):07d}")
        if pan == K40_CARD:
            return replace(answer, reply=replace(answer.reply, outcome=Outcome.DECLINED, codes=("K40",)))
        return answer

    def _spend(self, token: SecretStr | None) -> str:
        """The token's card number, the token now used; or the code of why it cannot be used."""
        found = self._tokens.get(token.get_secret_value()) if token is not None else None
        if found is None:
            return "KHZ"
        pan, used = found
        if used:
            return "KI2"
        self._tokens[token.get_secret_value()] = (pan, True)  # type: ignore[union-attr]
        return pan

    # -- Process: 1Capture, 1Change, 1Delete, 1Search, 1ReAuth --------------------------------------------
    def _process_call(self, call: GatewayCall) -> GatewayAnswer:
        hold, code = self._hold(call)
        if hold is None:
            return self._declined(code)
        op, live = call.operation, hold.state in ("authorized", "captured")
        if op is Op.SEARCH:
            assert call.process is not None
            return self._ok(process_id=call.process.process_id, amount=str(hold.amount), sales_date=hold.sales_date)
        if op is Op.CAPTURE and hold.state == "authorized":
            hold.state, hold.sales_date = "captured", (call.sales_date.strftime("%Y%m%d") if call.sales_date else None)
        elif op is Op.DELETE and live:
            hold.state = "deleted"
        elif op is Op.CHANGE and live:
            if call.amount == hold.amount:
                return self._declined("K23")
            hold.amount = call.amount
        elif op is Op.REAUTH and hold.state != "captured":
            process_id = self._new_hold(pan=hold.pan, amount=call.amount, state="authorized", kaiin_id=hold.kaiin_id)
            return self._ok(process_id=process_id, approval_number=f"{next(self._numbers):07d}")
        else:
            return self._declined("K14")
        return self._ok(process_id=call.process.process_id if call.process else None)

    def _hold(self, call: GatewayCall) -> tuple[Hold | None, str]:
        """The transaction the call names (K12: no such pair), with the member check of Process calls."""
        process = call.process
        hold = self._holds.get(process.process_id) if process is not None else None
        if hold is None or process is None or hold.process_pass != process.process_pass.get_secret_value():
            return None, "K12"
        if call.operation is Op.SEARCH:
            return hold, ""
        if hold.kaiin_id is not None and call.member is None:
            return None, "K80"
        if hold.kaiin_id is None and call.member is not None:
            return None, "K81"
        return hold, ""

    # -- Member: 4MemAdd, 4MemChg, 4MemRefM, 4MemInval, 4MemDel -------------------------------------------
    def _member_call(self, call: GatewayCall) -> GatewayAnswer:
        assert call.member is not None, f"{call.operation} needs a member"
        kaiin_id, op = call.member.kaiin_id, call.operation
        member = self._members.get(kaiin_id)
        if op is Op.MEM_ADD:
            if member is not None:
                return self._declined("K69")
            return self._store_card(call, Member(kaiin_pass=call.member.kaiin_pass.get_secret_value(), pan=None,
                                                 status="valid"))
        if member is None or member.status == "deleted" or \
                member.kaiin_pass != call.member.kaiin_pass.get_secret_value():
            return self._declined("K71")
        if op is Op.MEM_CHG:
            return self._store_card(call, member)
        if op is Op.MEM_REF:
            pan = member.pan or ""
            company = next((c for prefix, c in sorted(_COMPANY.items(), key=lambda p: -len(p[0]))
                            if pan.startswith(prefix)), None)
            return replace(self._ok(), masked_card=pan[:4] + "*" * (len(pan) - 8) + pan[-4:],
                           card_expiry=f"20{member.exp[:2]}-{member.exp[2:]}" if member.exp else None,
                           company_code=company, kaiin_status=3 if member.status == "invalid" else 0)
        if op is Op.MEM_INVAL:
            if member.status != "valid":
                return self._declined("K75")
            member.status = "invalid"
            return self._ok()
        if member.status != "invalid":
            return self._declined("K70")
        member.status = "deleted"
        return self._ok()

    def _store_card(self, call: GatewayCall, member: Member) -> GatewayAnswer:
        pan_or_code = self._spend(call.token)
        if pan_or_code.startswith("K"):
            return self._declined(pan_or_code)
        if pan_or_code in DECLINES:
            return self._declined(DECLINES[pan_or_code])
        member.pan = pan_or_code
        member.exp = self._expiries.get(call.token.get_secret_value(), "3012") if call.token else "3012"
        assert call.member is not None
        self._members[call.member.kaiin_id] = member
        return self._ok()

    # -- answers ------------------------------------------------------------------------------------------
    def _new_hold(self, *, pan: str, amount: int, state: str, kaiin_id: str | None) -> str:
        n = next(self._numbers)
        process_id = f"FAKEPROCESS{n:021d}"
        self._holds[process_id] = Hold(process_pass=f"FAKEPASS{n:024d}", pan=pan, amount=amount, state=state,
                                       kaiin_id=kaiin_id)
        return process_id

    def _ok(self, *, process_id: str | None = None, approval_number: str | None = None, amount: str | None = None,
            sales_date: str | None = None) -> GatewayAnswer:
        reply = Reply(outcome=Outcome.OK, transaction_id=f"{1_000_000_000_000 + next(self._numbers)}",
                      approval_number=approval_number, process_id=process_id, amount=int(amount) if amount else None)
        process_pass = SecretStr(self._holds[process_id].process_pass) if process_id else None
        return GatewayAnswer(reply=reply, process_pass=process_pass, amount=int(amount) if amount else None,
                             sales_date=sales_date)

    def _declined(self, code: str) -> GatewayAnswer:
        transaction_id = f"{1_000_000_000_000 + next(self._numbers)}"
        return GatewayAnswer(reply=Reply(outcome=Outcome.DECLINED, codes=(code,), transaction_id=transaction_id))
