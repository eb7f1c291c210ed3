"""The broker's configuration files: one combined KRaft node on loopback, sized for a 2-core machine.

Kept apart from the launcher so the properties can be read (and diffed) on their own.
"""

from __future__ import annotations

SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{cport}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={data}
num.partitions=1
# Topics are provisioned explicitly (deploy/local/topics.py); a typo must fail, not create a topic.
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
log.cleaner.dedupe.buffer.size=8388608
# The controller appends a no-op record to the metadata log this often (default 500 ms) so that brokers notice a
# dead controller; on one combined node that only costs CPU: an idle broker used ~30 core-ms/s, ~15 with 5000.
metadata.max.idle.interval.ms=5000
# A segment's offset and time indexes are sparse files of this size, memory-mapped; the first write to one faults
# and the kernel reads ahead read_ahead_kb (8 MB on this VM's disk), zeroing the holes: 2.0 ms CPU per index with
# the default 10 MB, 0.23 ms with 1 MB, and every new topic partition has two. Perf of a checkout bench round (fresh
# topics): 13% of the broker's CPU was these faults. 1 MB of offset index still holds a 512 MB segment.
log.index.size.max.bytes=1048576
"""

LOG4J2_PROPERTIES = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = {level}
rootLogger.appenderRef.stdout.ref = STDOUT
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
"""

JVM_BROKER = [
    "-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:ParallelGCThreads=2", "-XX:ConcGCThreads=1", "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
]
JVM_LOCAL_JIT = ["-XX:TieredStopAtLevel=1"]
"""The local broker (`make run`, the tests' and benchmarks' brokers) compiles with C1 only. Such a broker lives
minutes to hours on a 2-core machine, and C2 compiling its paths was the biggest item in its CPU: 37 of the shared
test broker's first 108 core-s. Two fresh brokers fed the same runs in turn (3 checkout benchmarks, then 4 relay
floor runs): compiler threads 25 vs 2.6 core-s after the benchmarks, 43 vs 2.8 after the relays; startup 10.1 vs
5.4 core-s; the broker per benchmark order 22.0 / 20.8 / 10.5 vs 10.2 / 9.8 core-ms, per relayed record 1.03 vs
0.65 / 0.75. The image's long-lived broker (`deploy.image.kafka_files`) keeps the default JIT."""
JVM_TOOL = ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"]
