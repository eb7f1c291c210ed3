"""Helpers for driving the pure emulator engine in unit tests."""

from __future__ import annotations

from emulator.config import DEMO_MERCHANT, EngineConfig, Merchant
from emulator.engine import Engine, Reply

VISA = "4111111111111111"
OTHER = Merchant(merchant_id="20000002", merchant_pass="otherpass02", token_code="OTHERTOKEN02",
                 member_enabled=False, pay_types=frozenset({"01"}))
BASE = {"MerchantId": "10000001", "MerchantPass": "escottpass01", "TransactionDate": "20250101",
        "TenantId": "0001"}
CARD = {"CardNo": VISA, "CardExp": "3012", "SecCd": "123"}
MEMBER = {"KaiinId": "M0001", "KaiinPass": "pass00000001"}


def new_engine(**config: float) -> Engine:
    """A fresh engine with the demo merchant and a second merchant (no members, lump sum only)."""
    return Engine([DEMO_MERCHANT, OTHER], EngineConfig(**config), seed=1)  # type: ignore[arg-type]


def send(engine: Engine, endpoint: str, operate_id: str, **fields: str) -> Reply:
    """One message with the demo merchant's credentials plus ``fields``."""
    return engine.handle(endpoint, {**BASE, "OperateId": operate_id, **fields})


def token(engine: Engine, pan: str = VISA, exp: str = "3012") -> str:
    """Mint a token for the demo merchant."""
    value, codes = engine.mint_token({"k_TokenNinsyoCode": "DEMOTOKEN0001", "CardNo": pan, "CardExp": exp})
    assert value is not None, codes
    return value


def auth(engine: Engine, operate_id: str = "1Auth", amount: str = "1000", **source: str) -> Reply:
    """A Master charge with the Visa test card unless another source is given."""
    return send(engine, "aut", operate_id, PayType="01", Amount=amount, **(source or CARD))


def pair(reply: Reply) -> dict[str, str]:
    """The ProcessId/ProcessPass of a Master reply."""
    return {"ProcessId": reply.fields["ProcessId"], "ProcessPass": reply.fields["ProcessPass"]}
