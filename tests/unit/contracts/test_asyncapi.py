"""The AsyncAPI document FastStream generates from the topology (built in memory, never connected)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.asyncapi import build_document
from contracts.registry import EVENT_TYPES
from contracts.schemas import current_schemas, dumps
from contracts.topics import ALL_TOPICS
from contracts.topology import PARTIES

DOCS = Path(__file__).resolve().parents[3] / "docs"


@pytest.fixture(scope="module")
def document():
    return build_document()


def _refs(node, found):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.append(node["$ref"])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for item in node:
            _refs(item, found)
    return found


def _resolve(document, ref):
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_it_is_asyncapi_3_with_one_channel_per_party_and_topic(document):
    flows = sum(len(party.consumes) + len(party.produces) for party in PARTIES)

    assert document["asyncapi"] == "3.0.0"
    assert len(document["channels"]) == len(document["operations"]) == flows
    assert {channel["address"] for channel in document["channels"].values()} == {s.name for s in ALL_TOPICS}


def test_every_reference_resolves(document):
    for ref in _refs(document, []):
        assert _resolve(document, ref) is not None, ref


def test_every_event_type_is_documented_as_an_envelope_with_typed_data(document):
    schemas = document["components"]["schemas"]
    documented = {
        schema["properties"]["type"].get("const"): schema["properties"]["data"]["$ref"]
        for schema in schemas.values()
        if "properties" in schema
        and "data" in schema["properties"]
        and "$ref" in schema["properties"]["data"]
    }

    assert set(EVENT_TYPES) <= set(documented)
    assert documented["payment.authorized.v1"] == "#/components/schemas/PaymentAuthorized"


def test_topics_carry_their_partitions_and_cleanup_policy(document):
    bindings = {c["address"]: c["bindings"]["kafka"] for c in document["channels"].values()}

    assert bindings["payments.events"]["partitions"] == 6
    assert bindings["shops.settings"]["topicConfiguration"] == {"cleanup.policy": ["compact"]}


def test_consumer_groups_and_correlation_in_the_body_are_documented(document):
    channel = document["channels"]["orders.events:payment:subscribe"]
    message = _resolve(document, channel["messages"]["SubscribeMessage"]["$ref"])

    assert "group `payment`" in channel["description"]
    assert message["correlationId"]["location"] == "$message.payload#/correlation_id"
    assert message["headers"]["required"] == ["type"]


def test_the_committed_docs_are_current(document):
    committed = json.loads((DOCS / "asyncapi.json").read_text("utf-8"))

    assert committed == document, "run: python -m contracts.asyncapi docs"
    for type_name, schema in current_schemas().items():
        assert (DOCS / "schemas" / f"{type_name}.json").read_text("utf-8") == dumps(schema), type_name
