"""The envelope every Kafka message body is (design §4), and its byte and header encodings.

Body: compact UTF-8 JSON of `Envelope`; `data` is the event model serialised in JSON mode. The Kafka key is
not in the body: it is the aggregate id (`event.kafka_key()`). The `type` header repeats `type`, so a consumer
can route or skip a message without parsing it.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.events.base import Event
from contracts.redaction import redact
from contracts.registry import UnknownEventType, model_for
from contracts.types import NonEmptyStr, UtcDatetime

TYPE_HEADER = "type"
"""Kafka header that repeats the envelope's `type`."""

TypeName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\.v[1-9][0-9]*$")]
"""A versioned event type name, e.g. `payment.authorized.v1`."""

E = TypeVar("E", bound=Event)

__all__ = ["TYPE_HEADER", "Envelope", "EventTypeMismatch", "UnknownEventType", "type_from_headers"]


class EventTypeMismatch(TypeError):
    """`Envelope.event_as(Model)` was asked for a model whose TYPE is not the envelope's type."""


class Envelope(BaseModel):
    """Metadata + event data: the JSON body of every message on every topic.

    `correlation_id` is the checkout or subscription cycle that started the chain, `causation_id` the
    `event_id` that directly caused this event, `subject_version` a per-key counter (0, 1, 2 ...) that lets
    consumers detect reordering or gaps. The repr masks secrets in `data` (the card token).
    """

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    event_id: UUID
    type: TypeName
    occurred_at: UtcDatetime
    producer: NonEmptyStr
    correlation_id: NonEmptyStr
    causation_id: str | None = None
    subject_version: int = Field(ge=0)
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        producer: str,
        correlation_id: str,
        causation_id: str | None = None,
        subject_version: int = 0,
        event_id: UUID | None = None,
        occurred_at: datetime | None = None,
    ) -> Envelope:
        """Put an event into a new envelope; id and time default to a fresh uuid4 and now (UTC)."""
        return cls(
            event_id=event_id or uuid4(),
            type=event.TYPE,
            occurred_at=occurred_at or datetime.now(UTC),
            producer=producer,
            correlation_id=correlation_id,
            causation_id=causation_id,
            subject_version=subject_version,
            data=event.model_dump(mode="json"),
        )

    def to_bytes(self) -> bytes:
        """Compact UTF-8 JSON (the Kafka message value). Contains the token in clear: never log it."""
        return self.model_dump_json().encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes | str) -> Envelope:
        """Parse a message value; raises pydantic `ValidationError` (without input values) if malformed."""
        return cls.model_validate_json(raw)

    def event(self) -> Event:
        """The typed event: `data` validated by the model registered for `type`.

        Raises `UnknownEventType` for a type no contract defines, `ValidationError` for bad data.
        """
        return model_for(self.type).model_validate(self.data)

    def event_as(self, model: builtins.type[E]) -> E:
        """Like `event()` for a consumer that expects one type; `EventTypeMismatch` if it is another."""
        if self.type != model.TYPE:
            raise EventTypeMismatch(f"envelope holds {self.type!r}, not {model.TYPE!r}")
        return model.model_validate(self.data)

    def headers(self) -> list[tuple[str, bytes]]:
        """Kafka headers in aiokafka's format."""
        return [(TYPE_HEADER, self.type.encode("utf-8"))]

    def header_dict(self) -> dict[str, str]:
        """Kafka headers as a dict (FastStream's `headers=` argument)."""
        return {TYPE_HEADER: self.type}

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, redact(value) if name == "data" else value


def type_from_headers(headers: Iterable[tuple[str, bytes]] | Mapping[str, str | bytes] | None) -> str | None:
    """The event type named by Kafka headers (list or dict form), or None if absent."""
    if headers is None:
        return None
    items = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in items:
        if key == TYPE_HEADER:
            return value.decode("utf-8") if isinstance(value, bytes) else value
    return None
