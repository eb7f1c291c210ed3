"""`GET /metrics` of the notification service: mails that gave up (what ops alert on) and mails not yet sent,
read from the mail log at each scrape."""

from __future__ import annotations

import pytest

from tests.integration.notification.support import log_rows, order, publish, publish_after_shop, running, shop, start
from tests.metrics_reading import sample, scrape
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_failed_mails_are_reported_until_resent(database_url, isolated_kafka, sink):
    sink.faults.set("permanent")
    await publish(isolated_kafka, shop())
    async with running(start(database_url, isolated_kafka, sink)) as api:
        assert sample(await scrape(api), "notification_mails", status="failed") == 0
        await publish_after_shop(database_url, isolated_kafka, order("ord-m"))
        rows = await eventually(lambda: _all_failed(database_url), message="both mails failed")
        failing = await scrape(api)
        assert [sample(failing, "notification_mails", status=s) for s in ("pending", "sending", "failed")] == [0, 0, 2]
        assert sample(failing, "notification_oldest_unsent_mail_seconds") == 0
        sink.faults.set("normal")
        assert (await api.post(f"/v1/shops/demo-shop/mails/{rows[0]['mail_id']}/resend")).status_code == 202

        async def one_failed_left() -> bool:
            return sample(await scrape(api), "notification_mails", status="failed") == 1

        await eventually(one_failed_left, message="the resent mail no longer counted as failed")


async def _all_failed(database_url):
    rows = await log_rows(database_url)
    return rows if len(rows) == 2 and all(r["status"] == "failed" for r in rows) else None
