"""The metrics registry of one service: its own families, probes run at each scrape, a failing or hanging probe
never breaks the scrape (the other gauges are still reported)."""

from __future__ import annotations

import asyncio
import logging

from prometheus_client.parser import text_string_to_metric_families

from delivery import metrics as m
from delivery.metrics import ServiceMetrics


def _values(text: bytes) -> dict[str, float]:
    return {s.name + str(sorted(s.labels.items())): s.value
            for f in text_string_to_metric_families(text.decode()) for s in f.samples}


async def test_probes_refresh_gauges_at_each_scrape():
    metrics = ServiceMetrics("svc")
    waiting = metrics.gauge("things_waiting", "Things.", ["kind"])
    counts = iter([3, 5])

    async def probe() -> None:
        waiting.labels("a").set(next(counts))

    metrics.on_scrape(probe)
    assert _values(await metrics.exposition())["things_waiting[('kind', 'a')]"] == 3
    assert _values(await metrics.exposition())["things_waiting[('kind', 'a')]"] == 5


async def test_a_failing_or_hanging_probe_is_logged_and_skipped(monkeypatch, caplog):
    monkeypatch.setattr(m, "PROBE_TIMEOUT_S", 0.05)
    metrics = ServiceMetrics("svc")
    fine = metrics.gauge("fine", "Still reported.")

    async def broken() -> None:
        raise RuntimeError("database down")

    async def hangs() -> None:
        await asyncio.Event().wait()

    async def works() -> None:
        fine.set(1)

    for probe in (broken, hangs, works):
        metrics.on_scrape(probe)
    with caplog.at_level(logging.WARNING, logger="delivery.metrics"):
        values = _values(await metrics.exposition())
    assert values["fine[]"] == 1
    assert "broken" in caplog.text and "hangs" in caplog.text


def test_two_services_in_one_process_have_separate_registries():
    first, second = ServiceMetrics("a"), ServiceMetrics("b")
    first.outbox_published.inc(2)
    assert second.registry.get_sample_value("outbox_published_total") == 0
    assert first.registry.get_sample_value("outbox_published_total") == 2
