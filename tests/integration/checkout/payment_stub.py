"""A real HTTP server (FastAPI + uvicorn on 127.0.0.1, a free port) standing in for payment's internal API (and
for notification's and subscription's key registration endpoints, which have the same shape).

It checks `X-Internal-Token`, records what checkout sent, serves member cards from a dict, and can be told
to fail (`down`: 503) or to refuse (`refusing`: 422), so tests observe checkout's HTTP behaviour over a real socket.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Header, HTTPException, Request, Response

from tests.waiting import eventually

INTERNAL_TOKEN = "internal-test-token-0123456789"


@dataclass(kw_only=True)
class PaymentStub:
    url: str = ""
    credentials: dict[str, dict[str, Any]] = field(default_factory=dict)
    operator_keys: dict[str, str] = field(default_factory=dict)
    storefront_keys: dict[str, str] = field(default_factory=dict)
    cards: dict[tuple[str, str], str] = field(default_factory=dict)
    down: bool = False
    refusing: bool = False

    def app(self) -> FastAPI:
        app = FastAPI()

        def check(token: str | None) -> None:
            if token != INTERNAL_TOKEN:
                raise HTTPException(401)
            if self.down:
                raise HTTPException(503)
            if self.refusing:
                raise HTTPException(422)

        @app.put("/internal/v1/shops/{shop_id}/gateway-credentials", status_code=204)
        async def credentials(shop_id: str, request: Request, x_internal_token: str | None = Header(None)) -> Response:
            check(x_internal_token)
            self.credentials[shop_id] = await request.json()
            return Response(status_code=204)

        @app.put("/internal/v1/shops/{shop_id}/operator-key", status_code=204)
        async def operator_key(shop_id: str, request: Request, x_internal_token: str | None = Header(None)) -> Response:
            check(x_internal_token)
            self.operator_keys[shop_id] = (await request.json())["sha256"]
            return Response(status_code=204)

        @app.put("/internal/v1/shops/{shop_id}/storefront-key", status_code=204)
        async def storefront_key(shop_id: str, request: Request,
                                 x_internal_token: str | None = Header(None)) -> Response:
            check(x_internal_token)
            self.storefront_keys[shop_id] = (await request.json())["sha256"]
            return Response(status_code=204)

        @app.get("/internal/v1/shops/{shop_id}/members/{member_id}/card")
        async def card(shop_id: str, member_id: str, x_internal_token: str | None = Header(None)) -> dict[str, Any]:
            check(x_internal_token)
            masked = self.cards.get((shop_id, member_id))
            return {"linked": masked is not None, "masked_card_no": masked}

        return app


@asynccontextmanager
async def serve_payment_stub() -> AsyncIterator[PaymentStub]:
    stub = PaymentStub()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    stub.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(stub.app(), log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: _started(server), timeout=10, message="payment stub listening")
        yield stub
    finally:
        server.should_exit = True
        async with asyncio.timeout(15):  # uvicorn waits for open connections; never forever
            await task
        sock.close()


async def _started(server: uvicorn.Server) -> bool:
    return server.started
