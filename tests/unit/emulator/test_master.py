"""Master messages (1Check/1Auth/1Gathering), validation, merchant authentication and test cards."""

from __future__ import annotations

import re

import pytest

from emulator.cards import TEST_CARDS
from tests.unit.emulator.support import BASE, CARD, VISA, auth, new_engine, send


def test_an_approved_auth_issues_a_32_character_pair_and_echoes_the_request() -> None:
    reply = auth(new_engine(), MerchantFree1="PAY0001", **CARD)
    fields = reply.fields
    assert fields["ResponseCd"] == "OK"
    assert re.fullmatch(r"[0-9A-Za-z]{32}", fields["ProcessId"])
    assert re.fullmatch(r"[0-9A-Za-z]{32}", fields["ProcessPass"])
    assert re.fullmatch(r"\d{7}", fields["ApproveNo"])
    assert re.fullmatch(r"\d{13}", fields["TransactionId"])
    echoed = (fields["OperateId"], fields["TransactionDate"], fields["MerchantFree1"])
    assert echoed == ("1Auth", "20250101", "PAY0001")


def test_errors_still_carry_transaction_id_date_operate_id_and_merchant_free() -> None:
    reply = send(new_engine(), "aut", "1Auth", MerchantFree1="a", MerchantFree2="b", MerchantFree3="c")
    assert reply.fields["ResponseCd"] != "OK"
    for name, value in (("OperateId", "1Auth"), ("MerchantFree1", "a"), ("MerchantFree2", "b"),
                        ("MerchantFree3", "c"), ("TransactionDate", "20250101")):
        assert reply.fields[name] == value
    assert reply.fields["TransactionId"]


def test_transaction_ids_are_fresh_for_every_call() -> None:
    engine = new_engine()
    assert auth(engine).fields["TransactionId"] != auth(engine).fields["TransactionId"]


def test_field_format_errors_accumulate_pipe_joined() -> None:
    reply = auth(new_engine(), amount="0", CardNo="41111", CardExp="3013", SecCd="1")
    assert reply.fields["ResponseCd"] == "K20|K21|K23|K24"


@pytest.mark.parametrize(("fields", "code"), [
    ({"MerchantId": "99999999"}, "K02"),
    ({"MerchantPass": "wrongpass"}, "K03"),
    ({"TenantId": "0002"}, "K13"),
    ({"TenantId": "01"}, "K04"),
    ({"TransactionDate": "20251340"}, "K05"),
    ({"OperateId": "1Nothing"}, "K06"),
    ({"OperateId": "4MemAdd"}, "K06"),
    ({"PayType": "04"}, "K22"),
    ({"MerchantFree1": "x" * 33}, "K07"),
    ({"MerchantFree2": "山田\u3000太郎"}, "K08"),
    ({"MerchantFree2": "山田\t太郎"}, "K08"),
    ({"MerchantFree2": "山田\u200b太郎"}, "K08"),
    ({"MerchantFree2": "山田\x7f"}, "K08"),
    ({"MerchantFree2": "山田\ufffd"}, "K08"),
    ({"MerchantFree3": "a=b"}, "K09"),
])
def test_bad_common_fields_give_the_reference_codes(fields: dict[str, str], code: str) -> None:
    reply = new_engine().handle("aut", {**BASE, "OperateId": "1Auth", "PayType": "01", "Amount": "100",
                                        **CARD, **fields})
    assert reply.codes == [code]


def test_merchant_free_takes_32_printable_characters_full_width_and_emoji_included() -> None:
    reply = auth(new_engine(), MerchantFree2="ヤマダ タロウ😀" + "ア" * 24, **CARD)
    assert reply.codes == ["OK"]


def test_repeated_wrong_merchant_passwords_lock_the_merchant_with_kg8() -> None:
    engine = new_engine()
    for _ in range(5):
        assert auth(engine, MerchantPass="wrongpass", **CARD).codes == ["K03"]
    assert auth(engine).codes == ["KG8"]


