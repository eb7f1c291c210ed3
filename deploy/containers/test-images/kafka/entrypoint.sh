#!/bin/sh
# Every KAFKA_* variable but the JVM ones is a broker property, as in the public apache/kafka image:
# KAFKA_LOG_DIRS -> log.dirs, `__` -> `_`, `___` -> `-`. CLUSTER_ID formats the storage (a random one if unset).
set -eu
props=/tmp/server.properties
env | grep '^KAFKA_' | grep -Ev '^KAFKA_(HEAP_OPTS|JVM_PERFORMANCE_OPTS|OPTS|LOG4J_OPTS)=' |
  while IFS='=' read -r name value; do
    key=$(printf '%s' "${name#KAFKA_}" | tr 'A-Z' 'a-z' | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g')
    printf '%s=%s\n' "$key" "$value"
  done >"$props"
tool_opts="-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
cluster_id=${CLUSTER_ID:-$(java $tool_opts -cp '/opt/kafka/libs/*' kafka.tools.StorageTool random-uuid)}
java $tool_opts -Dlog4j2.configurationFile=/opt/kafka/log4j2.properties -cp '/opt/kafka/libs/*' \
  kafka.tools.StorageTool format --ignore-formatted --cluster-id "$cluster_id" --config "$props" >/dev/null
# shellcheck disable=SC2086
exec java ${KAFKA_HEAP_OPTS:--Xmx512m} ${KAFKA_JVM_PERFORMANCE_OPTS:-} -Djava.awt.headless=true \
  -Dlog4j2.configurationFile=/opt/kafka/log4j2.properties -cp '/opt/kafka/libs/*' kafka.Kafka "$props"
