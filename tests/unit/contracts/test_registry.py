"""The registry knows every event exactly once, and every event knows its topic and key."""

from __future__ import annotations

import re

import pytest

from contracts.events import ALL_EVENTS, OrderPlaced, PaymentAuthorized
from contracts.registry import EVENT_TYPES, UnknownEventType, _build, events_on, model_for, topic_for
from contracts.topics import ALL_TOPICS, ORDERS_EVENTS, PAYMENTS_EVENTS
from tests.unit.contracts.samples import SAMPLES

EXPECTED_EVENTS = {
    "CheckoutRequested", "OrderPlaced", "OrderCompleted", "OrderRejected", "OrderNeedsReview",
    "PaymentAuthorized", "PaymentDeclined", "PaymentOutcomeUnknown", "PaymentCaptured", "PaymentCanceled",
    "PaymentAmountUpdated", "PaymentOperationFailed", "CardLinked", "CardUnlinked", "ShopSettingsChanged",
    "RenewalOrderRequested", "SubscriptionStarted", "MailSent", "MailFailed", "OrderAmountChanged",
    "PaymentHoldReleased", "CapturePayment", "CancelPayment", "UpdatePaymentAmount", "RenewalPaymentFailed",
    "SubscriptionChanged", "RenewalCycleSettled", "MailSentV2", "MailFailedV2",
    "CardReplaced", "RenewalCardExpiring", "PaymentAuthenticationRequired", "ChargeAuthenticatedPayment",
}  # fmt: skip


def test_registry_covers_all_33_events_with_unique_type_names():
    assert {model.__name__ for model in EVENT_TYPES.values()} == EXPECTED_EVENTS
    assert len(EVENT_TYPES) == 33
    assert len({model.TYPE for model in ALL_EVENTS}) == len(ALL_EVENTS) == 33


def test_type_names_are_lowercase_dotted_and_versioned():
    pattern = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\.v[1-9][0-9]*$")

    assert [name for name in EVENT_TYPES if not pattern.match(name)] == []


def test_a_duplicate_type_name_is_refused_when_the_table_is_built():
    with pytest.raises(ValueError, match="duplicate event type"):
        _build((PaymentAuthorized, PaymentAuthorized))


def test_model_for_finds_the_model_and_names_an_unknown_type():
    assert model_for("order.placed.v1") is OrderPlaced
    with pytest.raises(UnknownEventType) as caught:
        model_for("order.placed.v0")
    assert caught.value.type_name == "order.placed.v0"


def test_topic_for_accepts_a_model_or_an_instance():
    assert topic_for(OrderPlaced) == ORDERS_EVENTS
    assert topic_for(SAMPLES["payment.authorized.v1"]()) == PAYMENTS_EVENTS


def test_every_event_travels_on_a_declared_topic_and_names_a_real_key_field():
    topics = {spec.name for spec in ALL_TOPICS}

    for model in ALL_EVENTS:
        assert model.TOPIC in topics, model
        assert model.KEY_FIELD in model.model_fields, model


def test_events_on_lists_the_types_of_a_topic():
    assert [model.__name__ for model in events_on(ORDERS_EVENTS)] == [
        "OrderPlaced", "OrderCompleted", "OrderRejected", "OrderNeedsReview", "OrderAmountChanged",
        "RenewalPaymentFailed",
    ]  # fmt: skip
    assert events_on("no.such.topic") == ()


def test_every_event_model_is_frozen_and_ignores_unknown_fields():
    for model in ALL_EVENTS:
        assert model.model_config.get("frozen") is True, model
        assert model.model_config.get("extra") == "ignore", model


def test_the_samples_cover_every_registered_type():
    assert set(SAMPLES) == set(EVENT_TYPES)
    assert all(type(SAMPLES[name]()) is EVENT_TYPES[name] for name in SAMPLES)
