"""Payments in PostgreSQL: one row per order, nested action values as JSON (`codec.py`), secrets encrypted."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import SecretStr

from services.payment.adapters.crypto import Cipher
from services.payment.adapters.postgres import codec
from services.payment.domain.cards import CardPlan, CardSource
from services.payment.domain.gateway import GatewayOperation, SalesMode
from services.payment.domain.model import Cleanup, Payment, PaymentState
from services.payment.ports import ProcessKey

_INSERT = """
INSERT INTO payments (order_id, shop_id, payment_number, amount, pay_type, sales_mode, buyer_name, member_id,
    card_source, link_operation, unlink_after, unlink_reason, kaiin_id, state, linked, cleanup, unsent,
    transaction_id, approval_number, process_id, codes, reason, buyer_message, resolution, version, order_total,
    sales_date, in_progress, unknown_operation, previous_hold, renewal, correlation_id, card_read_due,
    authentication)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
    $24, $25, $26, $27, $28::jsonb, $29::jsonb, $30::jsonb, $31, $32, $33, $34::jsonb)
"""
_UPDATE = """
UPDATE payments SET shop_id = $2, payment_number = $3, amount = $4, pay_type = $5, sales_mode = $6,
    buyer_name = $7, member_id = $8, card_source = $9, link_operation = $10, unlink_after = $11,
    unlink_reason = $12, kaiin_id = $13, state = $14, linked = $15, cleanup = $16, unsent = $17,
    transaction_id = $18, approval_number = $19, process_id = $20, codes = $21, reason = $22, buyer_message = $23,
    resolution = $24, version = $25, order_total = $26, sales_date = $27, in_progress = $28::jsonb,
    unknown_operation = $29::jsonb, previous_hold = $30::jsonb, renewal = $31,
    previous_pass_enc = CASE WHEN $33 THEN process_pass_enc WHEN $30::jsonb IS NULL THEN NULL
                             ELSE previous_pass_enc END,
    process_pass_enc = COALESCE($32, process_pass_enc), card_read_due = $34, authentication = $35::jsonb,
    updated_at = now()
WHERE order_id = $1
"""


def _values(p: Payment) -> tuple[Any, ...]:
    plan = p.plan
    return (p.order_id, p.shop_id, p.payment_number, p.amount, p.pay_type, p.sales_mode.value, p.buyer_name,
            p.member_id, plan.source.value if plan else None, plan.link.value if plan and plan.link else None,
            bool(plan and plan.unlink_after), plan.unlink_reason if plan else None, p.kaiin_id, p.state.value,
            p.linked, p.cleanup.value, p.unsent, p.transaction_id, p.approval_number, p.process_id,
            list(p.codes), p.reason, p.buyer_message, p.resolution, p.version, p.order_total, p.sales_date,
            codec.running_to_json(p.running_action), codec.unknown_to_json(p.unknown_action),
            codec.previous_to_json(p.previous_hold), p.renewal)


def _payment(r: asyncpg.Record) -> Payment:
    plan = None
    if r["card_source"] is not None:
        link = GatewayOperation(r["link_operation"]) if r["link_operation"] else None
        plan = CardPlan(source=CardSource(r["card_source"]), link=link, unlink_after=r["unlink_after"],
                        unlink_reason=r["unlink_reason"])
    return Payment(
        order_id=r["order_id"], shop_id=r["shop_id"], payment_number=r["payment_number"], amount=r["amount"],
        pay_type=r["pay_type"], sales_mode=SalesMode(r["sales_mode"]), buyer_name=r["buyer_name"],
        member_id=r["member_id"], renewal=r["renewal"], plan=plan, kaiin_id=r["kaiin_id"],
        state=PaymentState(r["state"]), linked=r["linked"], cleanup=Cleanup(r["cleanup"]), unsent=r["unsent"],
        transaction_id=r["transaction_id"],
        approval_number=r["approval_number"], process_id=r["process_id"], codes=tuple(r["codes"]),
        reason=r["reason"], buyer_message=r["buyer_message"], resolution=r["resolution"], version=r["version"],
        order_total=r["order_total"], sales_date=r["sales_date"],
        running_action=codec.running_from_json(r["in_progress"]),
        unknown_action=codec.unknown_from_json(r["unknown_operation"]),
        previous_hold=codec.previous_from_json(r["previous_hold"]), card_read_due=r["card_read_due"],
        authentication=codec.authentication_from_json(r["authentication"]))


_NEEDING_OPERATOR = """
SELECT * FROM payments
WHERE shop_id = $1 AND (state = 'unknown' OR unknown_operation IS NOT NULL
                        OR previous_hold ->> 'state' = 'release_failed')
