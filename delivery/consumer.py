"""Key-ordered concurrent consumer with at-least-once delivery, retries and a dead-letter topic.

Design §6.3/§6.4: different keys run concurrently (up to `concurrency` handlers), records of one key run in
offset order, one at a time; a partition's offset is committed only below its lowest unfinished record, and
only after the handler returned (its database transaction committed). A record that fails validation, or
keeps failing, goes to `<topic>.dlq` with the reason and its original bytes, so it never blocks a partition.
With `batching` (`delivery.batching`), the records that are ready (one per key) are applied in one database
transaction; a batch that fails is handled again record by record, so the rules above hold per record.
Neither FastStream 0.7 nor aiokafka 0.14 offers key-level ordering with concurrency, hence this runner on aiokafka.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Any, Generic, TypeVar

from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import UnknownMemberIdError
from aiokafka.structs import ConsumerRecord, TopicPartition

from delivery.batching import Batcher, Batching
from delivery.cancellation import cancel_all, cancel_and_wait
from delivery.dead_letter import PublishRaw, dead_letter_headers, dlq_topic
from delivery.errors import InvalidMessage, PermanentError
from delivery.kafka import make_consumer
from delivery.metrics import ServiceMetrics
from delivery.offsets import PartitionOffsets
from delivery.settings import ConsumerSettings, KafkaSettings

log = logging.getLogger(__name__)
T = TypeVar("T")
REBALANCE_MARGIN_S = 10.0
"""How much longer the broker waits for this member to rejoin a rebalance than it may spend giving partitions back."""


def rebalance_timeout_ms(settings: ConsumerSettings) -> int:
    """The broker's wait for this member in a rebalance: above the listener's bound (`shutdown_timeout_s` for the
    handlers on revoked partitions, then their cancellation), so no other member is handed them while they run."""
    return int((settings.shutdown_timeout_s + REBALANCE_MARGIN_S) * 1000)
Decode = Callable[[ConsumerRecord], T]
Handle = Callable[[T, ConsumerRecord], Awaitable[None]]
FENCED_EXIT_CODE = 75
"""The process's exit status when its static group membership was taken over (the supervisor restarts it)."""


def exit_fenced(reason: str) -> None:
    """A static member that lost its membership stops at once, as a crash would: its partitions are another
    process's now (or will be once it rejoins), and nothing it still runs may touch them. Its transactions roll back;
    a gateway call already sent is settled as interrupted by the partition's owner."""
    log.critical("%s; exiting now (status %d) so the supervisor restarts this process", reason, FENCED_EXIT_CODE)
    logging.shutdown()
    os._exit(FENCED_EXIT_CODE)


