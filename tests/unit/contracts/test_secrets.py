"""The card token is the only secret an event may carry; it never shows in reprs, logs or errors (I5)."""

from __future__ import annotations

import json
import logging

import pytest
from pydantic import ValidationError

from contracts.envelope import Envelope
from contracts.events import CheckoutRequested, OrderPlaced
from contracts.redaction import MASK, is_secret_key, redact
from contracts.schemas import current_schemas
from tests.unit.contracts.samples import TOKEN, checkout_requested, order_placed

TOKEN_CARRIERS = [checkout_requested, order_placed]


@pytest.mark.parametrize("factory", TOKEN_CARRIERS)
def test_token_is_masked_in_repr_and_str_of_the_event(factory):
    event = factory()

    assert TOKEN not in repr(event)
    assert TOKEN not in str(event)
    assert MASK in repr(event)


@pytest.mark.parametrize("factory", TOKEN_CARRIERS)
def test_token_is_masked_in_repr_and_str_of_the_envelope(factory):
    envelope = Envelope.wrap(factory(), producer="checkout", correlation_id="c")

    assert TOKEN not in repr(envelope)
    assert TOKEN not in str(envelope)
    assert MASK in repr(envelope)


@pytest.mark.parametrize("factory", TOKEN_CARRIERS)
def test_token_never_appears_in_log_output(factory, caplog):
    event = factory()
    envelope = Envelope.wrap(event, producer="checkout", correlation_id="c")
    logger = logging.getLogger("contracts-test")

    with caplog.at_level(logging.DEBUG, logger="contracts-test"):
        logger.info("event %s %r", event, event)
        logger.info("envelope %s %r", envelope, envelope)
        logger.info("python dump %s", event.model_dump())
        logger.info("structured", extra={"event": event, "envelope": envelope})

    assert TOKEN not in caplog.text
    assert all(TOKEN not in str(record.__dict__) for record in caplog.records)


def test_token_is_sent_in_clear_only_in_the_json_body_for_the_payment_service():
    event = order_placed()

    assert event.model_dump()["payment"]["token"].get_secret_value() == TOKEN
    assert event.model_dump(mode="json")["payment"]["token"] == TOKEN
    received = Envelope.from_bytes(Envelope.wrap(event, producer="checkout", correlation_id="c").to_bytes())
    token = received.event_as(OrderPlaced).payment.token
    assert token is not None and token.get_secret_value() == TOKEN


def test_validation_errors_do_not_echo_the_token():
    # pydantic shows (a truncated repr of) the input of a failing object unless inputs are hidden
    with pytest.raises(ValidationError) as caught:
        CheckoutRequested.model_validate({"payment": {"token": TOKEN}})

    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)


def test_envelope_validation_errors_do_not_echo_the_body():
    with pytest.raises(ValidationError) as caught:
        Envelope.from_bytes(json.dumps({"data": {"token": TOKEN}}).encode())

    assert TOKEN not in str(caught.value)


def test_redact_masks_secret_keys_at_any_depth_and_keeps_the_rest():
    raw = {"KaiinPass": "p", "nested": [{"merchant_pass": "q", "token": None, "amount": 5}], "name": "x"}

    assert redact(raw) == {
        "KaiinPass": MASK,
        "nested": [{"merchant_pass": MASK, "token": None, "amount": 5}],
        "name": "x",
    }
    assert is_secret_key("k_TokenNinsyoCode")
    assert is_secret_key("ProcessPass")
    assert not is_secret_key("transaction_id")


def _property_names(schema, found):
    if isinstance(schema, dict):
        for name, sub in schema.get("properties", {}).items():
            found.add(name)
            _property_names(sub, found)
        for value in schema.values():
            _property_names(value, found)
    elif isinstance(schema, list):
        for item in schema:
            _property_names(item, found)
    return found


def test_no_event_field_is_secret_except_the_payment_token():
    secret_fields = {
        type_name: sorted(name for name in _property_names(schema, set()) if is_secret_key(name))
        for type_name, schema in current_schemas().items()
    }

    carries_token = ["sealed_token", "token"]  # sealed_token: ciphertext only checkout and payment can open
    allowed = {"checkout.requested.v1": carries_token, "order.placed.v1": carries_token}
    assert {type_name: names for type_name, names in secret_fields.items() if names} == allowed
