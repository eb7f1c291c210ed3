"""What a chaos run did and what the checker found, and the report printed at its end: the run's lines, the
closing note's figures (issue 17's "Done means") and the checker's lines."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from deploy.invariants.rules import Verdict
from tests.chaos.schedule import Profile


@dataclass(kw_only=True)
class Outcome:
    """What the run did and what the checker found."""

    profile: Profile
    faults: Counter = field(default_factory=Counter)  # the schedule's events as fired
    kills: Counter = field(default_factory=Counter)  # kill -9 sent, per program (a kill finds none while it restarts)
    healthy_by_program: dict[str, list[float]] = field(default_factory=dict)
    restarts: dict[str, list[float]] = field(default_factory=dict)  # "broker"/"postgres" -> seconds each took
    hostile: Counter = field(default_factory=Counter)  # (kind, topic) -> records sent
    checkouts: Counter = field(default_factory=Counter)  # storefront scenario -> checkouts sent
    accepted: int = 0
    operator: Counter = field(default_factory=Counter)
    gateway_faults: dict[str, dict[str, int]] = field(default_factory=dict)  # operation -> fault kind -> count
    smtp: dict[str, int] = field(default_factory=dict)  # the sink's accepted/refused
    feeding_s: float = 0.0
    settle_s: float = 0.0
    wall_s: float = 0.0
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def violations(self) -> int:
        return sum(v.violations for v in self.verdicts)

    def figure(self, verdict: str, name: str) -> float | None:
        return next((v.figures.get(name) for v in self.verdicts if v.name == verdict), None)


def _counts(counter: Mapping[str, int]) -> str:
    return ", ".join(f"{key} {n}" for key, n in sorted(counter.items())) or "none"


def _total_by(pairs: Iterable[tuple[tuple[str, ...], int]], index: int) -> Counter:
    totals: Counter = Counter()
    for key, n in pairs:
        totals[key[index]] += n
    return totals


def _restarts(times: list[float]) -> str:
    return f"{len(times)}" + (f" ({', '.join(f'{t:.1f}' for t in times)} s)" if times else "")


def closing_figures(outcome: Outcome) -> list[str]:
    """The figures issue 17's closing note quotes, each on its own line."""
    o = outcome
    operator_actions = sum(n for key, n in o.operator.items() if key.split(" ", 1)[0] in
                           ("capture", "cancel", "update-amount"))
    kills = "; ".join(f"{name} {n} (healthy again {len(o.healthy_by_program.get(name, []))}: "
                      f"{sorted(o.healthy_by_program.get(name, []))} s)" for name, n in sorted(o.kills.items()))
    gateway = Counter()
    for per_kind in o.gateway_faults.values():
        gateway.update(per_kind)
    by_operation = {op: sum(kinds.values()) for op, kinds in o.gateway_faults.items()}
    hostile_pairs = list(o.hostile.items())
    unknowns = "unknowns surfaced"
    return [
        "closing figures:",
        f"  orders fed: {sum(o.checkouts.values())} checkouts sent ({_counts(o.checkouts)}), {o.accepted} accepted; "
        f"{operator_actions} operator captures/cancels/amount updates",
        f"  kill -9 per program: {kills or 'none'}",
        f"  broker restarts: {_restarts(o.restarts.get('broker', []))}; "
        f"PostgreSQL restarts: {_restarts(o.restarts.get('postgres', []))}",
        f"  gateway faults injected: {sum(gateway.values())} ({_counts(gateway)}; by operation: "
        f"{_counts(by_operation)})",
        f"  SMTP faults injected: {o.smtp.get('refused', 0)} mails refused with 451 "
        f"({o.faults.get('smtp_refusal', 0)} refusals scheduled), {o.smtp.get('accepted', 0)} accepted",
        f"  hostile records sent: {sum(o.hostile.values())} (by kind: {_counts(_total_by(hostile_pairs, 0))}; "
        f"by topic: {_counts(_total_by(hostile_pairs, 1))})",
        "  violations per invariant: " + ", ".join(f"{v.name} {v.violations}" for v in o.verdicts),
        f"  largest age of an unknown before it reached an operator (checkout to needs_review): "
        f"{o.figure(unknowns, 'longest_to_operator_s')} s",
        f"  duplicate mails inside the crash window (same Message-ID): "
        f"{o.figure('I3 mails once', 'crash_window_duplicates')}",
        f"  unknowns resolved by 1TokenSearch (token unspent: not sent): {o.figure(unknowns, 'probe_resolved_orders')}"
        f" orders ({o.figure(unknowns, 'probe_calls')} calls); left for operators (needs_review): "
        f"{o.figure(unknowns, 'left_for_operators')} orders ({o.figure(unknowns, 'resolved_by_operator')} "
        f"resolved by an operator)",
    ]


def describe(outcome: Outcome) -> str:
    p = outcome.profile
    lines = [f"chaos: {p.orders} storefront actions at {p.rate}/s (seed {p.seed}); feeding {outcome.feeding_s:.1f}s, "
             f"settle {outcome.settle_s}s, wall {outcome.wall_s}s",
             f"faults scheduled and fired: {dict(sorted(outcome.faults.items()))}",
             *outcome.notes, *closing_figures(outcome)]
    lines += [v.line() for v in outcome.verdicts]
    lines.append(f"VIOLATIONS: {outcome.violations}")
    return "\n".join(lines)
