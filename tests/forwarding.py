"""A server that "comes" during a test: a loopback port that refuses connections until the test forwards it to
the real server (a broker or PostgreSQL started late, without stopping the shared one)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def forwarding(port: int, target: str) -> AsyncIterator[None]:
    """127.0.0.1:`port` (refusing connections until now) forwards to `target` (host:port) while inside. A Kafka
    client bootstraps through it, then connects to the address the broker's metadata advertises."""
    host, target_port = target.rsplit(":", 1)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def forward(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        broker_reader, broker_writer = await asyncio.open_connection(host, int(target_port))
        await asyncio.gather(pipe(client_reader, broker_writer), pipe(broker_reader, client_writer))

    server = await asyncio.start_server(forward, "127.0.0.1", port)
    async with server:
        yield
