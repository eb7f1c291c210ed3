"""Token service: issuance (token script and ``/_emulator/tokens``), single use, expiry, 1TokenSearch.

A token is bound to the merchant whose ``k_TokenNinsyoCode`` minted it. It is consumed by the first
1Check/1Auth/1Gathering/4MemAdd/4MemChg that gets past format validation and merchant authentication,
whatever the card company then answers; 1TokenSearch never consumes (reference §5.2, §8.7).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from emulator.call import Call, Ids
from emulator.cards import Card
from emulator.config import EngineConfig, Merchant
from emulator.fields import check_formats, luhn_ok
from emulator.state import Ledger, Token

TOKEN_LENGTH = 40


def mint(
    params: Mapping[str, str], merchants: Iterable[Merchant], ledger: Ledger, ids: Ids, now: datetime
) -> tuple[str | None, list[str]]:
    """Issue a token for the card in ``params``; returns ``(token, [])`` or ``(None, codes)``."""
    codes = check_formats(params, ("k_TokenNinsyoCode", "CardNo", "CardExp"), ("SecCd",))
    merchant = next((m for m in merchants if m.token_code == params.get("k_TokenNinsyoCode")), None)
    if merchant is None and "KI1" not in codes:
        codes.insert(0, "KI1")
    if not codes and not luhn_ok(params["CardNo"]):
        codes.append("K82")
    if codes or merchant is None:
        return None, codes
    value = ids.alnum(TOKEN_LENGTH)
    card = Card(pan=params["CardNo"], exp=params["CardExp"], sec_cd=params.get("SecCd", ""))
    ledger.tokens[value] = Token(value=value, merchant_id=merchant.merchant_id, card=card, created_at=now)
    return value, []


def token_code(token: Token | None, *, merchant_id: str, now: datetime, config: EngineConfig) -> str | None:
    """Why ``token`` cannot be used by ``merchant_id`` now (``KHZ``/``KI2``/``KI3``), else ``None``."""
    if token is None or token.merchant_id != merchant_id:
        return "KHZ"
    if token.used_at is not None:
        return "KI2"
    if (now - token.created_at).total_seconds() > config.token_ttl_seconds:
        return "KI3"
    return None


def consume(call: Call, value: str) -> tuple[Card | None, str | None]:
    """Spend the token: its card, or the code explaining why it cannot be used."""
    token = call.ledger.tokens.get(value)
    code = token_code(token, merchant_id=call.merchant.merchant_id, now=call.now, config=call.config)
    if code is not None or token is None:
        return None, code
    token.used_at = call.now
    return token.card, None


def token_search(call: Call) -> list[str]:
    """1TokenSearch: ``ResponseCd=OK`` plus ``TokenResponseCd`` with the token's status; not consuming."""
    value = call.get("Token")
    if not value:
        return ["K01"]
    status = "KHX" if check_formats(call.params, (), ("Token",)) else None
    if status is None:
        status = token_code(call.ledger.tokens.get(value), merchant_id=call.merchant.merchant_id, now=call.now,
                            config=call.config)
    call.out["TokenResponseCd"] = status or "OK"
    return []
