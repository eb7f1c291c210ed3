"""The emulator's answers to the reference's open questions that are options: 1ReAuth's pairs (§9.4, both
readings), the Amount limit (§9.2); and the field limits taken from what public integrations send (§9.1)."""

from __future__ import annotations

import pytest

from emulator.call import JST
from emulator.config import EngineConfig, ReauthPairs
from emulator.engine import Engine
from emulator.state import TxState
from tests.unit.emulator.support import CARD, auth, new_engine, pair, send

SAME, NEW = ReauthPairs.SAME, ReauthPairs.NEW


def _engine(reauth_pairs: ReauthPairs) -> Engine:
    return new_engine(reauth_pairs=reauth_pairs)  # type: ignore[arg-type]


def _today(engine: Engine) -> str:
    return engine.clock.now().astimezone(JST).strftime("%Y%m%d")


def test_default_config_is_documented_in_the_cli() -> None:
    from emulator.__main__ import parse_args

    args = parse_args([])
    assert (args.reauth_pairs, args.max_amount_digits) == (EngineConfig.reauth_pairs.value, 7)
    assert parse_args(["--reauth-pairs", "same"]).reauth_pairs == "same"


def test_same_reauthorizes_a_live_auth_in_place_and_both_pairs_name_it() -> None:
    engine = _engine(SAME)
    old = pair(auth(engine, amount="1000"))
    reply = send(engine, "aut", "1ReAuth", Amount="1300", **old)
    assert reply.codes == ["OK"]
    new = pair(reply)
    assert new != old and reply.fields["ApproveNo"]
    assert engine.ledger.live_holds()["10000001"] == {"authorized": 1, "authorized_amount": 1300,
                                                       "captured": 0, "captured_amount": 0}
    assert [send(engine, "aut", "1Search", **p).fields["Amount"] for p in (old, new)] == ["1300", "1300"]
    [tx] = engine.ledger.transactions.values()
    assert [op.operate_id for op in tx.history] == ["1Auth", "1ReAuth"]
    assert tx.to_json()["aliases"] == [new["ProcessId"]]
    # The danger for a client that assumes `new`: "releasing" the old pair cancels the hold it just secured.
    assert send(engine, "aut", "1Delete", **old).codes == ["OK"]
    assert engine.ledger.live_holds() == {}
    assert send(engine, "aut", "1Delete", **new).codes == ["K14"]


def test_same_after_delete_revives_the_transaction_and_the_old_pair_captures_the_new_amount() -> None:
    """WooCommerce's "re-authorize, then capture" keeps the original pair: under `same` it captures the
    re-authorized amount and leaves nothing else live."""
    engine = _engine(SAME)
    old = pair(auth(engine, amount="1000"))
    send(engine, "aut", "1Delete", **old)
    new = pair(send(engine, "aut", "1ReAuth", Amount="1200", **old))
    assert send(engine, "aut", "1Capture", SalesDate=_today(engine), **old).codes == ["OK"]
    assert engine.ledger.live_holds()["10000001"]["captured_amount"] == 1200
    assert len(engine.ledger.transactions) == 1
    assert send(engine, "aut", "1Capture", SalesDate=_today(engine), **new).codes == ["K14"]


def test_new_after_delete_leaves_the_old_pair_on_the_old_transaction() -> None:
    """The other reading: the same client captures nothing (K14 on the voided original) under `new`."""
    engine = _engine(NEW)
    old = pair(auth(engine, amount="1000"))
    send(engine, "aut", "1Delete", **old)
    new = pair(send(engine, "aut", "1ReAuth", Amount="1200", **old))
    assert send(engine, "aut", "1Capture", SalesDate=_today(engine), **old).codes == ["K14"]
    assert [send(engine, "aut", "1Search", **p).fields["Amount"] for p in (old, new)] == ["1000", "1200"]


@pytest.mark.parametrize("mode", [SAME, NEW])
def test_reauth_of_a_sales_recorded_transaction_records_the_sale_in_both_modes(mode: ReauthPairs) -> None:
    engine = _engine(mode)
    ids = pair(auth(engine, "1Gathering"))
    send(engine, "aut", "1Delete", **ids)
    assert send(engine, "aut", "1ReAuth", Amount="900", **ids).codes == ["K39"]
    reply = send(engine, "aut", "1ReAuth", Amount="900", SalesDate=_today(engine), **ids)
    assert reply.codes == ["OK"] and reply.fields["SalesDate"] == _today(engine)
    tx, _ = engine.ledger.by_pair(reply.fields["ProcessId"])
    assert tx is not None and (tx.state, tx.amount) == (TxState.CAPTURED, 900)


@pytest.mark.parametrize("mode", [SAME, NEW])
def test_a_captured_transaction_cannot_be_reauthorized_in_either_mode(mode: ReauthPairs) -> None:
    engine = _engine(mode)
    ids = pair(auth(engine))
    send(engine, "aut", "1Capture", SalesDate=_today(engine), **ids)
    assert send(engine, "aut", "1ReAuth", Amount="1500", **ids).codes == ["K14"]


def test_an_alias_pair_with_a_wrong_pass_is_k12() -> None:
    engine = _engine(SAME)
    old = pair(auth(engine))
    new = pair(send(engine, "aut", "1ReAuth", Amount="1500", **old))
    assert send(engine, "aut", "1Search", ProcessId=new["ProcessId"], ProcessPass=old["ProcessPass"]).codes == ["K12"]


@pytest.mark.parametrize("kaiin_id", ["wc1234i5349762", "wc4294967295i0000001", "w123i456789012"])
def test_member_ids_public_integrations_send_are_accepted(kaiin_id: str) -> None:
    """WooCommerce's `wc<user id>i<7 digits>` is 14 characters from user 1000 on, 20 for a 10-digit user id."""
    engine = new_engine()
    member = {"KaiinId": kaiin_id, "KaiinPass": "123456789012"}
    assert send(engine, "crp", "4MemAdd", **CARD, **member).codes == ["OK"]
    assert auth(engine, **member).codes == ["OK"]


def test_member_ids_beyond_the_guess_are_k45() -> None:
    engine = new_engine()
    reply = send(engine, "crp", "4MemAdd", **CARD, KaiinId="wc12345678901i0000001", KaiinPass="123456789012")
    assert reply.codes == ["K45"]


def test_amount_has_seven_digits_by_default_and_eight_on_request() -> None:
    assert auth(new_engine(), amount="9999999").codes == ["OK"]
    assert auth(new_engine(), amount="10000000").codes == ["K23"]
    eight = new_engine(max_amount_digits=8)
    assert auth(eight, amount="99999999").codes == ["OK"]
    assert auth(eight, amount="100000000").codes == ["K23"]


def test_transaction_date_is_format_only_by_default_and_today_on_request() -> None:
    lenient = new_engine()
    assert auth(lenient).codes == ["OK"]  # BASE sends 20250101
    strict = new_engine(transaction_date_today=True)
    assert auth(strict).codes == ["K05"]
    today = strict.clock.now().astimezone(JST).strftime("%Y%m%d")
    assert send(strict, "aut", "1Auth", PayType="01", Amount="1000", TransactionDate=today, **CARD).codes == ["OK"]
