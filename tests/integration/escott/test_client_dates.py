"""Our client sends today's JST date as TransactionDate: it passes the emulator's strict reading (§9.3,
`--transaction-date today`), which a client sending another date fails with K05."""

from __future__ import annotations

from datetime import date

from pydantic import SecretStr

from emulator.config import EngineConfig
from emulator.testing import serve_emulator
from services.payment.adapters.escott import EscottGateway, TokenSource, create_http_client
from tests.integration.escott.conftest import DEMO


async def test_our_client_passes_a_gateway_that_insists_on_today() -> None:
    async with serve_emulator(seed=4, config=EngineConfig(transaction_date_today=True)) as strict, \
            create_http_client() as http:
        tokens = [strict.engine.mint_token({"k_TokenNinsyoCode": "DEMOTOKEN0001", "CardNo": "4111111111111111",
                                            "CardExp": "3012"})[0] for _ in range(2)]
        assert all(tokens)
        ours = await EscottGateway(http, strict.url).authorize(DEMO, TokenSource(SecretStr(str(tokens[0]))),
                                                               amount=1000)
        assert ours.ok, ours.codes
        stale = EscottGateway(http, strict.url, today=lambda: date(2025, 1, 1))
        assert (await stale.authorize(DEMO, TokenSource(SecretStr(str(tokens[1]))), amount=1000)).codes == ("K05",)
