"""Kafka topic names and the table the deploy scripts create topics from (design §4).

Topics are always created explicitly with their partition count; auto-creation is disabled everywhere.
Partitions bound how many replicas of a consumer group can work in parallel (design §3, §6.4), so the
busy payment path (`checkout.requests`, `orders.events`, `payments.*`) gets 6. Every topic has a dead-letter
twin `<topic>.dlq` with the same partition count, where a consumer moves a message it cannot process.
"""

from __future__ import annotations

from dataclasses import dataclass

CHECKOUT_REQUESTS = "checkout.requests"
"""Public: storefronts publish `CheckoutRequested` here (key = checkout id)."""
ORDERS_EVENTS = "orders.events"
"""Order lifecycle, produced by checkout (key = order id). Storefronts read outcomes here."""
PAYMENTS_EVENTS = "payments.events"
"""Public: payment outcomes and operations, read by monitoring (key = order id; card links: shop:member)."""
PAYMENTS_COMMANDS = "payments.commands"
"""Operator and automation commands to the payment service (capture, cancel, update amount)."""
SHOPS_SETTINGS = "shops.settings"
"""Compacted: the latest full settings snapshot per shop (key = shop id)."""
SUBSCRIPTIONS_COMMANDS = "subscriptions.commands"
"""Renewal requests from the subscription scheduler to checkout (key = subscription id)."""
SUBSCRIPTIONS_EVENTS = "subscriptions.events"
"""Subscription lifecycle (key = subscription id)."""
NOTIFICATIONS_EVENTS = "notifications.events"
"""Mail outcomes (key = order id)."""

DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """How one topic is created: name, partition count, and whether it is log-compacted."""

    name: str
    partitions: int
    compacted: bool = False

    def configs(self) -> dict[str, str]:
        """Topic-level Kafka configs to pass at creation (only the cleanup policy differs today)."""
        return {"cleanup.policy": "compact" if self.compacted else "delete"}


ALL_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(CHECKOUT_REQUESTS, partitions=6),
    TopicSpec(ORDERS_EVENTS, partitions=6),
    TopicSpec(PAYMENTS_EVENTS, partitions=6),
    TopicSpec(PAYMENTS_COMMANDS, partitions=6),
    TopicSpec(SHOPS_SETTINGS, partitions=3, compacted=True),
    TopicSpec(SUBSCRIPTIONS_COMMANDS, partitions=3),
    TopicSpec(SUBSCRIPTIONS_EVENTS, partitions=3),
    TopicSpec(NOTIFICATIONS_EVENTS, partitions=3),
)
"""The application topics (without their dead-letter twins)."""


def dlq(topic: str) -> str:
    """The dead-letter topic name for `topic`."""
    return f"{topic}{DLQ_SUFFIX}"


def dlq_spec(spec: TopicSpec) -> TopicSpec:
    """The dead-letter twin of a topic: same partitions, never compacted (every dead letter is kept)."""
    return TopicSpec(dlq(spec.name), partitions=spec.partitions, compacted=False)


def topic_spec(name: str) -> TopicSpec:
    """Look up the spec of an application or dead-letter topic by name; `KeyError` if unknown."""
    for spec in topics_to_create():
        if spec.name == name:
            return spec
    raise KeyError(name)


def topics_to_create() -> list[TopicSpec]:
    """Every topic the deploy scripts must create: each application topic followed by its DLQ."""
    return [created for spec in ALL_TOPICS for created in (spec, dlq_spec(spec))]
