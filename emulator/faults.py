"""Run-time fault injection: per-OperateId latency and failure probabilities, drawn from a seeded RNG.

Pure decision logic; the HTTP layer carries the decision out. Actions and what they mean for the caller:

- ``no_answer``: hold the request without processing it until the client gives up (state unchanged);
- ``reset_after``: process it (state changed), then abort the TCP connection instead of answering;
- ``http_5xx``: answer 5xx without processing (a front-end failure);
- ``garbage``: process it, then answer 200 with an unparsable body.

The last three leave the caller unable to know the outcome except ``no_answer``/``http_5xx``, which a
careful caller cannot tell apart from the others either — that is the point (design §6.2).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

ACTIONS = ("no_answer", "reset_after", "http_5xx", "garbage")
DISTRIBUTIONS = ("fixed", "uniform", "normal", "exponential")


class Action(StrEnum):
    """What to do with one request."""

    NONE = "none"
    NO_ANSWER = "no_answer"
    RESET_AFTER = "reset_after"
    HTTP_5XX = "http_5xx"
    GARBAGE = "garbage"


@dataclass(frozen=True, kw_only=True)
class Latency:
    """Delay before processing, in milliseconds: fixed, uniform(min,max), normal(mean,stddev) or
    exponential(mean); never negative."""

    distribution: str = "fixed"
    ms: float = 0.0
    min_ms: float = 0.0
    max_ms: float = 0.0
    mean_ms: float = 0.0
    stddev_ms: float = 0.0

    def sample(self, rng: random.Random) -> float:
        """One delay in seconds."""
        if self.distribution == "uniform":
            value = rng.uniform(self.min_ms, self.max_ms)
        elif self.distribution == "normal":
            value = rng.gauss(self.mean_ms, self.stddev_ms)
        elif self.distribution == "exponential":
            value = rng.expovariate(1.0 / self.mean_ms) if self.mean_ms > 0 else 0.0
        else:
            value = self.ms
        return max(value, 0.0) / 1000.0

    @property
    def zero(self) -> bool:
        """True when no delay can ever be drawn."""
        return self.distribution == "fixed" and self.ms == 0


@dataclass(frozen=True, kw_only=True)
class FaultSpec:
    """Latency and action probabilities for one OperateId (or the default)."""

    latency: Latency = field(default_factory=Latency)
    no_answer: float = 0.0
    reset_after: float = 0.0
    http_5xx: float = 0.0
    garbage: float = 0.0
    status_5xx: int = 503

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> FaultSpec:
        """Parse ``{"latency_ms": 200}`` or ``{"latency": {...}, "reset_after": 0.1, …}``.

        Raises ValueError on unknown fields or impossible probabilities, so the admin API can answer 400.
        """
        unknown = set(raw) - {"latency", "latency_ms", "status_5xx", *ACTIONS}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        latency = Latency(ms=float(raw["latency_ms"])) if "latency_ms" in raw else Latency(
            **raw.get("latency", {}))
        if latency.distribution not in DISTRIBUTIONS:
            raise ValueError(f"latency distribution must be one of {DISTRIBUTIONS}")
        probabilities = {name: float(raw.get(name, 0.0)) for name in ACTIONS}
        if any(p < 0 for p in probabilities.values()) or sum(probabilities.values()) > 1.0:
            raise ValueError("fault probabilities must be >= 0 and sum to at most 1")
        status = int(raw.get("status_5xx", 503))
        if not 500 <= status <= 599:
            raise ValueError("status_5xx must be a 5xx status")
        return cls(latency=latency, status_5xx=status, **probabilities)

    @property
    def inert(self) -> bool:
        """True when this spec can never delay or fail a request (the fast path)."""
        return self.latency.zero and not any(getattr(self, name) for name in ACTIONS)


@dataclass(frozen=True)
class Decision:
    """The fault drawn for one request."""

    delay: float = 0.0
    action: Action = Action.NONE
    status: int = 503


NO_FAULT = Decision()


class FaultPlan:
    """The active fault configuration; replaced wholesale through the admin API."""

    def __init__(self, seed: int = 0, default: FaultSpec | None = None,
                 operations: Mapping[str, FaultSpec] | None = None) -> None:
        self.seed = seed
        self.default = default or FaultSpec()
        self.operations = dict(operations or {})
        self.rng = random.Random(seed)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> FaultPlan:
        """Parse ``{"seed": 1, "default": {...}, "operations": {"1Auth": {...}}}``."""
        unknown = set(raw) - {"seed", "default", "operations"}
        if unknown:
            raise ValueError(f"unknown fault plan fields: {sorted(unknown)}")
        operations = {op: FaultSpec.from_json(spec) for op, spec in raw.get("operations", {}).items()}
        return cls(int(raw.get("seed", 0)), FaultSpec.from_json(raw.get("default", {})), operations)

    def to_json(self) -> dict[str, Any]:
        """The plan as the admin API shows it."""
        return {"seed": self.seed, "default": asdict(self.default),
                "operations": {op: asdict(spec) for op, spec in self.operations.items()}}

    def decide(self, operate_id: str) -> Decision:
        """Draw latency and action for one request of ``operate_id``."""
        spec = self.operations.get(operate_id, self.default)
        if spec.inert:
            return NO_FAULT
        delay = spec.latency.sample(self.rng)
        draw, threshold = self.rng.random(), 0.0
        for name in ACTIONS:
            threshold += getattr(spec, name)
            if draw < threshold:
                return Decision(delay, Action(name), spec.status_5xx)
        return Decision(delay, Action.NONE)
