"""Payment's own metrics, beside the delivery ones (`delivery.metrics`): every e-SCOTT call by operation and
outcome with its latency, and, read from the database at each scrape, the payments an operator must act on
(design §6.2 unknown outcomes, §6.5 two live holds, §6.8 card changes of unknown outcome) and the renewal retries
waiting (R22 opt-in). Alert on
`payment_needs_operator > 0`, on `payment_oldest_unknown_seconds` and on `payment_renewal_retries{kind="overdue"}
> 0`; the payment numbers are in the operator API and the error log lines."""

from __future__ import annotations

from collections.abc import Callable

from delivery.metrics import ServiceMetrics, watch_counts, watch_value
from delivery.units import PoolSource
from services.payment.adapters.escott.wire import EscottResult
from services.payment.domain.gateway import Outcome

_NEEDS_OPERATOR = """
SELECT count(*) FILTER (WHERE state = 'unknown') AS unknown_outcome,
       count(*) FILTER (WHERE unknown_operation IS NOT NULL) AS unknown_operation,
       count(*) FILTER (WHERE previous_hold ->> 'state' = 'release_failed') AS two_live_holds,
       (SELECT count(*) FROM card_changes WHERE state = 'unknown') AS card_change_unknown
FROM payments
WHERE state = 'unknown' OR unknown_operation IS NOT NULL OR previous_hold IS NOT NULL
"""
_PROBES_BY_RESULT = """
SELECT count(*) FILTER (WHERE status = 'ok') AS unspent,
       count(*) FILTER (WHERE status = 'declined') AS spent_or_unusable,
       count(*) FILTER (WHERE status NOT IN ('ok', 'declined')) AS inconclusive
FROM gateway_attempts WHERE action = 'token_probe'
"""
_JANITOR_FINDINGS = "SELECT count(*) FROM janitor_findings"
_OLDEST_UNKNOWN = "SELECT extract(epoch FROM now() - min(updated_at)) FROM payments WHERE state = 'unknown'"
_RETRIES = """
SELECT count(*) AS waiting, count(*) FILTER (WHERE due_at < now() - interval '10 minutes') AS overdue
FROM payment_retries
"""


def gateway_observer(metrics: ServiceMetrics) -> Callable[[EscottResult, float], None]:
    calls = metrics.histogram("escott_call_seconds", "e-SCOTT calls by OperateId and outcome (ok, declined, "
                              "unknown, not_sent), with their latency.", ["operate_id", "outcome"])
    declines = metrics.counter("escott_declines", "Declined e-SCOTT calls by OperateId and result-code kind (the "
                               "code's letter: G card company, C card or contract, K message check, E system, "
                               "...); a call counts once per kind among its codes.", ["operate_id", "code_kind"])

    def observe(result: EscottResult, seconds: float) -> None:
        calls.labels(result.operate_id, result.outcome.value).observe(seconds)
        if result.outcome is Outcome.DECLINED:
            for kind in sorted({code_kind(code) for code in result.codes} or {"none"}):
                declines.labels(result.operate_id, kind).inc()

    return observe


def code_kind(code: str) -> str:
    """`G12` -> `G`: the series of a result code (protocol reference §4), a label of bounded cardinality."""
    kind = code[:1].upper()
    return kind if kind.isalpha() else "other"


def watch_attention(metrics: ServiceMetrics, pool: PoolSource) -> None:
    watch_counts(metrics, pool, name="payment_needs_operator", label="kind", query=_NEEDS_OPERATOR,
                 documentation="Payments an operator must act on: unknown outcome, unknown operation, two live holds; "
                               "and members' card changes of unknown outcome (resolved at the member's next request "
                               "or by an operator).")
    watch_counts(metrics, pool, name="payment_token_probes", label="result", query=_PROBES_BY_RESULT,
                 documentation="1TokenSearch probes of token charges of unknown outcome (design §6.2): unspent "
                               "(the charge never happened: sent again or declined, no operator needed), "
                               "spent_or_unusable (left for an operator), inconclusive (the probe's own outcome).")
    watch_value(metrics, pool, name="payment_janitor_settled_total", query=_JANITOR_FINDINGS,
                documentation="Payments the janitor settled as unknown (a call still sending past "
                              "janitor.stuck_after_s): each is an order in review (§6.9). Read from the janitor's "
                              "findings in the database, so it survives restarts; every payment process reports "
                              "the same total (take max, not sum, across processes).")
    watch_value(metrics, pool, name="payment_oldest_unknown_seconds", query=_OLDEST_UNKNOWN,
                documentation="Age of the oldest payment of unknown outcome (0: none).")
    watch_counts(metrics, pool, name="payment_renewal_retries", label="kind", query=_RETRIES,
                 documentation="Declined renewals waiting for their opt-in retry; overdue: due for over 10 minutes "
                               "and not run (no retry worker running?).")
