#!/bin/sh
# The Kafka image's entrypoint (deploy/Containerfile, target `kafka`): one combined KRaft node.
#   kafka-start.sh          format the data directory on first start, then run the broker in the foreground
#   kafka-start.sh health   exit 0 once the broker accepts connections on 9092 (the image's HEALTHCHECK)
# KAFKA_ADVERTISED_LISTENERS: what clients are told to connect to (default PLAINTEXT://kafka:9092, the compose
# service name). KAFKA_CLUSTER_ID: fixed id for the data directory (default: a random one at first start).
set -eu
etc=/opt/kafka/etc
data=/var/lib/kafka/data
if [ "${1:-}" = health ]; then
    exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/9092' 2>/dev/null
fi
advertised="${KAFKA_ADVERTISED_LISTENERS:-PLAINTEXT://kafka:9092}"
java_args() { # JVM options of $1 (broker|tool) from $etc/jvm-$1.options, then logging and the class path
    printf '%s ' $(cat "$etc/jvm-$1.options")
}
log="-Dlog4j2.configurationFile=$etc/log4j2.properties -Dkafka.logs.dir=/var/lib/kafka/logs"
mkdir -p /var/lib/kafka/logs
if [ ! -f "$data/meta.properties" ]; then
    # shellcheck disable=SC2046,SC2086 # one option per word
    cluster_id="${KAFKA_CLUSTER_ID:-$(java $(java_args tool) $log -cp '/opt/kafka/libs/*' kafka.tools.StorageTool random-uuid)}"
    # shellcheck disable=SC2046,SC2086
    java $(java_args tool) $log -cp '/opt/kafka/libs/*' kafka.tools.StorageTool format \
        --cluster-id "$cluster_id" --config "$etc/server.properties" >/dev/null
fi
# The broker replaces this shell (PID 1 gets SIGTERM and runs Kafka's controlled shutdown).
# shellcheck disable=SC2046,SC2086
exec java $(java_args broker) $log -cp '/opt/kafka/libs/*' kafka.Kafka "$etc/server.properties" \
    --override "listeners=PLAINTEXT://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093" \
    --override "advertised.listeners=$advertised"
