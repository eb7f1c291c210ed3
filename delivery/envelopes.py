"""Decoding a Kafka record into our envelope and its typed event, or an `InvalidMessage` with the reason."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from contracts.envelope import Envelope
from contracts.events import Event
from contracts.registry import UnknownEventType
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
