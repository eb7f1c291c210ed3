"""Process messages at ``/online/aut/OAUT002.do``: 1Capture, 1Change, 1Delete, 1Search, 1ReAuth.

Each acts on the transaction named by ProcessId+ProcessPass (reference §2.3, §2.6, §8.6). What 1ReAuth does
to the pair is unknown at Sony (reference §9.4), so it is an option (``EngineConfig.reauth_pairs``, README):
``new`` creates a *new* transaction (new pair, new TransactionId) in the original's kind and leaves the
original untouched, so a re-authorized live hold stays live until cancelled; ``same`` re-authorizes the
transaction in place and answers a fresh pair that names it as well as the old pair does.
"""

from __future__ import annotations

from datetime import timedelta

from emulator.call import Call, OpSpec
from emulator.cards import brand_of
from emulator.charges import decline_code, issue
from emulator.config import ReauthPairs
from emulator.fields import parse_yyyymmdd
from emulator.members import authenticate
from emulator.state import Operation, Transaction, TxState

PAIR = ("ProcessId", "ProcessPass")
MEMBER = ("KaiinId", "KaiinPass")


def find(call: Call, check_member: bool = True) -> tuple[Transaction | None, str | None]:
    """The transaction for the pair (``K12`` if unknown, foreign or past retention) after K80/K81."""
    tx, process_pass = call.ledger.by_pair(call.get("ProcessId"))
    foreign = tx is not None and tx.merchant_id != call.merchant.merchant_id
    if tx is None or foreign or process_pass != call.get("ProcessPass"):
        return None, "K12"
    if call.now - tx.created_at > timedelta(days=call.config.process_retention_days):
        return None, "K12"
    if not check_member:
        return tx, None
    if tx.kaiin_id and not call.get("KaiinId"):
        return None, "K80"
    if not tx.kaiin_id and call.get("KaiinId"):
        return None, "K81"
    if tx.kaiin_id:
        member, code = authenticate(call, call.get("KaiinId"), call.get("KaiinPass"))
        if member is None or member.kaiin_id != tx.kaiin_id:
            return None, code or "K71"
    return tx, None


def _done(call: Call, tx: Transaction, record: bool = True) -> list[str]:
    """Append the accepted operation to the history and fill the common Process reply fields."""
    if record:
        tx.history.append(Operation(operate_id=call.operate_id, transaction_id=call.out["TransactionId"],
                                    at=call.now, amount=tx.amount))
    brand = brand_of(tx.card.pan)
    call.out.update({"ProcessId": call.get("ProcessId"), "ProcessPass": call.get("ProcessPass"),
                     "CompanyCd": brand[1] if brand else ""})
    return []


def _sales_date_code(call: Call) -> str | None:
    sales_date = parse_yyyymmdd(call.get("SalesDate"))
    return "K39" if sales_date is None or sales_date > call.today else None


def capture(call: Call) -> list[str]:
    """1Capture: record the sale of a live authorization (``K14`` from any other state)."""
    tx, code = find(call)
    if tx is None:
        return [code or "K12"]
    if tx.state is not TxState.AUTHORIZED:
        return ["K14"]
    code = _sales_date_code(call)
    if code:
        return [code]
    tx.state, tx.sales_date = TxState.CAPTURED, call.get("SalesDate")
    return _done(call, tx)


def change(call: Call) -> list[str]:
    """1Change: new amount on a live auth or sale; the same amount is ``K23``, after 1Delete ``K14``."""
    tx, code = find(call)
    if tx is None:
        return [code or "K12"]
    if not tx.state.live:
        return ["K14"]
    amount = int(call.get("Amount"))
    if amount == tx.amount:
        return ["K23"]
    tx.amount = amount
    return _done(call, tx)


def delete(call: Call) -> list[str]:
    """1Delete: void the authorization or cancel the sale; a second 1Delete is ``K14``."""
    tx, code = find(call)
    if tx is None:
        return [code or "K12"]
    if not tx.state.live:
        return ["K14"]
    tx.state = TxState.DELETED
    return _done(call, tx)


def search(call: Call) -> list[str]:
    """1Search: current Amount and SalesDate (if sales-recorded); KaiinId is not required here."""
    tx, code = find(call, check_member=False)
    if tx is None:
        return [code or "K12"]
    call.out["Amount"] = str(tx.amount)
    if tx.sales_date:
        call.out["SalesDate"] = tx.sales_date
    return _done(call, tx, record=False)


def reauth(call: Call) -> list[str]:
    """1ReAuth: re-authorize a voided transaction or a live, uncaptured authorization at a new amount."""
    tx, code = find(call)
    if tx is None:
        return [code or "K12"]
    if tx.kind == "1Check" or tx.state is TxState.CAPTURED:
        return ["K14"]
    sales = tx.kind == "1Gathering"
    if (sales or tx.sales_date or call.get("SalesDate")) and _sales_date_code(call):
        return ["K39"]
    amount = int(call.get("Amount"))
    member = call.ledger.members.get((tx.merchant_id, tx.kaiin_id)) if tx.kaiin_id else None
    code = decline_code(call, tx.card, member=member, amount=amount, pay_type=tx.pay_type)
    if code:
        return [code]
    state = TxState.CAPTURED if sales else TxState.AUTHORIZED
    if call.config.reauth_pairs is ReauthPairs.SAME:
        return _reauth_in_place(call, tx, amount=amount, state=state)
    new = issue(call, tx.card, member=member, amount=amount, state=state)
    new.reauth_of, new.pay_type, new.kind = tx.process_id, tx.pay_type, tx.kind
    if sales:
        new.sales_date = call.out["SalesDate"] = call.get("SalesDate")
    else:
        new.sales_date = None
    return []


def _reauth_in_place(call: Call, tx: Transaction, *, amount: int, state: TxState) -> list[str]:
    """``same``: the transaction itself takes the new amount and is live again; the reply's fresh pair is an
    alias of it, so a client that keeps the old pair (WOO) and one that switches (WEL, ECC) act on one hold."""
    tx.amount, tx.state = amount, state
    tx.sales_date = call.get("SalesDate") if state is TxState.CAPTURED else None
    _done(call, tx)
    process_id, process_pass = call.ids.alnum(), call.ids.alnum()
    call.ledger.add_alias(tx, process_id, process_pass)
    call.out.update({"ProcessId": process_id, "ProcessPass": process_pass, "ApproveNo": call.ids.approve_no()})
    if tx.sales_date:
        call.out["SalesDate"] = tx.sales_date
    return []


SPECS: dict[str, OpSpec] = {
    "1Capture": OpSpec(run=capture, required=(*PAIR, "SalesDate"), optional=MEMBER, tenant_required=False),
    "1Change": OpSpec(run=change, required=(*PAIR, "Amount"), optional=MEMBER, tenant_required=False),
    "1Delete": OpSpec(run=delete, required=PAIR, optional=MEMBER, tenant_required=False),
    "1Search": OpSpec(run=search, required=PAIR, optional=MEMBER, tenant_required=False),
    "1ReAuth": OpSpec(run=reauth, required=(*PAIR, "Amount"), optional=(*MEMBER, "SalesDate"),
                      tenant_required=False),
}
