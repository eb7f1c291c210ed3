"""The service's wiring: it consumes what the topology says, the dev clock exists only when asked for (and only
moves forward), and production settings have neither."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contracts.topology import SERVICES
from delivery.clock import SystemClock
from services.subscription.adapters.dev_clock import DevClock
from services.subscription.app import create_app
from services.subscription.entrypoints import subscribers
from services.subscription.settings import SubscriptionSettings


def test_the_consumer_reads_what_the_topology_says_under_its_group_id():
    party = SERVICES["subscription"]
    assert party.group_id == subscribers.GROUP_ID
    assert set(subscribers.TOPICS) == set(party.consumed_topics())


def test_the_dev_clock_is_off_unless_the_environment_turns_it_on(monkeypatch):
    assert SubscriptionSettings().dev_clock is False
    monkeypatch.setenv("SUBSCRIPTION_DEV_CLOCK", "true")
    assert SubscriptionSettings().dev_clock is True


def paths(app) -> set[str]:
    return set(app.openapi()["paths"])


def test_the_dev_clock_endpoint_exists_only_with_the_setting():
    assert "/dev/clock" not in paths(create_app(SubscriptionSettings()))
    assert "/dev/clock" in paths(create_app(SubscriptionSettings(dev_clock=True)))


def test_the_dev_setting_refuses_a_clock_that_cannot_move():
    with pytest.raises(ValueError, match="movable"):
        create_app(SubscriptionSettings(dev_clock=True), clock=SystemClock())


def test_the_dev_clock_starts_where_asked_and_only_moves_forward():
    clock = DevClock(start=datetime(2025, 1, 31, 3, 0, tzinfo=UTC))
    assert abs(clock.now() - datetime(2025, 1, 31, 3, 0, tzinfo=UTC)) < timedelta(seconds=5)
    moved = clock.advance(timedelta(days=31))
    assert moved - datetime(2025, 3, 3, 3, 0, tzinfo=UTC) < timedelta(seconds=5)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(timedelta(seconds=-1))
