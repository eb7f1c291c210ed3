"""Fixtures for client ↔ emulator tests over real HTTP on loopback (no sleeps: the server is up on entry)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from emulator.testing import RunningEmulator, serve_emulator
from emulator.tls import TlsFiles, ensure_certificates
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


HTTPS = pytest.mark.parametrize("scheme", ["http", "https"], indirect=True)
"""Run a module's tests over plain HTTP and over the emulator's HTTPS with certificate verification on."""


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A CA and server certificate made once for the test session (`python -m emulator --tls` keeps its own)."""
    return ensure_certificates(Path(tmp_path_factory.mktemp("emulator-tls")))


@pytest.fixture
def scheme(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "http"))


@pytest.fixture
async def harness(scheme: str, tls_files: TlsFiles) -> AsyncIterator[Harness]:
    """A fresh emulator per test, a pooled client with a short read timeout, and an admin client. With `scheme`
    https the client talks TLS to the emulator and trusts only its CA (`ca_file`), verification on."""
    https = scheme == "https"
    async with serve_emulator(seed=11, max_hold_seconds=30, tls=tls_files if https else None) as emulator:
        http = create_http_client(EscottTimeouts(connect=2.0, read=READ_TIMEOUT, pool=2.0),
                                  ca_file=str(tls_files.ca_cert) if https else None)
        base_url = emulator.https_url if https and emulator.https_url else emulator.url
        async with http, httpx.AsyncClient(base_url=emulator.url, timeout=5) as admin:
            yield Harness(emulator, EscottGateway(http, base_url), admin)
