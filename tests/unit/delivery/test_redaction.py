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
