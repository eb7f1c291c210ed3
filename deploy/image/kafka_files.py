"""Render the Kafka image's configuration from the same module `make run` uses (`deploy.local.kafka_config`).

    python -m deploy.image.kafka_files OUT_DIR

Writes `server.properties` (one combined KRaft node: broker on 9092, controller on 9093 on loopback, data in
/var/lib/kafka/data), `log4j2.properties`, and the JVM options of the broker and of the storage tool, one per
line. Listeners are overridden at start (`kafka-start.sh`) so the broker advertises the address clients reach.
Run at image build time (deploy/Containerfile, stage `kafka-config`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from deploy.local.kafka_config import JVM_BROKER, JVM_TOOL, LOG4J2_PROPERTIES, SERVER_PROPERTIES

BROKER_PORT = 9092
CONTROLLER_PORT = 9093
DATA_DIR = "/var/lib/kafka/data"


def render(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "server.properties": SERVER_PROPERTIES.format(port=BROKER_PORT, cport=CONTROLLER_PORT, data=DATA_DIR),
        "log4j2.properties": LOG4J2_PROPERTIES.format(level="WARN"),
        "jvm-broker.options": "\n".join(JVM_BROKER) + "\n",
        "jvm-tool.options": "\n".join(JVM_TOOL) + "\n",
    }
    for name, text in files.items():
        (out / name).write_text(text)
    return [out / name for name in files]


if __name__ == "__main__":
    for path in render(Path(sys.argv[1])):
        print(path)
