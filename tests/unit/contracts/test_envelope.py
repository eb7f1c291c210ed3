"""The envelope: byte round trips of every event type, timestamps, headers, and typed access to `data`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest
from pydantic import ValidationError

from contracts.envelope import Envelope, EventTypeMismatch, type_from_headers
from contracts.events import OrderPlaced, PaymentAuthorized
from contracts.registry import UnknownEventType
from tests.unit.contracts.samples import SAMPLES, payment_authorized

EVENT_ID = UUID("6f1d2a1e-0000-4000-8000-000000000001")
NOON_UTC = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def wrap(event=None, **overrides):
    fields = {"producer": "payment", "correlation_id": "sf-checkout-0001", "event_id": EVENT_ID}
    return Envelope.wrap(event or payment_authorized(), **{**fields, **overrides})


@pytest.mark.parametrize("type_name", sorted(SAMPLES))
def test_every_event_type_survives_a_round_trip_through_envelope_bytes(type_name):
    event = SAMPLES[type_name]()
    envelope = wrap(event, causation_id="cause-1", subject_version=3, occurred_at=NOON_UTC)

    received = Envelope.from_bytes(envelope.to_bytes())

    assert received == envelope
    assert received.type == type_name
    assert received.event() == event
    assert type(received.event()) is type(event)


def test_bytes_are_compact_utf8_json_with_japanese_unescaped():
    raw = wrap(SAMPLES["order.completed.v1"]()).to_bytes()

    text = raw.decode("utf-8")
    assert "山田 太郎" in text
    assert "\\u" not in text
    assert ", " not in text and '": ' not in text


def test_the_kafka_key_is_not_in_the_body_but_comes_from_the_event():
    event = payment_authorized()
    body = json.loads(wrap(event).to_bytes())

    assert "key" not in body
    assert set(body) == {
        "event_id", "type", "occurred_at", "producer", "correlation_id", "causation_id", "subject_version",
        "data",
    }  # fmt: skip
    assert event.kafka_key() == "ord-0001"


def test_card_link_events_are_keyed_by_shop_and_member():
    assert SAMPLES["card.linked.v1"]().kafka_key() == "demo-shop:m-1001"


def test_wrap_fills_a_fresh_event_id_and_the_current_utc_time_when_not_given():
    first = Envelope.wrap(payment_authorized(), producer="payment", correlation_id="c")
    second = Envelope.wrap(payment_authorized(), producer="payment", correlation_id="c")

    assert first.event_id != second.event_id
    assert first.occurred_at.tzinfo is not None
    assert first.occurred_at.utcoffset() == timedelta(0)
    assert first.subject_version == 0
    assert first.causation_id is None


def test_naive_occurred_at_is_rejected():
    with pytest.raises(ValidationError):
        wrap(occurred_at=datetime(2025, 1, 1, 12, 0))


def test_naive_occurred_at_in_received_bytes_is_rejected():
    body = json.loads(wrap().to_bytes())
    body["occurred_at"] = "2025-01-01T12:00:00"

    with pytest.raises(ValidationError):
        Envelope.from_bytes(json.dumps(body).encode())


def test_an_aware_non_utc_time_is_stored_as_utc():
    jst = timezone(timedelta(hours=9))
    envelope = wrap(occurred_at=datetime(2025, 1, 1, 21, 0, tzinfo=jst))

    assert envelope.occurred_at == NOON_UTC
    assert envelope.occurred_at.utcoffset() == timedelta(0)
    assert '"occurred_at":"2025-01-01T12:00:00Z"' in envelope.to_bytes().decode()


def test_negative_subject_version_is_rejected():
    with pytest.raises(ValidationError):
        wrap(subject_version=-1)


def test_unversioned_type_name_is_rejected():
    body = json.loads(wrap().to_bytes())
    body["type"] = "payment.authorized"

    with pytest.raises(ValidationError):
        Envelope.from_bytes(json.dumps(body).encode())


def test_headers_repeat_the_type_in_aiokafka_and_dict_form():
    envelope = wrap()

    assert envelope.headers() == [("type", b"payment.authorized.v1")]
    assert envelope.header_dict() == {"type": "payment.authorized.v1"}
    assert type_from_headers(envelope.headers()) == "payment.authorized.v1"
    assert type_from_headers(envelope.header_dict()) == "payment.authorized.v1"
    assert type_from_headers([("other", b"x")]) is None
    assert type_from_headers(None) is None


def test_an_unknown_type_raises_unknown_event_type_naming_it():
    body = json.loads(wrap().to_bytes())
    body["type"] = "payment.refunded.v9"

    with pytest.raises(UnknownEventType, match=r"payment\.refunded\.v9"):
        Envelope.from_bytes(json.dumps(body).encode()).event()


def test_data_that_does_not_fit_the_model_raises_a_validation_error():
    body = json.loads(wrap().to_bytes())
    del body["data"]["transaction_id"]

    with pytest.raises(ValidationError):
        Envelope.from_bytes(json.dumps(body).encode()).event()


def test_malformed_bytes_raise_a_validation_error():
    with pytest.raises(ValidationError):
        Envelope.from_bytes(b"{not json")


def test_event_as_returns_the_expected_type_and_refuses_another():
    envelope = wrap()

    assert isinstance(envelope.event_as(PaymentAuthorized), PaymentAuthorized)
    with pytest.raises(EventTypeMismatch):
        envelope.event_as(OrderPlaced)


def test_unknown_fields_from_a_newer_producer_are_ignored():
    body = json.loads(wrap().to_bytes())
    body["trace_id"] = "abc"
    body["data"]["new_optional_field"] = {"anything": 1}

    received = Envelope.from_bytes(json.dumps(body).encode())

    assert received.event() == payment_authorized()


def test_envelopes_and_events_are_immutable():
    envelope = wrap()

    with pytest.raises(ValidationError):
        envelope.producer = "someone else"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        envelope.event().amount = 1  # type: ignore[attr-defined]
