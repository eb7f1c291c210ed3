"""`decode_handled`: a consumer reading a few types of a busy topic skips the others by their `type` header before
parsing anything, and still decodes (or refuses) everything else exactly as `decode_envelope` does."""

from __future__ import annotations

import pytest
from aiokafka.structs import ConsumerRecord

from contracts.envelope import Envelope
from contracts.events import CardReplaced, Event
from contracts.topics import ORDERS_EVENTS, PAYMENTS_EVENTS
from delivery.envelopes import Inbound, Skipped, decode_handled
from delivery.errors import InvalidMessage
from tests.unit.contracts import samples

decode = decode_handled({PAYMENTS_EVENTS: (CardReplaced,)})


def record(event: Event, *, topic: str | None = None, value: bytes | None = None,
           headers: list[tuple[str, bytes]] | None = None) -> ConsumerRecord:
    envelope = Envelope.wrap(event, producer="test", correlation_id="c-1")
    raw = envelope.to_bytes() if value is None else value
    return ConsumerRecord(topic=topic or f"t1.{event.TOPIC}", partition=0, offset=0, timestamp=0, timestamp_type=0,
                          key=b"k", value=raw, checksum=None, serialized_key_size=1, serialized_value_size=len(raw),
                          headers=envelope.headers() if headers is None else headers)


def test_a_handled_type_is_decoded_into_its_event():
    decoded = decode(record(samples.card_replaced()))
    assert isinstance(decoded, Inbound) and isinstance(decoded.event, CardReplaced)


def test_another_type_of_the_topic_is_skipped_by_its_header_without_reading_the_body():
    skipped = decode(record(samples.payment_authorized(), value=b"not even json"))
    assert skipped == Skipped("payment.authorized.v1")


def test_without_the_header_the_record_is_decoded_as_usual():
    decoded = decode(record(samples.payment_authorized(), headers=[]))
    assert isinstance(decoded, Inbound) and decoded.envelope.type == "payment.authorized.v1"


def test_records_of_other_topics_are_decoded_and_bad_ones_still_refused():
    assert isinstance(decode(record(samples.order_placed())), Inbound)
    with pytest.raises(InvalidMessage):
        decode(record(samples.order_placed(), topic=f"t1.{ORDERS_EVENTS}", value=b"{}"))
