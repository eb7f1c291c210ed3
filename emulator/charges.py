"""Master messages at ``/online/aut/OAUT002.do``: 1Check, 1Auth, 1Gathering (reference §2.3, §8.5).

A Master resolves exactly one card source, asks the "card company" (the test-card table) and, when
approved, issues a fresh ProcessId/ProcessPass pair. It records whether a KaiinId was used so Process
messages can enforce K80/K81.
"""

from __future__ import annotations

from collections.abc import Mapping

from emulator import tds_charge, tokens
from emulator.call import Call, OpSpec, Stall, source_shape
from emulator.cards import Card, behaviour_of, brand_of, pay_type_code
from emulator.members import authenticate, card_code
from emulator.state import Member, MemberStatus, Operation, Transaction, TxState
from emulator.tds_state import THREE_D_FIELDS

ASSIST = ("KanaSei", "KanaMei", "BirthDay", "TelNo")
SOURCE = ("Token", "CardNo", "CardExp", "SecCd", "KaiinId", "KaiinPass")


def resolve_source(call: Call) -> tuple[Card | None, Member | None, str | None]:
    """The card to charge and the member it came from; spends a token only after the stall check."""
    if call.get("KaiinId"):
        member, code = authenticate(call, call.get("KaiinId"), call.get("KaiinPass"))
        if member is None:
            return None, None, code
        if member.status != MemberStatus.VALID:
            return None, None, "K79"
        return member.card, member, None
    if call.get("Token"):
        token = call.ledger.tokens.get(call.get("Token"))
        code = tokens.token_code(token, merchant_id=call.merchant.merchant_id, now=call.now, config=call.config)
        if code or token is None:
            return None, None, code
        if behaviour_of(token.card.pan).stall:
            raise Stall(token.card.pan[-4:])
        token.used_at = call.now
        return token.card, None, None
    return Card(pan=call.get("CardNo"), exp=call.get("CardExp"), sec_cd=call.get("SecCd")), None, None


def decline_code(call: Call, card: Card, *, member: Member | None, amount: int, pay_type: str) -> str | None:
    """The card company's answer for this charge, or ``None`` when approved."""
    code = card_code(call, card)
    if code:
        return code
    if member is not None:
        code = member.switched_decline() or behaviour_of(card.pan).member_decline
        if code:
            return code
    brand = brand_of(card.pan)
    if pay_type and brand is not None:
        return pay_type_code(brand[0], pay_type, amount=amount, contracted=call.merchant.pay_types)
    return None


def issue(call: Call, card: Card, *, member: Member | None, amount: int, state: TxState) -> Transaction:
    """Create the transaction record and fill the Master reply fields."""
    tx = Transaction(
        merchant_id=call.merchant.merchant_id, tenant_id=call.get("TenantId"),
        process_id=call.ids.alnum(), process_pass=call.ids.alnum(), kind=call.operate_id, state=state,
        amount=amount, card=card, kaiin_id=member.kaiin_id if member else None,
        merchant_free=call.merchant_free, created_at=call.now, pay_type=call.get("PayType"),
        sales_date=call.today.strftime("%Y%m%d") if state is TxState.CAPTURED else None)
    tx.history.append(Operation(operate_id=call.operate_id, transaction_id=call.out["TransactionId"], at=call.now,
                                amount=amount))
    call.ledger.add_transaction(tx)
    brand = brand_of(card.pan)
    call.out.update({"ProcessId": tx.process_id, "ProcessPass": tx.process_pass,
                     "CompanyCd": brand[1] if brand else "", "ApproveNo": call.ids.approve_no()})
    return tx


def _assist_reply(call: Call, card: Card, sec_unmatch: bool) -> None:
    call.out["McSecCd"] = "1" if sec_unmatch else ("0" if card.sec_cd else "8")
    for name in ASSIST:
        call.out[f"Mc{name}"] = "0" if call.get(name) else "8"


def master(call: Call) -> list[str]:
    """1Check / 1Auth / 1Gathering; 3-D Secure result fields, when sent, must match a finished authentication
    (checked before the token is spent, `tds_charge.py`)."""
    code = tds_charge.authentication_code(call)
    if code:
        return [code]
    card, member, code = resolve_source(call)
    if card is None:
        return [code or "K99"]
    amount = int(call.get("Amount") or 0)
    code = decline_code(call, card, member=member, amount=amount, pay_type=call.get("PayType"))
    if code:
        return [code]
    state = {"1Check": TxState.CHECKED, "1Auth": TxState.AUTHORIZED}.get(call.operate_id, TxState.CAPTURED)
    tx = issue(call, card, member=member, amount=amount, state=state)
    if tds_charge.carries_3ds(call.params):
        tds_charge.spend(call)
        tx.three_d_secure = {name: call.get(name) for name in THREE_D_FIELDS if name in call.params}
    sec_unmatch = behaviour_of(card.pan).sec_unmatch
    _assist_reply(call, card, sec_unmatch)
    return ["K40"] if sec_unmatch else []


def _shape(params: Mapping[str, str]) -> list[str]:
    """The card source, then the formats of 3-D Secure result fields (K30-K36), when sent."""
    return source_shape(params) or tds_charge.format_codes(params)


SPECS: dict[str, OpSpec] = {
    "1Check": OpSpec(run=master, required=("TenantId",), optional=(*SOURCE, *ASSIST), shape=_shape),
    "1Auth": OpSpec(run=master, required=("TenantId", "PayType", "Amount"), optional=(*SOURCE, *ASSIST),
                    shape=_shape),
    "1Gathering": OpSpec(run=master, required=("TenantId", "PayType", "Amount"), optional=(*SOURCE, *ASSIST),
                         shape=_shape),
}
