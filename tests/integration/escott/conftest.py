"""Fixtures for client ↔ emulator tests over real HTTP on loopback (no sleeps: the server is up on entry)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr

from emulator.testing import RunningEmulator, serve_emulator
from services.payment.adapters.escott import (
    EscottGateway,
    EscottTimeouts,
    MerchantConfig,
    TokenSource,
    create_http_client,
)

DEMO = MerchantConfig("10000001", SecretStr("escottpass01"))
READ_TIMEOUT = 1.0


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of the headless-Chromium test."""
    config.addinivalue_line("markers", "browser: needs headless Chromium at /usr/bin/chromium")


@dataclass
class Harness:
    """A running emulator, a gateway client pointed at it, and an admin client."""

    emulator: RunningEmulator
    gateway: EscottGateway
    admin: httpx.AsyncClient

    async def token(self, pan: str = "4111111111111111", exp: str = "3012") -> TokenSource:
        """Mint a token the way the token script does."""
        response = await self.admin.post("/_emulator/tokens", data={
            "k_TokenNinsyoCode": "DEMOTOKEN0001", "CardNo": pan, "CardExp": exp, "SecCd": "123"})
        response.raise_for_status()
        return TokenSource(SecretStr(response.text.removeprefix("token=")))

    async def faults(self, plan: dict[str, object]) -> None:
        """Replace the emulator's fault plan."""
        (await self.admin.put("/_emulator/faults", json=plan)).raise_for_status()

    async def ledger(self, **query: str) -> list[dict[str, object]]:
        """Transactions from the admin API."""
        response = await self.admin.get("/_emulator/transactions", params=query)
        response.raise_for_status()
        data: list[dict[str, object]] = response.json()
        return data


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    """A fresh emulator per test, a pooled client with a short read timeout, and an admin client."""
    async with serve_emulator(seed=11, max_hold_seconds=30) as emulator:
        http = create_http_client(EscottTimeouts(connect=2.0, read=READ_TIMEOUT, write=2.0, pool=2.0))
        async with http, httpx.AsyncClient(base_url=emulator.url, timeout=5) as admin:
            yield Harness(emulator, EscottGateway(http, emulator.url), admin)
