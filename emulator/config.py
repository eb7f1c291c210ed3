"""Emulator settings: merchants (from a JSON file or the environment) and the tunable lifetimes.

Kept free of I/O except the explicit ``load_*`` helpers so the engine can be built from plain objects in
tests. The built-in demo merchant matches the project's demo shop (issue 3).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from emulator.fields import MAX_AMOUNT_DIGITS, PAY_TYPES

ENV_MERCHANTS = "ESCOTT_EMULATOR_MERCHANTS"
ENV_MERCHANTS_FILE = "ESCOTT_EMULATOR_MERCHANTS_FILE"


@dataclass(frozen=True, kw_only=True)
class Merchant:
    """One e-SCOTT merchant contract as the emulator knows it."""

    merchant_id: str
    merchant_pass: str = field(repr=False)
    token_code: str = field(repr=False)
    tenant_ids: frozenset[str] = frozenset({"0001"})
    member_enabled: bool = True
    pay_types: frozenset[str] = PAY_TYPES
    lockout_after: int = 5
    tds_key: str = field(repr=False, default="")  # 3-D Secure EncryptValue: AES-128 key, 16 ASCII characters
    tds_iv: str = field(repr=False, default="")  # and its IV (16); a merchant without them gets K02 at OTDS010

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Merchant:
        """Build from the JSON shape documented in the README (``MerchantId``, ``MerchantPass``, …)."""
        return cls(
            merchant_id=str(raw["MerchantId"]),
            merchant_pass=str(raw["MerchantPass"]),
            token_code=str(raw["TokenNinsyoCode"]),
            tenant_ids=frozenset(str(t) for t in raw.get("TenantIds", ["0001"])),
            member_enabled=bool(raw.get("MemberEnabled", True)),
            pay_types=frozenset(raw.get("PayTypes", sorted(PAY_TYPES))),
            lockout_after=int(raw.get("LockoutAfter", 5)),
            tds_key=str(raw.get("TdsKey", "")),
            tds_iv=str(raw.get("TdsIv", "")),
        )


# The public demo credentials of issue 3, not a secret.
DEMO_MERCHANT = Merchant(
    merchant_id="10000001", merchant_pass="escottpass01", token_code="DEMOTOKEN0001",  # noqa: S106 (demo)
    tds_key="DEMO3DSKEY000001", tds_iv="DEMO3DSIV0000001",  # the documented demo 3-D Secure key and IV
)


class ReauthPairs(StrEnum):
    """What 1ReAuth does to ProcessId/ProcessPass (reference §2.6, open question 4: unknown at Sony).

    ``new``: a new transaction with a new pair; the old pair keeps naming the old transaction (a re-authorized
    live hold stays live until it is cancelled). ``same``: the transaction is re-authorized in place; the reply
    still carries a fresh pair, and the old pair and the new one both name the one transaction.
    """

    NEW = "new"
    SAME = "same"


@dataclass(frozen=True, kw_only=True)
class EngineConfig:
    """Lifetimes, limits and readings the reference leaves open (§9.2-§9.5, §9.7); all overridable."""

    token_ttl_seconds: float = 600.0
    process_retention_days: int = 400
    member_lockout_after: int = 5
    reauth_pairs: ReauthPairs = ReauthPairs.SAME  # the safest default: see the README, "1ReAuth and its pairs"
    max_amount_digits: int = MAX_AMOUNT_DIGITS
    transaction_date_today: bool = False  # True: a TransactionDate other than today (JST) is K05 (§9.3)
    tds_timeout_seconds: float = 600.0  # a 3-D Secure challenge answered later is KHW


def parse_merchants(text: str) -> list[Merchant]:
    """Parse a JSON list of merchants (or ``{"merchants": [...]}``)."""
    data = json.loads(text)
    items = data["merchants"] if isinstance(data, dict) else data
    return [Merchant.from_json(item) for item in items]


def load_merchants(path: str | None = None, env: Mapping[str, str] | None = None) -> list[Merchant]:
    """Merchants from ``path``, else the environment, plus the demo merchant unless one overrides its id."""
    env = os.environ if env is None else env
    merchants: list[Merchant] = []
    file_name = path or env.get(ENV_MERCHANTS_FILE)
    if file_name:
        merchants = parse_merchants(Path(file_name).read_text(encoding="utf-8"))
    elif env.get(ENV_MERCHANTS):
        merchants = parse_merchants(env[ENV_MERCHANTS])
    if all(m.merchant_id != DEMO_MERCHANT.merchant_id for m in merchants):
        merchants.append(DEMO_MERCHANT)
    return merchants
