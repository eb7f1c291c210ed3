"""Every metric the alert rules and the Grafana dashboard query (deploy/monitoring/) is one the services serve on
`GET /metrics`: a renamed metric fails here, not silently on a dashboard."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import httpx
import pytest

from deploy.monitoring.check import promql_metrics, queries
from tests.integration.services.support import SERVICES, build

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def served_names(exposition: str) -> set[str]:
    """Metric names as PromQL sees them, from the `# TYPE` lines (a labelled metric with no sample yet has one)."""
    names = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


def test_the_query_parser_finds_metric_names_and_nothing_else():
    expr = ('histogram_quantile(0.95, sum by (le, operate_id) (rate(escott_call_seconds_bucket{outcome!~"ok|x"}'
            '[5m] offset 1h))) > 5 and on (job) max without (instance) (outbox_waiting_rows)')
    assert promql_metrics(expr) == {"escott_call_seconds_bucket", "outbox_waiting_rows"}


async def test_every_metric_of_the_rules_and_the_dashboard_is_served(new_database, isolated_kafka):
    served: set[str] = set()
    async with AsyncExitStack() as running:
        apps = [build(name, database_url=await new_database(), kafka=isolated_kafka) for name in SERVICES]
        await asyncio.gather(*(running.enter_async_context(app.router.lifespan_context(app)) for app in apps))
        for app in apps:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as client:
                served |= served_names((await client.get("/metrics")).text)
    wanted = {where: promql_metrics(expr) for where, expr in queries().items()}
    assert all(wanted.values()), "every query selects some metric"
    missing = {where: sorted(names - served) for where, names in wanted.items() if names - served}
    assert not missing, f"queried but not served: {missing}"
    assert {"escott_declines_total", "kafka_consumer_lag", "outbox_waiting_rows", "payment_needs_operator"} <= served