@pytest.mark.parametrize(("fields", "code"), [
    ({}, "K01"),
    ({"CardNo": VISA}, "K01"),
    ({**CARD, "KaiinId": "M1", "KaiinPass": "p"}, "K01"),
    ({"Token": "A" * 40, "ProcessId": "B" * 32}, "KIJ"),
])
def test_exactly_one_card_source_is_required(fields: dict[str, str], code: str) -> None:
    assert send(new_engine(), "aut", "1Auth", PayType="01", Amount="100", **fields).codes == [code]


@pytest.mark.parametrize("pan", [p for p, b in TEST_CARDS.items() if b.decline])
def test_decline_test_cards_answer_their_code_and_leave_no_hold(pan: str) -> None:
    engine = new_engine()
    reply = auth(engine, CardNo=pan, CardExp="3012")
    assert reply.codes == [TEST_CARDS[pan].decline]
    assert engine.ledger.live_holds() == {}


def test_an_expired_card_is_c13_and_a_luhn_failure_k82() -> None:
    engine = new_engine()
    assert auth(engine, CardNo=VISA, CardExp="2001").codes == ["C13"]
    assert auth(engine, CardNo="4111111111111112", CardExp="3012").codes == ["K82"]
    assert auth(engine, CardNo="6011111111111117", CardExp="3012").codes == ["C17"]


def test_k40_card_is_approved_with_mcseccd_1_and_a_live_hold_to_cancel() -> None:
    engine = new_engine()
    reply = auth(engine, CardNo="4000000000000036", CardExp="3012", SecCd="999")
    assert reply.codes == ["K40"]
    assert reply.fields["McSecCd"] == "1" and reply.fields["ProcessId"]
    assert engine.ledger.live_holds()["10000001"]["authorized"] == 1


def test_the_stall_card_gets_no_answer_and_changes_nothing() -> None:
    engine = new_engine()
    assert auth(engine, CardNo="4000000000000044", CardExp="3012").stall
    assert engine.ledger.transactions == {}


@pytest.mark.parametrize(("pan", "pay_type", "amount", "code"), [
    (VISA, "80", "9999", "C15"),
    (VISA, "03", "999", "G75"),
    ("378282246310005", "02", "50000", "G74"),
    ("378282246310005", "88", "50000", "G78"),
])
def test_pay_type_rules_per_brand_and_amount(pan: str, pay_type: str, amount: str, code: str) -> None:
    reply = send(new_engine(), "aut", "1Auth", PayType=pay_type, Amount=amount, CardNo=pan, CardExp="3012")
    assert reply.codes == [code]


def test_pay_types_outside_the_merchant_contract_are_c10_or_c12() -> None:
    engine = new_engine()
    other = {**BASE, "MerchantId": "20000002", "MerchantPass": "otherpass02", "OperateId": "1Auth",
             "Amount": "50000", **CARD}
    assert engine.handle("aut", {**other, "PayType": "80"}).codes == ["C10"]
    assert engine.handle("aut", {**other, "PayType": "03"}).codes == ["C12"]


def test_gathering_records_the_sale_and_check_creates_no_hold() -> None:
    engine = new_engine()
    assert auth(engine, "1Gathering").codes == ["OK"]
    assert send(engine, "aut", "1Check", **CARD).codes == ["OK"]
    assert engine.ledger.live_holds()["10000001"] == {
        "authorized": 0, "authorized_amount": 0, "captured": 1, "captured_amount": 1000}


def test_ledger_finds_transactions_by_merchant_free1_and_counts_operations() -> None:
    engine = new_engine()
    auth(engine, MerchantFree1="PAY-1", **CARD)
    auth(engine, MerchantFree1="PAY-2", **CARD)
    auth(engine, MerchantFree1="PAY-1", CardNo="4000000000000002", CardExp="3012")
    assert [tx.merchant_free[0] for tx in engine.ledger.find_by_free1("PAY-1")] == ["PAY-1"]
    counter = engine.ledger.counters["1Auth"]
    assert (counter.requests, counter.ok, counter.errors) == (3, 2, 1)


def test_every_test_card_is_luhn_valid_so_only_its_behaviour_decides() -> None:
    from emulator.fields import luhn_ok

    assert [pan for pan in TEST_CARDS if not luhn_ok(pan)] == []
