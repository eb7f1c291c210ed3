"""The seeded fault schedule: when each service is killed, when the broker and PostgreSQL restart, when SMTP
refuses a mail, when hostile records arrive; and the gateway's fault plan (5% of calls, every fault kind)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

KILLABLE = ("checkout", "payment", "payment-worker-1", "payment-worker-2", "subscription", "notification")


@dataclass(frozen=True, kw_only=True)
class Profile:
    orders: int
    rate: float
    seed: int = 17
    kills_per_service: int = 2
    broker_restarts: int = 1
    postgres_restarts: int = 1
    gateway_fault_rate: float = 0.05
    smtp_fault_rate: float = 0.05
    hostile_rounds: int = 2
    settle_s: float = 240.0

    @property
    def feeding_s(self) -> float:
        return self.orders / self.rate


@dataclass(frozen=True, kw_only=True)
class Event:
    at_s: float
    kind: str  # kill | rebalance_kill | broker_restart | postgres_restart | smtp_refusal | hostile
    target: str = ""


def plan(profile: Profile) -> list[Event]:
    """Every fault of the run, in time order, from the profile's seed (the same seed, the same schedule)."""
    rng = random.Random(profile.seed)
    span = profile.feeding_s

    def at(low: float = 0.1, high: float = 0.9) -> float:
        return round(rng.uniform(low * span, high * span), 2)

    events = [Event(at_s=at(), kind="kill", target=name) for name in KILLABLE for _ in range(profile.kills_per_service)]
    events.append(Event(at_s=at(0.2, 0.4), kind="rebalance_kill", target="payment-worker-2>payment-worker-1"))
    events += [Event(at_s=at(0.45, 0.55), kind="broker_restart") for _ in range(profile.broker_restarts)]
    events += [Event(at_s=at(0.6, 0.75), kind="postgres_restart") for _ in range(profile.postgres_restarts)]
    mails = 2 * profile.orders * 0.6  # about 60% of actions complete an order with two mails
    events += [Event(at_s=at(0.0, 1.0), kind="smtp_refusal") for _ in range(math.ceil(profile.smtp_fault_rate * mails))]
    events += [Event(at_s=at(0.05, 0.95), kind="hostile") for _ in range(profile.hostile_rounds)]
    return sorted(events, key=lambda e: e.at_s)


def gateway_faults(profile: Profile) -> dict:
    """The emulator's plan: the fault rate split evenly over no answer (past the client's read timeout), reset after
    processing, HTTP 5xx and garbage, on every operation, plus a normal latency."""
    share = profile.gateway_fault_rate / 4
    spec = {"latency": {"distribution": "normal", "mean_ms": 40, "stddev_ms": 30}, "no_answer": share,
            "reset_after": share, "http_5xx": share, "garbage": share}
    return {"seed": profile.seed, "default": spec}
