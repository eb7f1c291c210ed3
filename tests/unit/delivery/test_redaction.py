"""Invariant I5: secrets are masked in structured fields and in free text."""

import json
import logging

from contracts.redaction import MASK, redact, redact_text
from delivery.logs import configure_logging, get_logger


def test_secret_keys_are_masked_at_any_depth():
    data = {"shop": "demo", "merchant": {"MerchantPass": "escottpass01", "id": "10000001"},
            "payment": [{"token": "tok_abc"}], "KaiinPass": "p", "ProcessPass": "q"}
    assert redact(data) == {"shop": "demo", "merchant": {"MerchantPass": MASK, "id": "10000001"},
                            "payment": [{"token": MASK}], "KaiinPass": MASK, "ProcessPass": MASK}


def test_card_numbers_and_wire_secrets_are_scrubbed_from_text():
    wire = "MerchantId=10000001&MerchantPass=escottpass01&Token=abc123&CardNo=4111111111111111&Amount=100"
    assert redact_text(wire) == f"MerchantId=10000001&MerchantPass={MASK}&Token={MASK}&CardNo={MASK}&Amount=100"
    assert redact_text("card 5555555555554444 declined") == f"card {MASK} declined"
    assert redact_text("postgresql://payments:s3cret@127.0.0.1/x") == f"postgresql://payments:{MASK}@127.0.0.1/x"


def test_a_twenty_digit_payment_number_is_not_mistaken_for_a_card():
    assert redact_text("payment 12345678901234567890") == "payment 12345678901234567890"


def test_log_lines_are_json_and_redacted(capsys):
    configure_logging("test-service")
    get_logger("t").info("charged CardNo=4111111111111111", token="tok_secret", amount=1200)
    logging.getLogger("stdlib").warning("KaiinPass=abc and 4111111111111111")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["event"] == f"charged CardNo={MASK}" and lines[0]["token"] == MASK
    assert lines[0]["amount"] == 1200 and lines[0]["service"] == "test-service"
    assert lines[1]["event"] == f"KaiinPass={MASK} and {MASK}"


def test_our_own_ids_stay_readable_in_logs():
    for text in ("order ord_b9cd73f1234567890123fda5a01db2 placed", "sub-1f4e2b3c4d5e6f7a8b9c0d1e2f3a4b5c",
                 "chk-2025060112345678901", "attempt att_4111111111111111x", "TransactionId=1000000000001",
                 "payment 20250601000000000001"):
        assert redact_text(text) == text


def test_card_numbers_grouped_by_spaces_or_hyphens_are_masked_too():
    assert redact_text("card 4111 1111 1111 1111 used") == f"card {MASK} used"
    assert redact_text("card 5555-5555-5555-4444") == f"card {MASK}"
    assert redact_text('{"pan": "378282246310005"}') == f'{{"pan": "{MASK}"}}'


def _luhn_valid_13_digit_ids(first: str, count: int) -> list[str]:
    from contracts.redaction import _luhn

    found, n = [], int(first + "0" * 12)
    while len(found) < count:
        if _luhn(str(n)):
            found.append(str(n))
        n += 7
    return found


def test_luhn_valid_13_digit_transaction_ids_stay_readable_in_fields_and_text():
    """Issue 17: about 1 in 10 of the emulator's 13-digit TransactionIds (1xxxxxxxxxxxx) passed the Luhn check and was
    masked; one starting with 4 (a real gateway's) stays readable where the field is known."""
    for tid in _luhn_valid_13_digit_ids("1", 5) + _luhn_valid_13_digit_ids("4", 5):
        assert redact({"transaction_id": tid, "TransactionId": tid}) == {"transaction_id": tid, "TransactionId": tid}
        assert redact_text(f"OperateId=1Auth&TransactionId={tid}&Amount=100") == \
            f"OperateId=1Auth&TransactionId={tid}&Amount=100"
        assert redact_text(f'{{"transaction_id": "{tid}", "ms": 61.6}}') == f'{{"transaction_id": "{tid}", "ms": 61.6}}'
    for tid in _luhn_valid_13_digit_ids("1", 20):  # a bare 13-digit run starting with 1 is no card either
        assert redact_text(f"settled {tid}") == f"settled {tid}"
    assert redact({"payment_number": "20250601000000000001"}) == {"payment_number": "20250601000000000001"}


def test_real_card_numbers_are_still_masked_even_under_an_id_name_in_free_text_elsewhere():
    cards = ("4111111111111111", "4222222222222", "5555555555554444", "2223003122003222", "378282246310005",
             "36227206271667", "3530111333300000", "6011111111111117", "6200000000000005")
    for card in cards:
        assert redact_text(f"card {card} declined") == f"card {MASK} declined", card
        assert redact({"note": f"TransactionId=1000000000001 card {card}"}) == \
            {"note": f"TransactionId=1000000000001 card {MASK}"}
    assert redact({"transaction_id": "CardNo=4111111111111111"}) == {"transaction_id": f"CardNo={MASK}"}


def test_digit_runs_no_card_can_have_are_left_alone():
    assert redact_text("epoch 1733112000000 ms") == "epoch 1733112000000 ms"  # Luhn-valid, 13 digits starting with 1
    assert redact_text("number 79927398713008") == "number 79927398713008"  # 14 digits, Luhn-valid, starts with 7
