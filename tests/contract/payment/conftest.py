"""The payment ports, fake and real, behind one interface per suite: every contract test runs against both.

"fake" is `tests/fakes/payment.py` (and `payment_gateway.py`); "real" is the PostgreSQL adapters on a new,
migrated database of this test (marked `postgres`), and the e-SCOTT card gateway against the emulator over real
HTTP. The fake runs need no server at all: the database and the emulator are only started for the real runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from contracts.envelope import Envelope
from delivery.db import create_pool, migrate
from delivery.units import UnitOfWorkFactory
from emulator.testing import serve_emulator
from services.payment.adapters.crypto import Cipher
from services.payment.adapters.escott import EscottGateway, EscottTimeouts, create_http_client
from services.payment.adapters.gateway import EscottCardGateway
from services.payment.adapters.postgres.uow import PaymentUnitOfWork
from services.payment.app import MIGRATIONS
from services.payment.ports import CardGateway, UnitOfWork
from tests.contract.conftest import PoolRuntime, staged_envelopes
from tests.fakes.payment import PaymentFakes
from tests.fakes.payment_gateway import FakeCardGateway

KEY = Fernet.generate_key().decode()


@dataclass(frozen=True, kw_only=True)
class Store:
    """A unit of work factory, what its committed units emitted, and a way to make a shop's stored credentials
    unreadable (as after a key change without rotation)."""

    uow: Callable[[], AbstractAsyncContextManager[UnitOfWork]]
    emitted: Callable[[], Awaitable[list[Envelope]]]
    make_unreadable: Callable[[str], Awaitable[None]]


@pytest.fixture
async def store(make_database: Any) -> AsyncIterator[Store]:
    if make_database is None:
        fakes = PaymentFakes()

        async def staged() -> list[Envelope]:
            return list(fakes.state.outbox)

        async def unreadable(shop_id: str) -> None:
            fakes.state.unreadable.add(shop_id)

        yield Store(uow=fakes.uow, emitted=staged, make_unreadable=unreadable)
        return
    pool = await create_pool(await make_database(), min_size=1, max_size=4)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, MIGRATIONS)

        async def outbox() -> list[Envelope]:
            return await staged_envelopes(pool)

        async def under_another_key(shop_id: str) -> None:
            other = Cipher(SecretStr(Fernet.generate_key().decode())).encrypt(SecretStr("escottpass01"))
            await pool.execute("UPDATE shop_credentials SET merchant_pass_enc = $2 WHERE shop_id = $1", shop_id,
                               other)

        factory = UnitOfWorkFactory(PoolRuntime(pool), partial(PaymentUnitOfWork, cipher=Cipher(SecretStr(KEY))))
        yield Store(uow=factory, emitted=outbox, make_unreadable=under_another_key)
    finally:
        await pool.close()


@dataclass(frozen=True, kw_only=True)
class Gateway:
    """A `CardGateway`, a way to mint a token for a card number as the browser's token script does, and the
    same gateway unreachable."""

    port: CardGateway
    token: Callable[[str], Awaitable[SecretStr]]
    unreachable: CardGateway


@pytest.fixture(params=["fake", "real"])
async def gateway(request: pytest.FixtureRequest) -> AsyncIterator[Gateway]:
    """The fake, or `EscottCardGateway` over real HTTP to the emulator (unreachable: a port nothing listens on)."""
    if request.param == "fake":
        fake = FakeCardGateway()
        down = FakeCardGateway()
        down.down = True

        async def fake_token(pan: str) -> SecretStr:
            return fake.token(pan)

        yield Gateway(port=fake, token=fake_token, unreachable=down)
        return
    timeouts = EscottTimeouts(connect=1.0, read=5.0, pool=2.0)
    async with (serve_emulator(seed=13) as emulator, create_http_client(timeouts) as http,
                httpx.AsyncClient(base_url=emulator.url, timeout=5) as admin):

        async def token(pan: str) -> SecretStr:
            response = await admin.post("/_emulator/tokens", data={
                "k_TokenNinsyoCode": "DEMOTOKEN0001", "CardNo": pan, "CardExp": "3012", "SecCd": "123"})
            response.raise_for_status()
            return SecretStr(response.text.removeprefix("token="))

        yield Gateway(port=EscottCardGateway(EscottGateway(http, emulator.url)), token=token,
                      unreachable=EscottCardGateway(EscottGateway(http, "http://127.0.0.1:9")))
