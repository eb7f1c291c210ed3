"""One chaos run: start the world, feed load while the schedule's faults fire, let it settle, judge it."""

from __future__ import annotations

import asyncio
import random
import resource
import time
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx

from deploy.invariants.reading import Sources, read_facts, total_lag
from deploy.invariants.rules import judge
from deploy.local.termination import raise_if_terminated
from tests.chaos import hostile
from tests.chaos.load import Load
from tests.chaos.report import Outcome
from tests.chaos.schedule import Event, Profile, gateway_faults, plan
from tests.chaos.world import World

BROKER_START_TIMEOUT_S = 600.0  # the JVM alone took over 90 s at a load average of 50 (a failed start stops it)


class Chaos:
    def __init__(self, world: World, profile: Profile) -> None:
        self.world, self.profile = world, profile
        self.outcome = Outcome(profile=profile)
        self.rng = random.Random(profile.seed)
        self.load = Load(checkout_url=world.url("checkout"), payment_url=world.url("payment"),
                         emulator_url=world.url("emulator"), subscription_url=world.url("subscription"),
                         rng=random.Random(profile.seed + 1))
        self.http = httpx.AsyncClient(timeout=10)
        self.background: list[asyncio.Task] = []

    async def run(self) -> Outcome:
        await self.http.put(f"{self.world.url('emulator')}/_emulator/faults", json=gateway_faults(self.profile))
        faults = asyncio.create_task(self.fire(plan(self.profile)))
        self.outcome.feeding_s = await self.load.feed(self.profile.orders, self.profile.rate)
        await faults
        await asyncio.gather(*self.background)
        await self.http.delete(f"{self.world.url('emulator')}/_emulator/faults")
        await self.http.post(f"{self.world.url('emulator')}/_emulator/release")
        await self.settle()
        await self.judge()
        load = self.load
        self.outcome.checkouts, self.outcome.accepted = load.scenarios, len(load.accepted)
        self.outcome.operator = load.operator
        self.outcome.notes.append(f"storefront: answers {dict(load.answers)}; {load.retries} retried calls; "
                                  f"operator {dict(load.operator)}")
        await self.http.aclose()
        await self.load.http.aclose()
        return self.outcome

    async def fire(self, events: list[Event]) -> None:
        started = time.monotonic()
        for event in events:
            await asyncio.sleep(max(started + event.at_s - time.monotonic(), 0))
            self.outcome.faults[f"{event.kind} {event.target}".strip()] += 1
            if event.kind == "kill":
                self.background.append(asyncio.create_task(self.kill(event.target)))
            elif event.kind == "rebalance_kill":
                first, second = event.target.split(">")
                await self.kill(first)  # its restart joins the group: a rebalance starts
                await asyncio.sleep(0.5)
                self.background.append(asyncio.create_task(self.kill(second)))
            elif event.kind == "broker_restart":
                began = time.monotonic()
                await asyncio.to_thread(self.world.kafka.restart, BROKER_START_TIMEOUT_S, hard=True)
                self.outcome.restarts.setdefault("broker", []).append(round(time.monotonic() - began, 1))
            elif event.kind == "postgres_restart":
                took = await asyncio.to_thread(self.world.postgres.restart)
                self.outcome.restarts.setdefault("postgres", []).append(round(took, 1))
            elif event.kind == "smtp_refusal":
                await self.refuse_one_more_mail()
            elif event.kind == "hostile":
                self.outcome.hostile.update(await hostile.publish_round(self.world.kafka_settings, self.rng))

    async def refuse_one_more_mail(self) -> None:
        """One more 451 on top of those still pending: the sink's fault count is replaced, not added to, so a
        refusal scheduled before the previous one was used would be lost (12 scheduled, 6 refused in a run)."""
        faults = f"{self.world.url('smtp-sink')}/faults"
        current = (await self.http.get(faults)).json()
        pending = (current.get("remaining") or 0) if current.get("mode") == "temporary" else 0
        await self.http.post(faults, json={"mode": "temporary", "count": pending + 1})

    async def kill(self, name: str) -> None:
        """kill -9 one program; measure until the supervisor's restart answers its health check."""
        victim = self.world.supervisor.kill(name)
        if victim is None:
            self.outcome.notes.append(f"{name} not running at its kill (restarting): skipped")
            return
        self.outcome.kills[name] += 1
        killed = time.monotonic()
        while time.monotonic() - killed < 180:
            pid = self.world.supervisor.pid(name)
            if pid not in (None, victim):
                try:
                    if (await self.http.get(self.world.health[name], timeout=2)).status_code == 200:
                        took = round(time.monotonic() - killed, 2)
                        self.outcome.healthy_by_program.setdefault(name, []).append(took)
                        return
                except httpx.HTTPError:
                    pass
            await asyncio.sleep(0.05)
        self.outcome.notes.append(f"{name} not healthy 180 s after its kill")

    async def settle(self) -> None:
        """Until every order is final and every mail sent (or the profile's settle time is up)."""
        started = time.monotonic()
        await asyncio.to_thread(self.world.wait_healthy, self.world.programs())
        while time.monotonic() - started < self.profile.settle_s:
            pending = await self._count(self.world.databases["checkout"],
                                        "SELECT count(*) FROM orders WHERE status = 'pending_payment'")
            unsent = await self._count(self.world.databases["notification"],
                                       "SELECT count(*) FROM mails WHERE status IN ('pending', 'sending')")
            if pending == 0 and unsent == 0 and await self._outboxes_empty() \
                    and await total_lag(self.world.kafka_settings) == 0 and await self._renewals_due() == 0:
                break  # every order final, every mail sent, every event published, every group caught up and
                # committed (a late rejoin is not a block), no renewal due: nothing more can move what the checker
                # reads (a subscription started last, due at once on the moved clock, was renewed while the
                # checker read: its mails reached the sink after the checker's list, 258 accepted, 254 read)
            await asyncio.sleep(0.5)
        self.outcome.settle_s = round(time.monotonic() - started, 1)

    async def _renewals_due(self) -> int:
        """Active subscriptions due on the subscription service's (dev) clock: renewals the scheduler has yet to
        generate (one started by an event does not wake it: it renews on its next poll)."""
        clock = (await self.http.get(f"{self.world.url('subscription')}/dev/clock")).json()
        return await self._count(self.world.databases["subscription"], "SELECT count(*) FROM subscriptions "
                                 "WHERE status = 'active' AND due_at <= $1", datetime.fromisoformat(clock["now"]))

    async def _outboxes_empty(self) -> bool:
        for url in self.world.databases.values():
            if await self._count(url, "SELECT count(*) FROM outbox"):
                return False
        return True

    @staticmethod
    async def _count(url: str, query: str, *args: object) -> int:
        connection = await asyncpg.connect(url)
        try:
            return int(await connection.fetchval(query, *args))
        finally:
            await connection.close()

    async def judge(self) -> None:
        self.world.supervisor.pause_liveness()  # the faults are over; reading thousands of mails is no hang
        sources = Sources(databases=self.world.databases, emulator_url=self.world.url("emulator"),
                          sink_url=self.world.url("smtp-sink"), kafka=self.world.kafka_settings,
                          logs=[self.world.log_path], known_secrets=self.load.secrets(),
                          accepted=self.load.accepted,
                          payment_metrics_urls=[f"{self.world.url(n)}/metrics" for n in self.world.programs()
                                                if n.startswith("payment")])
        self.outcome.verdicts = judge(await read_facts(sources))
        stats = (await self.http.get(f"{self.world.url('emulator')}/_emulator/stats")).json()
        self.outcome.gateway_faults = stats["faults_applied"]
        self.outcome.smtp = (await self.http.get(f"{self.world.url('smtp-sink')}/stats")).json()


def execute(profile: Profile, work: Path) -> Outcome:
    """Bring the world up, run, stop everything; the outcome with its wall time and the children's CPU."""
    started = time.monotonic()
    world = World.create(work)
    try:
        world.start()
        raise_if_terminated()  # a SIGTERM whose SystemExit was dropped on the way (deploy.local.termination)
        try:
            outcome = asyncio.run(Chaos(world, profile).run())
        except asyncio.CancelledError:
            raise_if_terminated()  # SIGTERM or SIGHUP cancelled the run: exit 128+signal after the world stops
            raise
        restarts = {n: p.restarts for n, p in world.supervisor.programs.items() if p.restarts}
        outcome.notes.append(f"supervisor restarts: {restarts}")
    finally:
        world.stop()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    outcome.wall_s = round(time.monotonic() - started, 1)
    outcome.notes.append(f"CPU of reaped children (services, broker): {usage.ru_utime + usage.ru_stime:.1f} core-s")
    return outcome
