"""The emulated gateway as one synchronous object: ``Engine.handle(endpoint, params) -> Reply``.

Pure (no sockets, no sleeping): time comes from an injectable clock and randomness from a seeded RNG, so
the protocol behaviour is unit-tested directly and the HTTP layer stays a thin adapter. Processing order
per request: common + per-operation field formats (codes accumulate), then merchant authentication, then
the operation's business rules (one code).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from emulator import charges, members, process, tokens
from emulator.call import Call, Ids, OpSpec, Stall
from emulator.config import EngineConfig, Merchant
from emulator.fields import check_formats, formats_for, parse_yyyymmdd
from emulator.state import Ledger

SPECS: dict[str, OpSpec] = {**charges.SPECS, **process.SPECS, **members.SPECS,
                            "1TokenSearch": OpSpec(run=tokens.token_search, required=("TenantId",),
                                                           optional=("Token",))}
ENDPOINTS: dict[str, frozenset[str]] = {
    "aut": frozenset({*charges.SPECS, *process.SPECS}),
    "crp": frozenset(members.SPECS),
    "atn": frozenset({"1TokenSearch"}),
}
COMMON = ("MerchantId", "MerchantPass", "TransactionDate")
FREE = ("MerchantFree1", "MerchantFree2", "MerchantFree3")


class OffsetClock:
    """Wall clock plus an adjustable offset, so tests and demos can jump past TTLs without sleeping."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        """The emulator's current time (UTC)."""
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        """Move the emulator's time forward."""
        self.offset += timedelta(seconds=seconds)


@dataclass
class Reply:
    """What the gateway answers; ``stall`` means "never answer, nothing was processed"."""

    fields: dict[str, str] = field(default_factory=dict)
    stall: bool = False

    @property
    def codes(self) -> list[str]:
        """The ResponseCd split on ``|`` (``["OK"]`` on success)."""
        return self.fields.get("ResponseCd", "").split("|")


class Engine:
    """State and rules of the emulated e-SCOTT gateway."""

    def __init__(self, merchants: Iterable[Merchant], config: EngineConfig | None = None,
                 seed: int | None = None, clock: OffsetClock | None = None) -> None:
        self.merchants = {m.merchant_id: m for m in merchants}
        self.config = config or EngineConfig()
        self.formats = formats_for(self.config.max_amount_digits)
        self.clock = clock or OffsetClock()
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        """Forget every transaction, member, token and counter (test isolation)."""
        self.ledger = Ledger()
        self.ids = Ids(random.Random(self.seed))

    def handle(self, endpoint: str, params: Mapping[str, str]) -> Reply:
        """Process one server-to-server message posted to ``endpoint`` (``aut``, ``crp`` or ``atn``)."""
        operate_id = params.get("OperateId", "")
        spec = SPECS.get(operate_id) if operate_id in ENDPOINTS.get(endpoint, ()) else None
        counter = self.ledger.counters[operate_id if spec else "(invalid)"]
        counter.requests += 1
        call = Call(operate_id=operate_id, params=params,
                    merchant=self.merchants.get(params.get("MerchantId", ""), _NOBODY), now=self.clock.now(),
                    ledger=self.ledger, config=self.config, ids=self.ids)
        call.out.update(self._echo(call))
        codes = self._validate(spec, params)
        if self.config.transaction_date_today and "K05" not in codes and \
                parse_yyyymmdd(call.get("TransactionDate")) != call.today:
            codes = sorted([*codes, "K05"])
        try:
            if not codes and spec is not None:
                codes = self._authenticate(call, spec) or spec.run(call)
        except Stall:
            return Reply(stall=True)
        counter.ok, counter.errors = counter.ok + (not codes), counter.errors + bool(codes)
        call.out["ResponseCd"] = "|".join(codes) or "OK"
        return Reply(call.out)

    def mint_token(self, params: Mapping[str, str]) -> tuple[str | None, list[str]]:
        """Issue a token (token script and ``/_emulator/tokens``)."""
        return tokens.mint(params, self.merchants.values(), self.ledger, self.ids, self.clock.now())

    def _echo(self, call: Call) -> dict[str, str]:
        date = call.get("TransactionDate")
        echo = {"TransactionId": self.ids.transaction_id(),
                "TransactionDate": date if parse_yyyymmdd(date) else call.today.strftime("%Y%m%d"),
                "OperateId": call.operate_id}
        echo.update({name: call.get(name) for name in FREE if name in call.params})
        return echo

    def _validate(self, spec: OpSpec | None, params: Mapping[str, str]) -> list[str]:
        codes = check_formats(params, COMMON, ())
        if spec is None:
            codes.append("K06")
        codes += check_formats(params, (), FREE)
        if spec is None:
            return sorted(codes)
        required = tuple(f for f in spec.required if spec.tenant_required or f != "TenantId")
        codes += [c for c in check_formats(params, required, spec.optional, formats=self.formats) if c not in codes]
        codes.sort()
        if spec.shape is not None and not codes:
            codes += spec.shape(params)
        return codes

    def _authenticate(self, call: Call, spec: OpSpec) -> list[str]:
        """Merchant credentials (K02/K03, KG8 after repeated failures) and TenantId registration (K13)."""
        merchant, failures = call.merchant, self.ledger.merchant_failures
        if merchant is _NOBODY:
            return ["K02"]
        if merchant.lockout_after and failures[merchant.merchant_id] >= merchant.lockout_after:
            return ["KG8"]
        if call.get("MerchantPass") != merchant.merchant_pass:
            failures[merchant.merchant_id] += 1
            return ["K03"]
        failures[merchant.merchant_id] = 0
        if spec.tenant_required and call.get("TenantId") not in merchant.tenant_ids:
            return ["K13"]
        return []


_NOBODY = Merchant(merchant_id="", merchant_pass="", token_code="")
