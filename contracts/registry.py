"""Lookup from a versioned type name to its event model, and from a model to its topic.

Consumers read the `type` header (or envelope field) and ask `model_for` which model validates `data`.
Building the table fails at import time if two models claim one type name, so such a mistake cannot ship.
"""

from __future__ import annotations

from contracts.events import ALL_EVENTS, Event


class UnknownEventType(LookupError):
    """No contract defines this type name (a newer producer, a typo, or a foreign message)."""

    def __init__(self, type_name: str) -> None:
        super().__init__(f"unknown event type {type_name!r}: no model in contracts.registry.EVENT_TYPES")
        self.type_name = type_name


def _build(models: tuple[type[Event], ...]) -> dict[str, type[Event]]:
    table: dict[str, type[Event]] = {}
    for model in models:
        if model.TYPE in table:
            raise ValueError(f"duplicate event type {model.TYPE!r}: {table[model.TYPE]} and {model}")
        table[model.TYPE] = model
    return table


EVENT_TYPES: dict[str, type[Event]] = _build(ALL_EVENTS)
"""Every event type name -> its model."""


def model_for(type_name: str) -> type[Event]:
    """The model for a type name; raises `UnknownEventType` if there is none."""
    try:
        return EVENT_TYPES[type_name]
    except KeyError:
        raise UnknownEventType(type_name) from None


def topic_for(model: type[Event] | Event) -> str:
    """The topic an event type (or instance) is published on."""
    return model.TOPIC


def events_on(topic: str) -> tuple[type[Event], ...]:
    """The event types published on a topic, in registry order (empty for unknown topics)."""
    return tuple(model for model in EVENT_TYPES.values() if topic == model.TOPIC)
