"""No TLS to a PostgreSQL server on this machine; a remote server or a URL that names an sslmode keeps TLS."""

import pytest

from delivery.db import PooledConnection, connect_options


@pytest.mark.parametrize("url", [
    "postgresql://u:p@127.0.0.1:5432/db", "postgresql://u:p@localhost/db", "postgresql://u:p@[::1]:5432/db",
    "postgresql:///db?host=/var/run/postgresql", "postgresql://u@/db", "postgresql://u:p@%2Fvar%2Frun%2Fpostgresql/db",
])
def test_loopback_and_unix_sockets_go_without_tls(url: str) -> None:
    assert connect_options(url) == {"ssl": False}


@pytest.mark.parametrize("url", [
    "postgresql://u:p@db.example.com:5432/db", "postgresql://u:p@10.0.0.5/db",
    "postgresql://u:p@127.0.0.1/db?sslmode=require", "postgresql://u:p@localhost/db?sslmode=verify-full",
])
def test_remote_servers_and_explicit_sslmodes_keep_asyncpgs_default(url: str) -> None:
    assert connect_options(url) == {}


def test_pooled_connections_are_released_without_a_reset_round_trip() -> None:
    assert PooledConnection.get_reset_query(object.__new__(PooledConnection)) == ""
