"""The base class every event contract shares.

An event is a frozen pydantic model with two class-level facts: its versioned type name (`TYPE`, the
`type` of the envelope and the Kafka `type` header) and the topic it travels on (`TOPIC`). `KEY_FIELD`
names the field whose value is the Kafka message key (the aggregate id, design §4), so per-entity ordering
is decided here once instead of in every producer.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    """Base of all event payloads (the envelope's `data`).

    `extra="ignore"` lets producers add optional fields without breaking consumers on older contracts;
    `hide_input_in_errors` keeps validation errors (which end up in logs and dead letters) free of the
    input values, which may contain a card token or personal data (design I5).
    """

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    TYPE: ClassVar[str]
    TOPIC: ClassVar[str]
    KEY_FIELD: ClassVar[str]

    def kafka_key(self) -> str:
        """The Kafka message key for this event: the aggregate id named by `KEY_FIELD`."""
        return str(getattr(self, self.KEY_FIELD))


class ValueModel(BaseModel):
    """Base of nested value objects inside events (lines, buyer, settings blocks): same config as events."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)
