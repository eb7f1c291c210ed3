"""The harness's backend choice (tests/backends.py) and the container images' names (deploy/containers/images.py)."""

from __future__ import annotations

import pytest

from deploy.containers import images
from tests.backends import Backends, Machine, NoBackend, choose
from tests.testbed import kafka_environment, owner, owner_alive

SERVERS = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092", "DATABASE_URL": "postgresql://u:p@127.0.0.1/postgres"}


def machine(*, local: bool = True, engine: bool = True, asked: list[str] | None = None) -> Machine:
    def answer(what: str, value: bool):
        def ask() -> bool:
            if asked is not None:
                asked.append(what)
            return value
        return ask

    return Machine(local_kafka=answer("kafka", local), local_postgres=answer("postgres", local),
                   engine=answer("engine", engine))


def test_explicit_containers_wins_over_the_servers_named_in_the_environment():
    chosen = choose({"TEST_BACKEND": "containers", **SERVERS}, machine())
    assert chosen == Backends(kafka="containers", postgres="containers")


def test_explicit_containers_without_an_engine_says_what_is_missing():
    with pytest.raises(NoBackend, match="Docker or podman"):
        choose({"TEST_BACKEND": "containers"}, machine(engine=False))


def test_explicit_local_uses_named_servers_first_then_this_machines_own():
    assert choose({"TEST_BACKEND": "local", **SERVERS}, machine()) == Backends(kafka="env", postgres="env")
    named_kafka_only = {"TEST_BACKEND": "local", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092"}
    assert choose(named_kafka_only, machine()) == Backends(kafka="env", postgres="local")


def test_explicit_local_never_falls_back_to_containers():
    asked: list[str] = []
    with pytest.raises(NoBackend, match="TEST_BACKEND=containers"):
        choose({"TEST_BACKEND": "local"}, machine(local=False, asked=asked))
    assert "engine" not in asked


def test_unset_takes_named_servers_then_local_ones_then_containers():
    assert choose(SERVERS, machine()) == Backends(kafka="env", postgres="env")
    assert choose({}, machine()) == Backends(kafka="local", postgres="local")
    assert choose({"TEST_BACKEND": ""}, machine(local=False)) == Backends(kafka="containers", postgres="containers")
    with pytest.raises(NoBackend, match="no Kafka"):
        choose({}, machine(local=False, engine=False))


def test_an_unknown_backend_is_refused():
    with pytest.raises(NoBackend, match="TEST_BACKEND='docker'"):
        choose({"TEST_BACKEND": "docker"}, machine())


def test_public_images_are_the_jars_kafka_version_and_postgres_15():
    names = images.names({"TEST_IMAGES": "public"})
    assert names == {"kafka": f"apache/kafka:{images.kafka_version()}", "postgres": "postgres:15"}
    assert images.kafka_version().count(".") == 2


def test_images_are_built_here_only_for_podman_since_docker_does_not_see_podmans_images():
    assert images.chosen({}, podman=True) == "local"
    assert images.chosen({}, podman=False) == "public"
    assert images.chosen({"TEST_IMAGES": "public"}, podman=True) == "public"


def test_an_image_named_explicitly_replaces_the_default_one():
    names = images.names({"TEST_IMAGES": "public", "TEST_POSTGRES_IMAGE": "example/pg:15"})
    assert names["postgres"] == "example/pg:15"
    with pytest.raises(ValueError, match="TEST_IMAGES='remote'"):
        images.names({"TEST_IMAGES": "remote"})


def test_kafka_in_a_container_advertises_the_published_port_with_the_local_brokers_settings():
    env = kafka_environment(31234)
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://127.0.0.1:31234"
    assert env["KAFKA_LISTENERS"].startswith("PLAINTEXT://0.0.0.0:9092,")
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"  # the local broker's rule holds in containers too
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert "-Xmx512m" in env["KAFKA_HEAP_OPTS"]
    assert env["CLUSTER_ID"]


def test_a_session_owner_is_alive_only_while_that_very_process_runs():
    assert owner_alive(owner())
    host, pid, started = owner().split(":")
    assert not owner_alive(f"{host}:{pid}:{int(started) + 1}")  # same pid, another process (pid reused)
    assert not owner_alive(f"{host}:999999999:1")