ORDER BY updated_at, order_id LIMIT $2
"""


class PaymentsSql:
    def __init__(self, conn: asyncpg.Connection, cipher: Cipher) -> None:
        self._conn = conn
        self._cipher = cipher

    async def get(self, order_id: str, *, lock: bool = False) -> Payment | None:
        sql = "SELECT * FROM payments WHERE order_id = $1 FOR UPDATE" if lock else \
            "SELECT * FROM payments WHERE order_id = $1"
        row = await self._conn.fetchrow(sql, order_id)
        return _payment(row) if row else None

    async def stuck(self, *, sending_before: datetime, limit: int) -> list[Payment]:
        rows = await self._conn.fetch(
            "SELECT p.* FROM payments p WHERE p.state = 'pending' AND EXISTS (SELECT 1 FROM gateway_attempts a "
            "WHERE a.order_id = p.order_id AND a.status = 'sending' AND a.action IS NULL AND a.started_at < $1) "
            "ORDER BY p.updated_at LIMIT $2 FOR UPDATE OF p SKIP LOCKED", sending_before, limit)
        return [_payment(r) for r in rows]

    async def note_janitor_finding(self, order_id: str, *, state: str) -> None:
        await self._conn.execute("INSERT INTO janitor_findings (order_id, state) VALUES ($1, $2)", order_id, state)

    async def add(self, payment: Payment, *, correlation_id: str) -> Payment:
        """Insert the new payment as version 1; a second insert for the same order fails (primary key)."""
        added = replace(payment, version=1)
        await self._conn.execute(_INSERT, *_values(added), correlation_id, added.card_read_due,
                                 codec.authentication_to_json(added.authentication))
        return added

    async def save(self, payment: Payment, *, process_pass: SecretStr | None = None,
                   retire_pass: bool = False) -> Payment:
        """Write the new state with version + 1; a ProcessPass is stored encrypted, never in clear.

        `retire_pass`: the stored ProcessPass now belongs to the previous hold (1ReAuth made a new one); it is
        kept, encrypted, until that hold is released, then dropped with it.
        """
        saved = replace(payment, version=payment.version + 1)
        encrypted = self._cipher.encrypt(process_pass) if process_pass is not None else None
        await self._conn.execute(_UPDATE, *_values(saved), encrypted, retire_pass, saved.card_read_due,
                                 codec.authentication_to_json(saved.authentication))
        return saved

    async def process_key(self, order_id: str, *, previous: bool = False) -> ProcessKey | None:
        """The pair naming the current hold, or with `previous` the hold an amount update replaced."""
        row = await self._conn.fetchrow(
            "SELECT process_id, process_pass_enc, previous_hold ->> 'process_id' AS previous_id, previous_pass_enc "
            "FROM payments WHERE order_id = $1", order_id)
        if row is None:
            return None
        pid, enc = (row["previous_id"], row["previous_pass_enc"]) if previous else \
            (row["process_id"], row["process_pass_enc"])
        return ProcessKey(pid, self._cipher.decrypt(enc)) if pid is not None and enc is not None else None

    async def keep_token(self, order_id: str, sealed: str | None) -> None:
        """Keep the order's card token (sealed) while 3-D Secure runs; None drops it once the charge was sent."""
        await self._conn.execute("UPDATE payments SET token_sealed = $2 WHERE order_id = $1", order_id, sealed)

    async def kept_token(self, order_id: str) -> str | None:
        value = await self._conn.fetchval("SELECT token_sealed FROM payments WHERE order_id = $1", order_id)
        return str(value) if value is not None else None

    async def authentication_overdue(self, now: datetime, *, limit: int = 100) -> list[str]:
        """Orders whose 3-D Secure deadline passed without a return, oldest first, skipping locked rows (replicas)."""
        rows = await self._conn.fetch(
            "SELECT order_id FROM payments WHERE state = 'awaiting_authentication' "
            "AND (authentication ->> 'deadline')::timestamptz <= $1 "
            "ORDER BY (authentication ->> 'deadline') LIMIT $2 FOR UPDATE SKIP LOCKED", now, limit)
        return [row["order_id"] for row in rows]

    async def correlation_id(self, order_id: str) -> str | None:
        value = await self._conn.fetchval("SELECT correlation_id FROM payments WHERE order_id = $1", order_id)
        return str(value) if value is not None else None

    async def needing_operator(self, shop_id: str, *, limit: int) -> list[Payment]:
        return [_payment(r) for r in await self._conn.fetch(_NEEDING_OPERATOR, shop_id, limit)]
