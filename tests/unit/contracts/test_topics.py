"""Topic names, partitions, compaction and dead-letter twins the deploy scripts create."""

from __future__ import annotations

import pytest

from contracts.topics import ALL_TOPICS, SHOPS_SETTINGS, TopicSpec, dlq, topic_spec, topics_to_create


def test_all_application_topics_are_declared_once():
    assert [spec.name for spec in ALL_TOPICS] == [
        "checkout.requests", "orders.events", "payments.events", "payments.commands", "shops.settings",
        "subscriptions.commands", "subscriptions.events", "notifications.events",
    ]  # fmt: skip


def test_the_payment_path_has_at_least_six_partitions():
    for name in ("checkout.requests", "orders.events", "payments.events", "payments.commands"):
        assert topic_spec(name).partitions >= 6, name


def test_only_shop_settings_is_compacted():
    assert [spec.name for spec in ALL_TOPICS if spec.compacted] == [SHOPS_SETTINGS]
    assert topic_spec(SHOPS_SETTINGS).configs() == {"cleanup.policy": "compact"}
    assert topic_spec("orders.events").configs() == {"cleanup.policy": "delete"}


def test_dlq_names_append_dot_dlq():
    assert dlq("orders.events") == "orders.events.dlq"


def test_topics_to_create_has_every_topic_and_its_dlq_with_the_same_partitions_never_compacted():
    created = {spec.name: spec for spec in topics_to_create()}

    assert len(created) == 2 * len(ALL_TOPICS)
    for spec in ALL_TOPICS:
        assert created[spec.name] == spec
        assert created[dlq(spec.name)] == TopicSpec(dlq(spec.name), spec.partitions, compacted=False)


def test_an_unknown_topic_is_a_key_error():
    with pytest.raises(KeyError):
        topic_spec("nope")
