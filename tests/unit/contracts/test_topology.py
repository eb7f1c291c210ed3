"""The topology agrees with design §3 and with the registry: who writes and who reads every event."""

from __future__ import annotations

from contracts.registry import EVENT_TYPES
from contracts.topics import ALL_TOPICS
from contracts.topology import PARTIES, SERVICES, consumers_of, producers_of


def test_the_four_services_have_their_consumer_group_ids():
    assert {name: party.group_id for name, party in SERVICES.items()} == {
        "checkout": "checkout",
        "payment": "payment",
        "subscription": "subscription",
        "notification": "notification",
    }


def test_services_consume_and_produce_the_topics_of_design_section_3():
    topics = {name: (party.consumed_topics(), party.produced_topics()) for name, party in SERVICES.items()}

    assert topics == {
        "checkout": (
            ("checkout.requests", "payments.events", "subscriptions.commands"),
            ("orders.events", "shops.settings"),
        ),
        "payment": (
            ("orders.events", "payments.commands", "shops.settings", "subscriptions.events"),
            ("payments.events", "payments.commands"),  # to itself: the charge after a 3-D Secure return
        ),
        "subscription": (  # renewal outcomes arrive as order events, card expiry as card events
            ("orders.events", "payments.events", "shops.settings"),
            ("subscriptions.commands", "subscriptions.events"),
        ),
        "notification": (
            ("orders.events", "payments.events", "shops.settings", "subscriptions.events"),
            ("notifications.events",),
        ),
    }


def test_every_flow_carries_only_events_of_its_topic():
    for party in PARTIES:
        for flow in (*party.consumes, *party.produces):
            assert all(flow.topic == event.TOPIC for event in flow.events), (party.name, flow.topic)


def test_every_event_type_has_exactly_one_producing_service():
    producers = {
        type_name: [
            name
            for name, party in SERVICES.items()
            for flow in party.produces
            if type_name in flow.event_types
        ]
        for type_name in EVENT_TYPES
    }

    assert {type_name: names for type_name, names in producers.items() if len(names) != 1} == {
        "checkout.requested.v1": [],  # storefronts publish it (checkout's HTTP API publishes the same event)
        # shop automation sends payment commands (the operator HTTP API runs the same handlers)
        "payment.capture_requested.v1": [],
        "payment.cancel_requested.v1": [],
        "payment.amount_update_requested.v1": [],
    }


def test_everything_consumed_is_produced_by_someone():
    for party in PARTIES:
        for flow in party.consumes:
            produced = {
                t for producer in producers_of(flow.topic) for f in producer.produces for t in f.event_types
            }
            assert set(flow.event_types) <= produced, (party.name, flow.topic)


def test_every_topology_topic_is_created_and_every_created_topic_is_used():
    declared = {spec.name for spec in ALL_TOPICS}
    used = {flow.topic for party in PARTIES for flow in (*party.consumes, *party.produces)}

    assert used == declared


def test_consumers_of_orders_events():
    assert [party.name for party in consumers_of("orders.events")] == [
        "payment", "subscription", "notification", "storefront",
    ]  # fmt: skip
