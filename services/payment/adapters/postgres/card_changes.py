"""Card changes without an order (`card_changes`, design §6.8) and the members' subscriptions projected from
`subscriptions.events` (`member_subscriptions`, R18's delete guard), in PostgreSQL.

The card before and after a change is JSON written field by field (masked number, expiry month, brand: never the
number). One open change per shop member is a partial unique index, so two changes of one member cannot both
start even if the member lease were lost.
"""

from __future__ import annotations

import json
from uuid import UUID

import asyncpg

from services.payment.adapters.postgres.codec import authentication_from_json, authentication_to_json
from services.payment.domain.card_changes import (
    OPEN_STATES,
    CardChange,
    ChangeKind,
    ChangeSource,
    ChangeState,
)
from services.payment.domain.card_face import CardFace
from services.payment.domain.card_rules import KEEPS_CARD
from services.payment.domain.gateway import GatewayOperation
from services.payment.ports import SubscriptionStatus

_OPEN = [s.value for s in OPEN_STATES]
_KEEPS = sorted(KEEPS_CARD)
_GET = "SELECT * FROM card_changes WHERE change_id = $1"
_GET_LOCKED = _GET + " FOR UPDATE"
_COLUMNS = ("change_id, shop_id, member_id, kind, source, requested_by, kaiin_id, state, step, attempt_id, unsent, "
            "before_card, after_card, codes, reason, created_at, updated_at, version, authentication")


def _face_json(face: CardFace | None) -> str | None:
    if face is None:
        return None
    return json.dumps({"masked": face.masked, "expiry": face.expiry, "brand": face.brand})


def _face(raw: str | None) -> CardFace | None:
    if raw is None:
        return None
    data = json.loads(raw)
    return CardFace(masked=data["masked"], expiry=data["expiry"], brand=data["brand"])


def _change(r: asyncpg.Record) -> CardChange:
    return CardChange(
        change_id=str(r["change_id"]), shop_id=r["shop_id"], member_id=r["member_id"], kind=ChangeKind(r["kind"]),
        source=ChangeSource(r["source"]), requested_by=r["requested_by"], kaiin_id=r["kaiin_id"],
        state=ChangeState(r["state"]), step=GatewayOperation(r["step"]),
        attempt_id=str(r["attempt_id"]) if r["attempt_id"] else None, unsent=r["unsent"],
        before=_face(r["before_card"]), after=_face(r["after_card"]), codes=tuple(r["codes"]), reason=r["reason"],
        created_at=r["created_at"], updated_at=r["updated_at"], version=r["version"],
        authentication=authentication_from_json(r["authentication"]))


def _values(c: CardChange, version: int) -> tuple[object, ...]:
    return (UUID(c.change_id), c.shop_id, c.member_id, c.kind.value, c.source.value, c.requested_by, c.kaiin_id,
            c.state.value, c.step.value, UUID(c.attempt_id) if c.attempt_id else None, c.unsent,
            _face_json(c.before), _face_json(c.after), list(c.codes), c.reason, c.created_at,
            c.updated_at or c.created_at, version, authentication_to_json(c.authentication))


class CardChangesSql:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def add(self, change: CardChange) -> CardChange:
        row = await self._conn.fetchrow(
            f"INSERT INTO card_changes ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "  # noqa: S608 - constant columns
            "$14, $15, $16, $17, $18, $19) RETURNING *", *_values(change, 1))
        return _change(row)

    async def save(self, change: CardChange) -> CardChange:
        """Write what a change's progress moves (its identity never changes), with version + 1."""
        c = change
        row = await self._conn.fetchrow(
            "UPDATE card_changes SET state = $2, step = $3, attempt_id = $4, unsent = $5, before_card = $6, "
            "after_card = $7, codes = $8, reason = $9, updated_at = $10, authentication = $11, version = version + 1 "
            "WHERE change_id = $1 RETURNING *", UUID(c.change_id), c.state.value, c.step.value,
            UUID(c.attempt_id) if c.attempt_id else None, c.unsent, _face_json(c.before), _face_json(c.after),
            list(c.codes), c.reason, c.updated_at or c.created_at, authentication_to_json(c.authentication))
        return _change(row) if row else change

    async def get(self, change_id: str, *, lock: bool = False) -> CardChange | None:
        query = _GET_LOCKED if lock else _GET
        row = await self._conn.fetchrow(query, UUID(change_id))
        return _change(row) if row else None

    async def open_for(self, shop_id: str, member_id: str) -> CardChange | None:
        row = await self._conn.fetchrow(
            "SELECT * FROM card_changes WHERE shop_id = $1 AND member_id = $2 AND state = ANY($3::text[])",
            shop_id, member_id, _OPEN)
        return _change(row) if row else None


class MemberSubscriptionsSql:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def record(self, status: SubscriptionStatus) -> bool:
        """The newest status wins: an event older than the kept one (a lower subject_version) changes nothing."""
        applied = await self._conn.fetchval(
            "INSERT INTO member_subscriptions AS s (subscription_id, shop_id, member_id, status, version) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subscription_id) DO UPDATE SET shop_id = $2, member_id = $3, "
            "status = $4, version = $5, updated_at = now() WHERE s.version <= $5 RETURNING true",
            status.subscription_id, status.shop_id, status.member_id, status.status, status.version)
        return bool(applied)

    async def keeping_card(self, shop_id: str, member_id: str) -> list[str]:
        rows = await self._conn.fetch(
            "SELECT subscription_id FROM member_subscriptions WHERE shop_id = $1 AND member_id = $2 "
            "AND status = ANY($3::text[]) ORDER BY subscription_id", shop_id, member_id, _KEEPS)
        return [r["subscription_id"] for r in rows]
