"""Admin and ledger API under ``/_emulator/…`` (JSON), for tests, load generators and reconciliation.

Never part of e-SCOTT itself. Records are rendered without passwords, ProcessPass or full card numbers.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from aiohttp import web

from emulator.faults import FaultPlan
from emulator.runtime import Runtime
from emulator.state import Ledger, TxState


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False))


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    data = await request.json()
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    return data


class AdminApi:
    """Handlers of the admin routes, bound to one running emulator."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @property
    def ledger(self) -> Ledger:
        """The current ledger (replaced on reset, so never cached)."""
        return self.runtime.engine.ledger

    async def health(self, _: web.Request) -> web.Response:
        """Liveness: answers as soon as the server accepts connections."""
        return _json({"status": "ok"})

    async def transactions(self, request: web.Request) -> web.Response:
        """All transactions, or those matching ``MerchantFree1`` / ``MerchantId`` / ``state``."""
        query = request.query
        if "MerchantFree1" in query:
            found = self.ledger.find_by_free1(query["MerchantFree1"], query.get("MerchantId"))
        else:
            found = [tx for tx in self.ledger.transactions.values()
                     if query.get("MerchantId") in (None, tx.merchant_id)]
        if "state" in query:
            found = [tx for tx in found if tx.state.value == query["state"]]
        return _json([tx.to_json() for tx in found])

    async def transaction(self, request: web.Request) -> web.Response:
        """One transaction by ProcessId (its own, or a pair an in-place 1ReAuth issued for it)."""
        tx, _ = self.ledger.by_pair(request.match_info["process_id"])
        if tx is None:
            raise web.HTTPNotFound(text="no such ProcessId")
        return _json(tx.to_json())

    async def holds(self, _: web.Request) -> web.Response:
        """Live holds (authorized or captured) per merchant, and the live transactions themselves."""
        live = [tx.to_json() for tx in self.ledger.transactions.values() if tx.state.live]
        return _json({"per_merchant": self.ledger.live_holds(), "live": live})

    async def members(self, request: web.Request) -> web.Response:
        """Stored members, optionally of one ``MerchantId``."""
        merchant_id = request.query.get("MerchantId")
        return _json([m.to_json() for m in self.ledger.members.values()
                      if merchant_id in (None, m.merchant_id)])

    async def member_decline(self, request: web.Request) -> web.Response:
        """POST: later charges of this member decline with ``code`` (default G12): every one, or the next ``times``
        (then they approve again); DELETE: undo."""
        member = self.ledger.members.get((request.match_info["merchant_id"], request.match_info["kaiin_id"]))
        if member is None:
            raise web.HTTPNotFound(text="no such member")
        if request.method == "DELETE":
            member.switch_decline(None)
            return _json(member.to_json())
        body = await _body(request)
        code, times = body.get("code", "G12"), body.get("times")
        if not isinstance(code, str) or not code or (times is not None and (
                isinstance(times, bool) or not isinstance(times, int) or times < 1)):
            raise web.HTTPBadRequest(text="expected {\"code\": \"G12\", \"times\": positive integer or absent}")
        member.switch_decline(code, times)
        return _json(member.to_json())

    async def stats(self, _: web.Request) -> web.Response:
        """Counters per OperateId, in-flight now and at most, faults fired, ledger sizes."""
        states = {s.value: 0 for s in TxState}
        for tx in self.ledger.transactions.values():
            states[tx.state.value] += 1
        runtime = self.runtime
        return _json({"operations": {op: asdict(c) for op, c in self.ledger.counters.items()},
                      "in_flight": runtime.in_flight, "max_in_flight": runtime.max_in_flight,
                      "held": runtime.held, "faults_applied": runtime.faults_applied,
                      "transactions": states, "members": len(self.ledger.members),
                      "tokens": len(self.ledger.tokens)})

    async def faults(self, request: web.Request) -> web.Response:
        """GET the plan, PUT a new one (JSON, see README), DELETE to clear it."""
        if request.method == "PUT":
            try:
                self.runtime.faults = FaultPlan.from_json(await _body(request))
            except (ValueError, TypeError, KeyError, AttributeError) as error:
                raise web.HTTPBadRequest(text=f"invalid fault plan: {error}") from error
        elif request.method == "DELETE":
            self.runtime.faults = FaultPlan()
        return _json(self.runtime.faults.to_json())

    async def clock(self, request: web.Request) -> web.Response:
        """GET the emulator time; POST ``{"advance_seconds": N}`` to move it forward."""
        clock = self.runtime.engine.clock
        if request.method == "POST":
            clock.advance(float((await _body(request)).get("advance_seconds", 0)))
        return _json({"now": clock.now().isoformat(), "offset_seconds": clock.offset.total_seconds()})

    async def release(self, _: web.Request) -> web.Response:
        """End every request currently held without an answer."""
        return _json({"released": self.runtime.release_held()})

    async def reset(self, _: web.Request) -> web.Response:
        """Fresh state: empty ledger, no faults, zeroed counters, real time."""
        self.runtime.reset()
        return _json({"status": "reset"})

    def register(self, router: web.UrlDispatcher) -> None:
        """Add every admin route to ``router``."""
        router.add_get("/_emulator/health", self.health)
        router.add_get("/_emulator/transactions", self.transactions)
        router.add_get("/_emulator/transactions/{process_id}", self.transaction)
        router.add_get("/_emulator/holds", self.holds)
        router.add_get("/_emulator/members", self.members)
        decline = "/_emulator/members/{merchant_id}/{kaiin_id}/decline"
        for method in ("POST", "DELETE"):
            router.add_route(method, decline, self.member_decline)
        router.add_get("/_emulator/stats", self.stats)
        for method in ("GET", "PUT", "DELETE"):
            router.add_route(method, "/_emulator/faults", self.faults)
        for method in ("GET", "POST"):
            router.add_route(method, "/_emulator/clock", self.clock)
        router.add_post("/_emulator/release", self.release)
        router.add_post("/_emulator/reset", self.reset)
