"""Process messages: the transaction state machine and its error codes."""

from __future__ import annotations

from emulator.call import JST
from emulator.config import ReauthPairs
from emulator.engine import Engine
from tests.unit.emulator.support import BASE, MEMBER, auth, new_engine, pair, send


def _today_engine() -> tuple[Engine, str]:
    """An engine and its current JST business date (SalesDate must not be in the future)."""
    engine = new_engine()
    return engine, engine.clock.now().astimezone(JST).strftime("%Y%m%d")


def test_capture_only_from_authorized_and_only_once() -> None:
    engine, today = _today_engine()
    ids = pair(auth(engine))
    assert send(engine, "aut", "1Capture", SalesDate=today, **ids).codes == ["OK"]
    assert send(engine, "aut", "1Capture", SalesDate=today, **ids).codes == ["K14"]
    gathered = pair(auth(engine, "1Gathering"))
    assert send(engine, "aut", "1Capture", SalesDate=today, **gathered).codes == ["K14"]


def test_capture_needs_a_sales_date_that_is_not_in_the_future() -> None:
    engine = new_engine()
    ids = pair(auth(engine))
    assert send(engine, "aut", "1Capture", SalesDate="29991231", **ids).codes == ["K39"]
    assert send(engine, "aut", "1Capture", **ids).codes == ["K39"]


def test_change_to_the_same_amount_is_k23_and_after_delete_k14() -> None:
    engine = new_engine()
    ids = pair(auth(engine, amount="1000"))
    assert send(engine, "aut", "1Change", Amount="1000", **ids).codes == ["K23"]
    assert send(engine, "aut", "1Change", Amount="800", **ids).codes == ["OK"]
    assert send(engine, "aut", "1Search", **ids).fields["Amount"] == "800"
    assert send(engine, "aut", "1Delete", **ids).codes == ["OK"]
    assert send(engine, "aut", "1Change", Amount="700", **ids).codes == ["K14"]


def test_a_second_delete_is_k14() -> None:
    engine = new_engine()
    ids = pair(auth(engine))
    assert send(engine, "aut", "1Delete", **ids).codes == ["OK"]
    assert send(engine, "aut", "1Delete", **ids).codes == ["K14"]
    assert engine.ledger.live_holds() == {}


def test_unknown_foreign_or_expired_pairs_are_k12() -> None:
    engine = new_engine(process_retention_days=10)
    ids = pair(auth(engine))
    assert send(engine, "aut", "1Search", ProcessId="A" * 32, ProcessPass="B" * 32).codes == ["K12"]
    assert send(engine, "aut", "1Search", ProcessId=ids["ProcessId"], ProcessPass="B" * 32).codes == ["K12"]
    other = {**BASE, "MerchantId": "20000002", "MerchantPass": "otherpass02", "OperateId": "1Search", **ids}
    assert engine.handle("aut", other).codes == ["K12"]
    engine.clock.advance(11 * 86400)
    assert send(engine, "aut", "1Search", **ids).codes == ["K12"]


def test_process_ids_are_format_checked() -> None:
    assert send(new_engine(), "aut", "1Delete", ProcessId="short", ProcessPass="x!").codes == ["K10", "K11"]


def test_search_returns_amount_and_sales_date_once_captured() -> None:
    engine, today = _today_engine()
    ids = pair(auth(engine, amount="1500"))
    assert "SalesDate" not in send(engine, "aut", "1Search", **ids).fields
    send(engine, "aut", "1Capture", SalesDate=today, **ids)
    fields = send(engine, "aut", "1Search", **ids).fields
    assert (fields["Amount"], fields["SalesDate"], fields["ProcessId"]) == ("1500", today, ids["ProcessId"])


def test_reauth_after_delete_issues_a_new_live_pair_and_keeps_the_old_one_usable() -> None:
    engine = new_engine(reauth_pairs=ReauthPairs.NEW)  # type: ignore[arg-type]
    old = pair(auth(engine, amount="1000"))
    send(engine, "aut", "1Delete", **old)
    reply = send(engine, "aut", "1ReAuth", Amount="1200", **old)
    assert reply.codes == ["OK"]
    new = pair(reply)
    assert new != old
    assert engine.ledger.transactions[new["ProcessId"]].state.value == "authorized"
    assert engine.ledger.transactions[old["ProcessId"]].state.value == "deleted"
    assert send(engine, "aut", "1Search", **old).codes == ["OK"]
    assert send(engine, "aut", "1Search", **new).fields["Amount"] == "1200"


def test_reauth_of_a_live_auth_leaves_two_holds_until_the_old_one_is_cancelled() -> None:
    engine = new_engine(reauth_pairs=ReauthPairs.NEW)  # type: ignore[arg-type]
    old = pair(auth(engine, amount="1000"))
    assert send(engine, "aut", "1ReAuth", Amount="1300", **old).codes == ["OK"]
    assert engine.ledger.live_holds()["10000001"]["authorized"] == 2
    send(engine, "aut", "1Delete", **old)
    assert engine.ledger.live_holds()["10000001"]["authorized_amount"] == 1300


def test_reauth_of_a_sales_recorded_transaction_needs_a_sales_date() -> None:
    engine, today = _today_engine()
    ids = pair(auth(engine, "1Gathering"))
    send(engine, "aut", "1Delete", **ids)
    assert send(engine, "aut", "1ReAuth", Amount="900", **ids).codes == ["K39"]
    reply = send(engine, "aut", "1ReAuth", Amount="900", SalesDate=today, **ids)
    assert reply.codes == ["OK"] and reply.fields["SalesDate"] == today
    tx, _ = engine.ledger.by_pair(reply.fields["ProcessId"])
    assert tx is not None and tx.state.value == "captured"


def test_member_consistency_k80_and_k81() -> None:
    engine = new_engine()
    send(engine, "crp", "4MemAdd", CardNo="4111111111111111", CardExp="3012", **MEMBER)
    by_member = pair(auth(engine, **MEMBER))
    by_card = pair(auth(engine))
    assert send(engine, "aut", "1Delete", **by_member).codes == ["K80"]
    assert send(engine, "aut", "1Delete", **by_card, **MEMBER).codes == ["K81"]
    assert send(engine, "aut", "1Search", **by_member).codes == ["OK"]
    assert send(engine, "aut", "1Delete", **by_member, **MEMBER).codes == ["OK"]


def test_tenant_id_is_optional_and_ignored_on_process_messages() -> None:
    engine = new_engine()
    ids = pair(auth(engine))
    params = {**BASE, "OperateId": "1Search", **ids}
    del params["TenantId"]
    assert engine.handle("aut", params).codes == ["OK"]
    assert engine.handle("aut", {**params, "TenantId": "9"}).codes == ["OK"]
