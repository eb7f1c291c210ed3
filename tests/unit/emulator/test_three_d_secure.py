"""3-D Secure in the emulator engine (OTDS010, no HTTP): every test-card path, the refusals, and the charge that
must carry a finished authentication's fields (reference §5.4, §8.10)."""

from __future__ import annotations

import pytest

from emulator import tds
from emulator.engine import Engine
from emulator.tds_crypto import Undecryptable, decrypt_fields, encrypt_fields
from emulator.tds_state import THREE_D_FIELDS
from tests.unit.emulator.support import BASE, auth, new_engine, send, token

KEY, IV = "DEMO3DSKEY000001", "DEMO3DSIV0000001"
RETURN = "https://shop.example.jp/3ds/return"
CHALLENGE = "4000000000003220"


def secure(engine: Engine, tok: str, *, proc_no: str = "1234567", amount: str = "5500", **extra: str) -> tds.Page:
    inner = {**BASE, "OperateId": "3Secure", "Token": tok, "Amount": amount, "PayType": "01", "ProcNo": proc_no,
             "RedirectUrl": RETURN, "MerchantFree1": "P0001", **extra}
    return tds.start(engine, merchant_id="10000001", encrypt_value=encrypt_fields(inner, key=KEY, iv=IV))


def result(page: tds.Page) -> dict[str, str]:
    assert page.kind == "return", page
    assert page.redirect_url == RETURN
    return decrypt_fields(page.encrypt_value, key=KEY, iv=IV)


def three_d(fields: dict[str, str]) -> dict[str, str]:
    return {name: fields[name] for name in THREE_D_FIELDS}


def test_encrypt_value_round_trips_and_refuses_another_key() -> None:
    value = encrypt_fields({"A": "1 2&3", "B": "日本"}, key=KEY, iv=IV)
    assert decrypt_fields(value, key=KEY, iv=IV) == {"A": "1 2&3", "B": "日本"}
    with pytest.raises(Undecryptable):
        decrypt_fields(value, key="X" * 16, iv=IV)
    with pytest.raises(Undecryptable):
        decrypt_fields("not base64!", key=KEY, iv=IV)


def test_frictionless_returns_success_and_the_token_stays_unspent_until_the_charge() -> None:
    engine = new_engine()
    tok = token(engine)
    fields = result(secure(engine, tok))
    assert (fields["ResponseCd"], fields["SecureResultCode"], fields["TransactionStatus3D"]) == ("OK", "0", "Y")
    assert fields["ECI3D"] == "05" and fields["CAVV3D"] and fields["MerchantFree1"] == "P0001"
    assert fields["ProcNo"] == "1234567" and fields["OperateId"] == "3Secure"
    assert engine.ledger.tokens[tok].used_at is None
    reply = auth(engine, amount="5500", Token=tok, **three_d(fields))
    assert reply.codes == ["OK"]
    assert engine.ledger.tokens[tok].used_at is not None
    tx = engine.ledger.transactions[reply.fields["ProcessId"]]
    assert tx.three_d_secure is not None and tx.three_d_secure["CAVV3D"] == fields["CAVV3D"]


def test_challenge_with_the_right_code_authenticates() -> None:
    engine = new_engine()
    page = secure(engine, token(engine, CHALLENGE))
    assert page.kind == "challenge" and page.session is not None
    fields = result(tds.answer(engine, session_id=page.session.session_id, code=page.session.one_time_code))
    assert (fields["ResponseCd"], fields["SecureResultCode"]) == ("OK", "0")
    again = tds.answer(engine, session_id=page.session.session_id, code=page.session.one_time_code)
    assert (again.kind, again.code) == ("error", "U08")


def test_a_wrong_code_fails_with_u04_and_its_fields_cannot_charge() -> None:
    engine = new_engine()
    tok = token(engine, CHALLENGE)
    page = secure(engine, tok)
    assert page.session is not None
    fields = result(tds.answer(engine, session_id=page.session.session_id, code="000000x"))
    assert (fields["ResponseCd"], fields["SecureResultCode"], fields["TransactionStatus3D"]) == ("U04", "1", "N")
    assert auth(engine, amount="5500", Token=tok, **three_d(fields)).codes == ["U04"]
    assert engine.ledger.tokens[tok].used_at is None


def test_cancel_and_timeout() -> None:
    engine = new_engine(tds_timeout_seconds=60)
    first = secure(engine, token(engine, CHALLENGE))
    assert first.session is not None
    cancelled = result(tds.answer(engine, session_id=first.session.session_id, code="", cancel=True))
    assert (cancelled["ResponseCd"], cancelled["SecureResultCode"]) == ("KI0", "1")
    late = secure(engine, token(engine, CHALLENGE), proc_no="1234568")
    assert late.session is not None
    engine.clock.advance(61)
    timed_out = result(tds.answer(engine, session_id=late.session.session_id, code=late.session.one_time_code))
    assert (timed_out["ResponseCd"], timed_out["SecureResultCode"]) == ("KHW", "9")


