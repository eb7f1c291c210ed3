"""Dead-letter records: the original bytes, key and headers, plus why and where they failed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiokafka.structs import ConsumerRecord

from contracts.redaction import redact_text

# publish(topic, key, value, headers) returns once the broker acknowledged the record.
PublishRaw = Callable[[str, bytes | None, bytes, dict[str, str]], Awaitable[None]]


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


def dead_letter_headers(record: ConsumerRecord, *, group_id: str, reason: str, attempts: int) -> dict[str, str]:
    headers = {name: value.decode("utf-8", "replace") for name, value in (record.headers or ())}
    headers.update({
        "dlq-reason": redact_text(reason)[:2000],
        "dlq-original-topic": record.topic,
        "dlq-original-partition": str(record.partition),
        "dlq-original-offset": str(record.offset),
        "dlq-consumer-group": group_id,
        "dlq-attempts": str(attempts),
        "dlq-failed-at": datetime.now(UTC).isoformat(),
    })
    return headers


def broker_raw_publisher(broker) -> PublishRaw:
    """A `PublishRaw` over a FastStream KafkaBroker (idempotent producer, acks=all)."""

    async def publish(topic: str, key: bytes | None, value: bytes, headers: dict[str, str]) -> None:
        await broker.publish(value, topic, key=key, headers=headers)

    return publish