class KeyOrderedConsumer(ConsumerRebalanceListener, Generic[T]):
    def __init__(self, kafka: KafkaSettings, *, group_id: str, topics: Iterable[str], decode: Decode[T],
                 handle: Handle[T], dead_letter: PublishRaw, settings: ConsumerSettings | None = None,
                 metrics: ServiceMetrics | None = None, batching: Batching[T] | None = None,
                 available: Callable[[], Awaitable[bool]] | None = None,
                 on_fenced: Callable[[str], None] = exit_fenced):
        """`available`: whether the service's database answers; a handler failing while it does not is retried
        without counting the attempt (a PostgreSQL restart outlasts the 5 attempts' backoff, 3 s).
        `on_fenced`: called once a static member (`kafka.group_instance_id`) learns it is no longer the group's
        member under its id, after every handler was cancelled; by default the process exits (`exit_fenced`)."""
        self.group_id = group_id
        self._static_id = kafka.group_instance_id
        self._on_fenced = on_fenced
        self._joined = False
        self.fenced: str | None = None
        self._metrics = metrics or ServiceMetrics(group_id)
        self._lag_labels: set[tuple[str, str, str]] = set()
        self._settings = settings or ConsumerSettings()
        self._available = available
        self._consumer = make_consumer(kafka, group_id=group_id, topics=topics, listener=self,
                                       rebalance_timeout_ms=rebalance_timeout_ms(self._settings))
        self._decode = decode
        self._handle = handle
        self._dead_letter = dead_letter
        self._offsets: dict[TopicPartition, PartitionOffsets] = {}
        self._lanes: dict[tuple[TopicPartition, bytes | None], deque[tuple[ConsumerRecord, PartitionOffsets]]] = {}
        self._lane_tasks: dict[tuple[TopicPartition, bytes | None], asyncio.Task[None]] = {}
        self._running: dict[TopicPartition, int] = {}
        self._changed = asyncio.Condition()
        self._run_slots = asyncio.Semaphore(self._settings.concurrency)
        self._buffer_slots = asyncio.Semaphore(self._settings.max_buffered)
        self._progress = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._fetcher: asyncio.Task[None] | None = None
        self._committer: asyncio.Task[None] | None = None
        self._batcher: Batcher[T] | None = None
        if batching is not None and self._settings.batch_max_records > 1:
            if batching.handle is None:
                raise ValueError("batching needs a batch handler (ServiceRuntime.add_consumer fills it in)")
            self._batcher = Batcher(batching.handle, accepts=batching.accepts, spawn=self._spawn,
                                    max_records=self._settings.batch_max_records,
                                    max_in_flight=self._settings.batch_in_flight, group_id=group_id,
                                    on_batch=self._count_batch)

    # -- lifecycle ---------------------------------------------------------------------------------------
    async def start(self) -> None:
        await self._consumer.start()
        self._fetcher = asyncio.create_task(self._fetch_loop(), name=f"fetch-{self.group_id}")
        self._committer = asyncio.create_task(self._commit_loop(), name=f"commit-{self.group_id}")

    @property
    def healthy(self) -> bool:
        return self._fetcher is not None and not self._fetcher.done() and self.fenced is None

    # -- static membership (KIP-345) ---------------------------------------------------------------------
    def _fence(self, reason: str) -> None:
        """Stop consuming at once: no record starts or continues here, no offset is committed. aiokafka 0.14 would
        rejoin under the same instance id and take the membership back from the process that now holds it (its
        Heartbeat and OffsetCommit carry no instance id, so the broker answers UNKNOWN_MEMBER_ID, not
        FENCED_INSTANCE_ID, and aiokafka rejoins), so two processes would own the partitions by turns."""
        if self.fenced is not None:
            return
        self.fenced = reason = f"consumer {self.group_id}: static member {self._static_id!r} {reason}"
        self._offsets.clear()
        for task in [self._fetcher, self._committer, *self._tasks]:
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        self._on_fenced(reason)

    def _membership_lost(self) -> bool:
        """The broker no longer knows our member id: aiokafka reset it after an UNKNOWN_MEMBER_ID (another process
        joined under our instance id, or our session expired) and is about to join again."""
        coordinator = getattr(self._consumer, "_coordinator", None)  # aiokafka 0.14 has no public accessor
        return coordinator is not None and not coordinator.member_id

    @staticmethod
    def _is_fenced_error(exc: BaseException) -> bool:
        """UNKNOWN_MEMBER_ID on a commit, or aiokafka's coordinator stopped by an error it does not handle:
        FENCED_INSTANCE_ID (82) on JoinGroup/SyncGroup, which aiokafka 0.14 knows only as UnknownError."""
        text = str(exc)
        return (isinstance(exc, UnknownMemberIdError) or "UnknownMemberId" in text or "FencedInstanceId" in text
                or "error during coordination" in text or "UnknownError" in text)

    async def stop(self) -> None:
        """Graceful: stop fetching, let started work finish (bounded), commit, leave the group."""
        await cancel_and_wait(self._fetcher)
        try:
            async with asyncio.timeout(self._settings.shutdown_timeout_s):
                await self._drained()
        except TimeoutError:
            log.warning("consumer %s: work still running at shutdown; it will be redelivered", self.group_id)
        await self._shutdown(commit=True)

    async def abort(self) -> None:
        """As a crash would: drop in-flight work, commit nothing more, leave. Used by tests and kill paths."""
        await cancel_and_wait(self._fetcher)
        await self._shutdown(commit=False)

    async def _shutdown(self, *, commit: bool) -> None:
        await cancel_and_wait(self._committer)
        # bounded: a handler that swallows cancellation must not hang the shutdown
        await cancel_all(list(self._tasks), timeout=self._settings.shutdown_timeout_s)
        if commit:
            await self._commit(self._offsets)
        self._offsets.clear()
        try:
            async with asyncio.timeout(self._settings.shutdown_timeout_s):
                await self._consumer.stop()
        except TimeoutError:
            log.warning("consumer %s: did not leave the group in time; the broker will expire it", self.group_id)

    async def _drained(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._lanes)

    # -- fetching and dispatch ----------------------------------------------------------------------------
    async def _fetch_loop(self) -> None:
        backoff = 0.5
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=500, max_records=self._settings.max_buffered)
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._static_id is not None and self._is_fenced_error(exc):
                    self._fence(f"lost its group membership ({type(exc).__name__}: {exc})")
                    return
                log.exception("consumer %s: fetch failed; retrying in %.1fs", self.group_id, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            for tp, records in batches.items():
                for record in records:
                    await self._buffer_slots.acquire()
                    self._dispatch(tp, record)

    def _dispatch(self, tp: TopicPartition, record: ConsumerRecord) -> None:
        offsets = self._offsets.get(tp)
        if offsets is None or tp not in self._consumer.assignment():
            self._buffer_slots.release()  # revoked meanwhile: the new owner reads it from the committed offset
            return
        offsets.fetched(record.offset)
        lane_key = (tp, record.key)
        lane = self._lanes.get(lane_key)
        if lane is None:
            lane = self._lanes[lane_key] = deque()
            self._lane_tasks[lane_key] = self._spawn(self._run_lane(lane_key, lane))
        lane.append((record, offsets))

    def _spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _count_batch(self, size: int, committed: bool) -> None:
        self._metrics.batches.labels(self.group_id, "committed" if committed else "failed").inc()
        self._metrics.batch_records.labels(self.group_id).observe(size)

    async def _run_lane(self, lane_key: tuple[TopicPartition, bytes | None],
                        lane: deque[tuple[ConsumerRecord, PartitionOffsets]]) -> None:
        tp = lane_key[0]
        try:
            while lane:
                record, offsets = lane[0]
                if self._offsets.get(tp) is offsets:  # still ours: not revoked since it was fetched
                    outcome = await self._process_counted(tp, record, still_ours=partial(self._owns, tp, offsets))
                    if outcome != "revoked":  # an abandoned record must stay below the commit point
                        offsets.finished(record.offset)
                        self._progress.set()
                lane.popleft()
                self._buffer_slots.release()
        finally:
            self._lanes.pop(lane_key, None)
            self._lane_tasks.pop(lane_key, None)
            async with self._changed:
                self._changed.notify_all()

    def _owns(self, tp: TopicPartition, offsets: PartitionOffsets) -> bool:
        """The partition is still ours as it was when `offsets` were taken (not revoked, nor revoked and back)."""
        return self._offsets.get(tp) is offsets

    async def _process_counted(self, tp: TopicPartition, record: ConsumerRecord, *,
                               still_ours: Callable[[], bool]) -> str:
        self._running[tp] = self._running.get(tp, 0) + 1
        try:
            outcome, seconds = await self._process(record, still_ours=still_ours)
            self._metrics.records.labels(self.group_id, record.topic, outcome).inc()
            self._metrics.handle_seconds.labels(self.group_id, record.topic).observe(seconds)
            return outcome
        finally:
            self._running[tp] -= 1
            async with self._changed:
                self._changed.notify_all()

    # -- one record: decode, handle with retries, or dead-letter ----------------------------------------
    async def _process(self, record: ConsumerRecord, *, still_ours: Callable[[], bool] = lambda: True,
                       ) -> tuple[str, float]:
        """Handle one record (retrying) or dead-letter it; returns which (`handled` or `dead_lettered`) and the
        seconds spent decoding, in the handler and dead-lettering: not the waits for a concurrency slot nor the
        backoff between attempts (`kafka_record_handle_seconds` is what a record costs, not how busy we are)."""
        started = time.monotonic()
        try:
            message = self._decode(record)
        except Exception as exc:
            reason = str(exc) if isinstance(exc, InvalidMessage) else f"undecodable: {type(exc).__name__}: {exc}"
            return await self._to_dlq(record, f"invalid message: {reason}", attempts=0), time.monotonic() - started
        spent = time.monotonic() - started
        if self._batcher is not None and self._batcher.accepts(message, record):
            share = await self._batcher.submit(message, record)
            if share is not None:
                return "handled", spent + share
            # the batch was rolled back as a whole: this record alone, with retries and the DLQ as below
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._run_slots:
                    started = time.monotonic()
                    try:
                        await self._handle(message, record)
                    finally:
                        spent += time.monotonic() - started
                return "handled", spent
            except PermanentError as exc:
                return await self._timed_dlq(record, f"permanent error: {exc}", attempts=attempt, spent=spent)
            except Exception as exc:
                if self._available is not None and not await self._available():
                    # the service's own database is unreachable (a restart, a failover): not this record's fault,
                    # so the attempt does not count; the key waits, as it does for an unreachable DLQ
                    attempt -= 1
                    self._metrics.retries.labels(self.group_id, record.topic).inc()
                    log.warning("consumer %s: %s[%d]@%d failed while the database is unreachable (%s); waiting "
                                "%.2fs, attempt not counted", self.group_id, record.topic, record.partition,
                                record.offset, type(exc).__name__, self._settings.backoff_max_s)
                    await asyncio.sleep(self._settings.backoff_max_s)
                    if not still_ours():
                        return "revoked", spent
                    continue
                if attempt >= self._settings.max_attempts:
                    return await self._timed_dlq(record, f"failed {attempt} times, last: {type(exc).__name__}: "
                                                         f"{exc}", attempts=attempt, spent=spent)
                self._metrics.retries.labels(self.group_id, record.topic).inc()
                delay = min(self._settings.backoff_initial_s * 2 ** (attempt - 1), self._settings.backoff_max_s)
                log.warning("consumer %s: %s[%d]@%d attempt %d failed (%s); retry in %.2fs", self.group_id,
                            record.topic, record.partition, record.offset, attempt, type(exc).__name__, delay)
                await asyncio.sleep(delay)
                if not still_ours():  # revoked during the backoff: its new owner reads it from the commit point
                    return "revoked", spent

    async def _timed_dlq(self, record: ConsumerRecord, reason: str, *, attempts: int,
                         spent: float) -> tuple[str, float]:
        started = time.monotonic()
        outcome = await self._to_dlq(record, reason, attempts=attempts)
        return outcome, spent + time.monotonic() - started

    async def _to_dlq(self, record: ConsumerRecord, reason: str, *, attempts: int) -> str:
        """Never gives up: losing the record is worse than holding its key back while the DLQ is unreachable."""
        headers = dead_letter_headers(record, group_id=self.group_id, reason=reason, attempts=attempts)
        delay = 0.5
        while True:
            try:
                await self._dead_letter(dlq_topic(record.topic), record.key, record.value or b"", headers)
                log.error("consumer %s: %s[%d]@%d dead-lettered: %s", self.group_id, record.topic,
                          record.partition, record.offset, headers["dlq-reason"])
                return "dead_lettered"
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("consumer %s: dead-letter publish failed; retrying", self.group_id)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    def report_progress(self) -> None:
        """Set the lag (end of partition - commit point) and in-flight gauges for a scrape."""
        labels = set()
        assigned = self._consumer.assignment()
        for tp, offsets in list(self._offsets.items()):
            if tp not in assigned:
                continue  # being revoked right now
            end = self._consumer.highwater(tp)
            if end is None:
                continue  # nothing fetched from it yet
            point = offsets.committable()
            label = (self.group_id, tp.topic, str(tp.partition))
            self._metrics.lag.labels(*label).set(max(0, end - point) if point is not None else 0)
            labels.add(label)
        for gone in self._lag_labels - labels:  # revoked partitions leave the report
            self._metrics.lag.remove(*gone)
        self._lag_labels = labels
        self._metrics.in_flight.labels(self.group_id).set(sum(o.unfinished for o in list(self._offsets.values())))

    # -- offsets --------------------------------------------------------------------------------------------
    async def _commit_loop(self) -> None:
        while True:
            await self._progress.wait()
            self._progress.clear()
            await self._commit(self._offsets)
            await asyncio.sleep(self._settings.commit_interval_s)

    async def _commit(self, partitions: dict[TopicPartition, PartitionOffsets]) -> None:
        targets = {tp: o.needs_commit() for tp, o in list(partitions.items())}
        offsets = {tp: target for tp, target in targets.items() if target is not None}
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
        except Exception as exc:  # a rebalance in progress: the records are redelivered, the inbox absorbs it
            if self._static_id is not None and self._is_fenced_error(exc):
                self._fence(f"was refused a commit ({type(exc).__name__}: {exc})")
                return
            log.warning("consumer %s: commit failed (%s)", self.group_id, type(exc).__name__)
            self._progress.set()  # try again after the interval: a partition with no new record would stay behind
            return
        for tp, target in offsets.items():
            partitions[tp].committed = target

    # -- rebalance listener (aiokafka awaits these inside its coordinator) --------------------------------
    async def on_partitions_revoked(self, revoked: Any) -> None:
        if self._static_id is not None and self._joined and self._membership_lost():
            self._fence("is no longer known to the group (UNKNOWN_MEMBER_ID: another process joined under this id, "
                        "or the session expired)")
            await asyncio.Event().wait()  # never let aiokafka join again under this id (the process is exiting)
        # Forget them first so no new record of theirs starts (see _run_lane), then wait for the running ones.
        leaving = {tp: self._offsets.pop(tp) for tp in revoked if tp in self._offsets}
        try:
            async with asyncio.timeout(self._settings.shutdown_timeout_s), self._changed:
                await self._changed.wait_for(lambda: all(self._running.get(tp, 0) == 0 for tp in leaving))
        except TimeoutError:
            # Cut them off as a crash would (their transactions roll back; a call already sent is settled as
            # interrupted by the next owner): past this point another member may own the partitions, and two
            # owners running one order at once can charge it twice.
            stuck = [task for key, task in list(self._lane_tasks.items()) if key[0] in leaving]
            log.warning("consumer %s: %d handlers still running on revoked partitions after %.0fs; cancelled",
                        self.group_id, len(stuck), self._settings.shutdown_timeout_s)
            await cancel_all(stuck, timeout=REBALANCE_MARGIN_S / 2)
        await self._commit(leaving)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self._joined = True
        for tp in assigned:
            self._offsets.setdefault(tp, PartitionOffsets())
        log.info("consumer %s: %d partitions assigned", self.group_id, len(assigned))

