"""The gateway port over the e-SCOTT client, and encryption at rest: pure mapping, no I/O."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from services.payment.adapters.crypto import Cipher
from services.payment.adapters.escott import classify
from services.payment.adapters.gateway import answer, free_field, unknown_reason
from services.payment.domain.gateway import Outcome
from services.payment.ports import CredentialsUnreadable


def test_an_approval_keeps_ids_for_the_domain_and_the_process_pass_aside() -> None:
    body = (b"TransactionId=1000000000001&TransactionDate=20250601&OperateId=1Auth&MerchantFree1=1"
            b"&ProcessId=PID1&ProcessPass=PASS1&ApproveNo=1234567&ResponseCd=OK")
    result = answer(classify("1Auth", 200, body))
    assert (result.reply.outcome, result.reply.transaction_id, result.reply.approval_number,
            result.reply.process_id) == (Outcome.OK, "1000000000001", "1234567", "PID1")
    assert result.process_pass is not None and result.process_pass.get_secret_value() == "PASS1"
    assert "PASS1" not in repr(result)


def test_a_k40_decline_still_names_the_hold_it_left() -> None:
    body = b"TransactionId=1&OperateId=1Auth&ProcessId=PID2&ProcessPass=PASS2&ResponseCd=K40"
    result = answer(classify("1Auth", 200, body))
    assert (result.reply.outcome, result.reply.codes, result.reply.process_id) == (Outcome.DECLINED, ("K40",),
                                                                                   "PID2")


@pytest.mark.parametrize(("status", "body", "reason"), [
    (503, b"", "http_5xx"),
    (200, b"<html>oops</html>", "unparsable"),
    (200, b"TransactionId=1&OperateId=1Gathering&ResponseCd=OK", "unparsable"),
])
def test_unknown_outcomes_use_the_contract_vocabulary(status, body, reason) -> None:
    result = answer(classify("1Auth", status, body))
    assert (result.reply.outcome, result.reply.reason) == (Outcome.UNKNOWN, reason)


@pytest.mark.parametrize(("raw", "reason"), [("ReadTimeout", "timeout"), ("RemoteProtocolError", "connection_reset"),
                                             ("ReadError", "connection_reset"), ("HTTP 502", "http_5xx")])
def test_transport_failures_after_sending_are_named(raw, reason) -> None:
    assert unknown_reason(raw) == reason


def test_merchant_free_fields_drop_wire_separators_and_fit_32_characters() -> None:
    assert free_field("山田&太郎=様") == "山田 太郎 様"
    assert len(free_field("ア" * 40)) == 32


def test_merchant_free2_carries_a_name_typed_with_full_width_spaces_half_width_kana_or_controls() -> None:
    assert free_field("山田\u3000太郎") == "山田 太郎"
    assert free_field("ﾔﾏﾀﾞ\tﾀﾛｳ\u200b\x7f") == "ヤマダ タロウ"


def test_secrets_are_encrypted_and_a_rotated_key_still_reads_old_rows() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    stored = Cipher(SecretStr(old)).encrypt(SecretStr("escottpass01"))
    assert b"escottpass01" not in stored
    assert Cipher(SecretStr(f"{new},{old}")).decrypt(stored).get_secret_value() == "escottpass01"
    with pytest.raises(CredentialsUnreadable):
        Cipher(SecretStr(new)).decrypt(stored)
    with pytest.raises(ValueError, match="Fernet"):
        Cipher(SecretStr("not-a-key"))


def test_a_1search_reply_carries_the_live_amount_and_sales_date() -> None:
    body = (b"TransactionId=1&OperateId=1Search&ProcessId=PID1&ProcessPass=PASS1&Amount=6200&SalesDate=20250601"
            b"&ResponseCd=OK")
    result = answer(classify("1Search", 200, body))
    assert (result.reply.outcome, result.amount, result.sales_date) == (Outcome.OK, 6200, "20250601")
    assert answer(classify("1Search", 200, b"TransactionId=1&OperateId=1Search&ResponseCd=K12")).amount is None