@pytest.mark.parametrize(("pan", "code", "secure_result", "status"), [
    ("4000000000003238", "U04", "1", "N"),
    ("4000000000003246", "U01", "2", "A"),
    ("4000000000003253", "U02", "3", "U"),
    ("4000000000003261", "U09", "3", "U"),
    ("4000000000003279", "U14", "8", "U"),
    ("4000000000003287", "U03", "9", "U"),
])
def test_test_cards_decide_the_result(pan: str, code: str, secure_result: str, status: str) -> None:
    engine = new_engine()
    tok = token(engine, pan)
    fields = result(secure(engine, tok))
    assert (fields["ResponseCd"], fields["SecureResultCode"], fields["TransactionStatus3D"]) == (
        code, secure_result, status)
    charge = auth(engine, amount="5500", Token=tok, **three_d(fields))
    assert charge.codes == (["U04"] if secure_result in ("1", "8", "9") else ["OK"])


def test_fields_must_belong_to_the_token_and_amount() -> None:
    engine = new_engine()
    tok, other = token(engine), token(engine)
    fields = three_d(result(secure(engine, tok)))
    assert auth(engine, amount="5501", Token=tok, **fields).codes == ["U05"]
    assert auth(engine, amount="5500", Token=other, **fields).codes == ["U05"]
    assert auth(engine, amount="5500", Token=tok, **{**fields, "CAVV3D": "AAAA"}).codes == ["U05"]
    assert auth(engine, amount="5500", Token=tok, **{**fields, "ECI3D": "5"}).codes == ["K36"]
    assert auth(engine, amount="5500", Token=tok, **fields).codes == ["OK"]
    assert auth(engine, amount="5500", Token=other, **fields).codes == ["U05"]  # used once


def test_validation_and_refusals_return_with_codes_and_secure_result_9() -> None:
    engine = new_engine()
    tok = token(engine)
    bad = result(secure(engine, tok, proc_no="12", amount="0"))
    assert (bad["ResponseCd"], bad["SecureResultCode"]) == ("K23|K86", "9")
    wrong_pass = result(secure(engine, tok, MerchantPass="nope"))
    assert wrong_pass["ResponseCd"] == "K03"
    assert result(secure(engine, "X" * 40, proc_no="7654321"))["ResponseCd"] == "KHZ"
    assert result(secure(engine, tok, proc_no="1111111"))["ResponseCd"] == "OK"
    assert result(secure(engine, tok, proc_no="1111111", amount="100"))["ResponseCd"] == "K89"
    assert result(secure(engine, tok, proc_no="0000000"))["ResponseCd"] == "OK"
    assert result(secure(engine, tok, proc_no="0000000", amount="99"))["ResponseCd"] == "OK"


def test_duplicates_and_undecryptable_messages_get_an_error_page() -> None:
    engine = new_engine()
    inner = {**BASE, "OperateId": "3Secure", "Token": token(engine, CHALLENGE), "Amount": "100", "ProcNo": "2222222",
             "RedirectUrl": RETURN}
    value = encrypt_fields(inner, key=KEY, iv=IV)
    first = tds.start(engine, merchant_id="10000001", encrypt_value=value)
    assert first.kind == "challenge" and first.session is not None
    assert tds.start(engine, merchant_id="10000001", encrypt_value=value).code == "U07"
    tds.answer(engine, session_id=first.session.session_id, code=first.session.one_time_code)
    assert tds.start(engine, merchant_id="10000001", encrypt_value=value).code == "U08"
    assert tds.start(engine, merchant_id="10000001", encrypt_value="garbage").code == "U05"
    assert tds.start(engine, merchant_id="99999999", encrypt_value=value).code == "K02"
    no_url = encrypt_fields({**inner, "RedirectUrl": "javascript:alert(1)"}, key=KEY, iv=IV)
    assert tds.start(engine, merchant_id="10000001", encrypt_value=no_url).code == "K60"


def test_member_registration_through_3ds_runs_4memadd_after_authentication() -> None:
    engine = new_engine()
    tok = token(engine, CHALLENGE)
    inner = {**BASE, "OperateId": "4MemAdd", "Token": tok, "KaiinId": "M3DS1", "KaiinPass": "pass00000001",
             "ProcNo": "3333333", "RedirectUrl": RETURN}
    page = tds.start(engine, merchant_id="10000001", encrypt_value=encrypt_fields(inner, key=KEY, iv=IV))
    assert page.session is not None and ("10000001", "M3DS1") not in engine.ledger.members
    fields = result(tds.answer(engine, session_id=page.session.session_id, code=page.session.one_time_code))
    assert (fields["ResponseCd"], fields["SecureResultCode"], fields["OperateId"]) == ("OK", "0", "4MemAdd")
    assert engine.ledger.members[("10000001", "M3DS1")].card.pan == CHALLENGE
    assert engine.ledger.tokens[tok].used_at is not None


def test_a_charge_by_the_member_the_authenticated_token_was_stored_on_is_accepted() -> None:
    engine = new_engine()
    tok = token(engine)
    fields = three_d(result(secure(engine, tok)))

    assert send(engine, "crp", "4MemAdd", KaiinId="M77", KaiinPass="pass00000077", Token=tok).codes == ["OK"]
    assert auth(engine, amount="5500", KaiinId="M78", KaiinPass="x", **fields).codes == ["U05"]
    assert auth(engine, amount="5500", KaiinId="M77", KaiinPass="pass00000077", **fields).codes == ["OK"]
