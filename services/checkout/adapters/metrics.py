"""Checkout's own metrics (beside `delivery.metrics`), read from its database at each scrape: orders an operator
must look at. `needs_review`: payment outcome unknown, the buyer was told to contact the shop (design §6.2);
`anomaly`: a contradicting payment event or two live holds recorded on the order."""

from __future__ import annotations

from delivery.metrics import watch_counts, watch_value
from delivery.service import ServiceRuntime

_ATTENTION = """
SELECT count(*) FILTER (WHERE status = 'needs_review') AS needs_review,
       count(*) FILTER (WHERE anomaly IS NOT NULL) AS anomaly
FROM orders WHERE status = 'needs_review' OR anomaly IS NOT NULL
"""
_OLDEST_REVIEW = "SELECT extract(epoch FROM now() - min(placed_at)) FROM orders WHERE status = 'needs_review'"


def watch_orders(runtime: ServiceRuntime) -> None:
    watch_counts(runtime.metrics, runtime, name="checkout_orders_needing_attention", label="kind",
                 query=_ATTENTION, documentation="Orders waiting for an operator: needs_review, anomaly.")
    watch_value(runtime.metrics, runtime, name="checkout_oldest_needs_review_seconds",
                query=_OLDEST_REVIEW, documentation="Age of the oldest order in needs_review (0: none).")
