"""The chaos report prints every figure issue 17's closing note quotes, from what the run counted."""

from __future__ import annotations

from collections import Counter

from deploy.invariants.rules import Verdict
from tests.chaos.report import Outcome, describe
from tests.chaos.schedule import Profile


def outcome() -> Outcome:
    return Outcome(
        profile=Profile(orders=50, rate=10.0),
        faults=Counter({"kill checkout": 2, "smtp_refusal": 4, "broker_restart": 1}),
        kills=Counter({"checkout": 2, "payment-worker-1": 1}),
        healthy_by_program={"checkout": [1.5, 0.9], "payment-worker-1": [2.25]},
        restarts={"broker": [61.04], "postgres": [3.2]},
        hostile=Counter({("random bytes", "orders.events"): 2, ("huge payload", "orders.events"): 1,
                         ("random bytes", "payments.events"): 3}),
        checkouts=Counter({"card": 30, "declined card": 5}), accepted=33,
        operator=Counter({"capture 200": 4, "cancel 409": 2, "update-amount 200": 1, "edit 200": 1,
                          "sales mode auth 200": 2}),
        gateway_faults={"1Auth": {"no_answer": 2, "garbage": 1}, "1Gathering": {"garbage": 1}},
        smtp={"accepted": 60, "refused": 3},
        verdicts=[Verdict(name="I1 one final state", summary="", violations=0),
                  Verdict(name="I3 mails once", summary="", violations=2, figures={"crash_window_duplicates": 1}),
                  Verdict(name="unknowns surfaced", summary="", violations=0,
                          figures={"longest_to_operator_s": 12.5, "probe_resolved_orders": 3, "probe_calls": 4,
                                   "left_for_operators": 5, "resolved_by_operator": 0})])


def test_the_report_gives_every_closing_figure():
    lines = describe(outcome()).splitlines()
    figures = "\n".join(lines[lines.index("closing figures:"):])
    assert "orders fed: 35 checkouts sent (card 30, declined card 5), 33 accepted; 7 operator" in figures
    assert "kill -9 per program: checkout 2 (healthy again 2: [0.9, 1.5] s); payment-worker-1 1 (healthy again " \
           "1: [2.25] s)" in figures
    assert "broker restarts: 1 (61.0 s); PostgreSQL restarts: 1 (3.2 s)" in figures
    assert "gateway faults injected: 4 (garbage 2, no_answer 2; by operation: 1Auth 3, 1Gathering 1)" in figures
    assert "SMTP faults injected: 3 mails refused with 451 (4 refusals scheduled), 60 accepted" in figures
    assert "hostile records sent: 6 (by kind: huge payload 1, random bytes 5; by topic: orders.events 3, " \
           "payments.events 3)" in figures
    assert "violations per invariant: I1 one final state 0, I3 mails once 2, unknowns surfaced 0" in figures
    assert "before it reached an operator (checkout to needs_review): 12.5 s" in figures
    assert "duplicate mails inside the crash window (same Message-ID): 1" in figures
    assert "1TokenSearch (token unspent: not sent): 3 orders (4 calls); left for operators (needs_review): 5 " \
           "orders (0 resolved by an operator)" in figures
    assert lines[-1] == "VIOLATIONS: 2"


def test_a_run_without_kills_or_restarts_says_so():
    empty = Outcome(profile=Profile(orders=1, rate=1.0))
    text = describe(empty)
    assert "kill -9 per program: none" in text and "broker restarts: 0; PostgreSQL restarts: 0" in text
    assert "hostile records sent: 0 (by kind: none; by topic: none)" in text
