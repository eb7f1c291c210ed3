"""Create every topic the system uses (contracts/topics.py), with its partitions, and each one's DLQ.

    python -m deploy.local.topics          # against KAFKA_BOOTSTRAP_SERVERS (default 127.0.0.1:9092)
"""

from __future__ import annotations

import asyncio

from contracts.topics import topics_to_create
from delivery.kafka import ensure_topics
from delivery.settings import KafkaSettings


async def create_all(kafka: KafkaSettings) -> list[str]:
    return await ensure_topics(kafka, topics_to_create())


def main() -> None:
    kafka = KafkaSettings()
    created = asyncio.run(create_all(kafka))
    print(f"topics on {kafka.bootstrap_servers}: {len(topics_to_create())} present, created now: "
          f"{', '.join(created) or 'none'}")


if __name__ == "__main__":
    main()
