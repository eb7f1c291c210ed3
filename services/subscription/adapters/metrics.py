"""The subscription service's own metrics (beside `delivery.metrics`), read from its database at each scrape:
subscriptions by status, and renewal cycles an operator must look at (failed, unknown) or that wait for their
order longer than expected (`requested`/`placed` for over an hour: checkout or payment may be stuck)."""

from __future__ import annotations

from delivery.metrics import watch_counts
from delivery.service import ServiceRuntime

_BY_STATUS = """
SELECT count(*) FILTER (WHERE status = 'active' AND ends_on IS NULL) AS active,
       count(*) FILTER (WHERE status = 'active' AND ends_on IS NOT NULL) AS ending,
       count(*) FILTER (WHERE status = 'paused') AS paused,
       count(*) FILTER (WHERE status = 'canceled') AS canceled
FROM subscriptions
"""
_CYCLES = """
SELECT count(*) FILTER (WHERE status = 'payment_failed') AS payment_failed,
       count(*) FILTER (WHERE status = 'needs_review') AS needs_review,
       count(*) FILTER (WHERE status IN ('requested', 'placed') AND requested_at < now() - interval '1 hour')
           AS waiting_over_an_hour
FROM cycles WHERE status IN ('payment_failed', 'needs_review', 'requested', 'placed')
"""


def watch_subscriptions(runtime: ServiceRuntime) -> None:
    watch_counts(runtime.metrics, runtime, name="subscription_subscriptions", label="status", query=_BY_STATUS,
                 documentation="Subscriptions by status (ending: canceled after the current cycle).")
    watch_counts(runtime.metrics, runtime, name="subscription_cycles_needing_attention", label="kind", query=_CYCLES,
                 documentation="Renewal cycles failed, unknown, or waiting over an hour for an order.")
