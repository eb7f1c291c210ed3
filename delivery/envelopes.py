"""Decoding a Kafka record into our envelope and its typed event, or an `InvalidMessage` with the reason."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from contracts.envelope import Envelope, type_from_headers
from contracts.events import Event
from contracts.registry import UnknownEventType, events_on
from delivery.errors import InvalidMessage, describe_validation_error


@dataclass(frozen=True)
class Inbound:
    envelope: Envelope
    event: Event


def decode_envelope(record: ConsumerRecord) -> Inbound:
    """Both the envelope and its `data` must validate; otherwise the record is dead-lettered with the reason."""
    try:
        envelope = Envelope.from_bytes(record.value or b"")
        return Inbound(envelope, envelope.event())
    except ValidationError as exc:
        raise InvalidMessage(f"schema violation: {describe_validation_error(exc)}") from None
    except UnknownEventType as exc:
        raise InvalidMessage(f"unknown event type: {exc}") from None


@dataclass(frozen=True)
class Skipped:
    """A record its consumer does not handle, recognised by its `type` header alone: nothing was parsed."""

    type: str


def decode_handled(handled: Mapping[str, Iterable[type[Event]]]) -> Callable[[ConsumerRecord], Inbound | Skipped]:
    """`decode_envelope` for a consumer that reads only some of the event types on a busy topic.

    `handled` maps a topic to the types the consumer handles there. A record on that topic whose `type` header
    names another type registered for the topic is `Skipped` before its body is read (the handler acknowledges
    it at no cost: no parsing, no validation, no transaction). Every other record (other topics, no header, a
    type unknown to the registry or foreign to the topic) is decoded as `decode_envelope` does, so bad records
    are still dead-lettered with their reason. Topics match by suffix, as consumers see them with the prefix.
    """
    skip = {topic: frozenset(m.TYPE for m in events_on(topic)) - {m.TYPE for m in models}
            for topic, models in handled.items()}

    def decode(record: ConsumerRecord) -> Inbound | Skipped:
        event_type = type_from_headers(record.headers)
        if event_type is not None and any(record.topic.endswith(topic) and event_type in types
                                          for topic, types in skip.items()):
            return Skipped(event_type)
        return decode_envelope(record)

    return decode
