"""`MailLog` on PostgreSQL (asyncpg): order snapshots, the shop and member projections and the mail log, through
the connection of the unit of work (`uow.py`), which owns the transaction."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from delivery.tracing import current_traceparent
from services.notification.adapters.postgres import sql
from services.notification.domain.kinds import CARD_KINDS
from services.notification.domain.model import Mail, MailContent, MailStatus, ShopProfile
from services.notification.domain.notices import MemberContact
from services.notification.ports import NextMailEvent, OrderSnapshot, OrderSource


class PostgresMailLog:
    """The notification tables through one connection; the caller owns the transaction."""

    def __init__(self, conn: asyncpg.Connection):
        self._conn = conn
        self._claimed_snapshots: dict[str, str] = {}
        self._claimed_shops: dict[str, ShopProfile] = {}
        """What `claim_due` read with the mails it claimed (snapshots as stored JSON, shops), for composing them in
        this transaction without asking again: snapshots never change once kept; a shop read with the claim is as
        current as one read a moment later."""

    async def add_order(self, *, order_id: str, shop_id: str, source: OrderSource, snapshot: OrderSnapshot) -> None:
        await self._conn.execute(sql.ADD_ORDER, order_id, shop_id, source.event_id, source.correlation_id,
                                 json.dumps(snapshot, ensure_ascii=False))

    async def order_snapshot(self, order_id: str) -> OrderSnapshot | None:
        snapshot = self._claimed_snapshots.get(order_id) or await self._conn.fetchval(sql.ORDER_SNAPSHOT, order_id)
        return json.loads(snapshot) if snapshot is not None else None

    async def next_mail_event(self, order_id: str) -> NextMailEvent:
        row = await self._conn.fetchrow(sql.NEXT_EVENT_VERSION, order_id)
        if row is None:
            raise LookupError(f"no order {order_id!r} in the mail log")
        source = OrderSource(event_id=row["event_id"], correlation_id=row["correlation_id"])
        return NextMailEvent(source=source, version=row["version"])

    async def add_mail(self, mail: Mail) -> bool:
        return await self.add_mails([mail]) == 1

    async def add_mails(self, mails: Sequence[Mail]) -> int:
        columns = zip(*(_mail_params(m) for m in mails), strict=True)
        return int(await self._conn.fetchval(sql.ADD_MAILS, *map(list, columns)))

    async def get_mail(self, mail_id: str) -> Mail | None:
        row = await self._conn.fetchrow(sql.GET_MAIL, UUID(mail_id))
        return _mail(row) if row is not None else None

    async def list_mails(self, *, shop_id: str, order_id: str | None = None, status: str | None = None,
                         limit: int = 100) -> list[Mail]:
        return [_mail(r) for r in await self._conn.fetch(sql.LIST_MAILS, shop_id, order_id, status, limit)]

    async def claim_due(self, *, now: datetime, limit: int, held: Collection[str] = ()) -> list[Mail]:
        rows = await self._conn.fetch(sql.CLAIM_DUE, now, limit, [UUID(m) for m in held])
        for row in rows:
            if row["order_snapshot"] is not None:
                self._claimed_snapshots[row["order_id"]] = row["order_snapshot"]
            if row["shop_shop_id"] is not None:
                self._claimed_shops[row["shop_id"]] = ShopProfile(
                    **{field: row[f"shop_{field}"] for field in SHOP_FIELDS})
        return [_mail(r) for r in rows]

    async def save_mail(self, mail: Mail, *, expected_attempts: int | None = None) -> bool:
        c = mail.content
        saved = await self._conn.fetchval(
            sql.SAVE_MAIL, UUID(mail.mail_id), mail.status.value, mail.recipient,
            c and c.sender_address, c and c.sender_name, c and c.reply_to, c and c.subject, c and c.text,
            c and c.html, mail.attempts, mail.recoveries, mail.next_attempt_at, mail.lease_until, mail.last_error,
            mail.smtp_response, mail.permanent_failure, expected_attempts, mail.sent_at,
        )
        return bool(saved)

    async def shop(self, shop_id: str) -> ShopProfile | None:
        if (claimed := self._claimed_shops.get(shop_id)) is not None:
            return claimed
        row = await self._conn.fetchrow(sql.GET_SHOP, shop_id)
        return ShopProfile(**dict(row)) if row is not None else None

    async def save_shop(self, shop: ShopProfile, *, as_of: datetime) -> bool:
        self._claimed_shops.pop(shop.shop_id, None)
        return bool(await self._conn.fetchval(
            sql.SAVE_SHOP, shop.shop_id, shop.shop_name, shop.sender_address, shop.sender_name,
            shop.shop_copy_address, shop.payment_method_name, shop.note_text, shop.note_in_thanks_mail,
            shop.notify_buyer_on_failure, shop.notify_card_changes, as_of,
        ))

    async def retry_waiting_for_shop(self, shop_id: str, *, now: datetime) -> int:
        status = await self._conn.execute(sql.RETRY_WAITING_FOR_SHOP, shop_id, now)
        return int(status.split()[-1])

    async def member_contact(self, shop_id: str, member_id: str) -> MemberContact | None:
        row = await self._conn.fetchrow(sql.GET_MEMBER, shop_id, member_id)
        if row is None:
            return None
        return MemberContact(shop_id=row["shop_id"], member_id=row["member_id"], name=row["buyer_name"],
                             email=row["buyer_email"], as_of=row["as_of"])

    async def save_member_contact(self, contact: MemberContact) -> bool:
        return bool(await self._conn.fetchval(sql.SAVE_MEMBER, contact.shop_id, contact.member_id, contact.name,
                                              contact.email, contact.as_of))

    async def retry_waiting_for_member(self, shop_id: str, member_id: str, *, now: datetime) -> int:
        status = await self._conn.execute(sql.RETRY_WAITING_FOR_MEMBER, shop_id, member_id, now, list(CARD_KINDS))
        return int(status.split()[-1])


SHOP_FIELDS = tuple(f.name for f in dataclasses.fields(ShopProfile))


def _mail_params(mail: Mail) -> tuple[Any, ...]:
    c = mail.content
    return (
        UUID(mail.mail_id), mail.order_id, mail.shop_id, mail.kind, UUID(mail.resend_of) if mail.resend_of else None,
        mail.status.value, mail.message_id, mail.recipient, c and c.sender_address, c and c.sender_name,
        c and c.reply_to, c and c.subject, c and c.text, c and c.html, mail.attempts, mail.recoveries,
        mail.next_attempt_at, mail.lease_until, mail.last_error, mail.smtp_response, mail.permanent_failure,
        mail.created_at, mail.sent_at, mail.trace or current_traceparent(),
    )


def _mail(row: asyncpg.Record) -> Mail:
    content = None
    if row["subject"] is not None:
        content = MailContent(sender_address=row["sender_address"], sender_name=row["sender_name"],
                              recipient=row["recipient"], subject=row["subject"], text=row["body_text"],
                              html=row["body_html"], reply_to=row["reply_to"])
    return Mail(
        mail_id=str(row["mail_id"]), order_id=row["order_id"], shop_id=row["shop_id"], kind=row["kind"],
        message_id=row["message_id"], created_at=row["created_at"], status=MailStatus(row["status"]),
        recipient=row["recipient"], resend_of=str(row["resend_of"]) if row["resend_of"] else None, content=content,
        attempts=row["attempts"], recoveries=row["recoveries"], next_attempt_at=row["next_attempt_at"],
        lease_until=row["lease_until"], last_error=row["last_error"], smtp_response=row["smtp_response"],
        permanent_failure=row["permanent_failure"], sent_at=row["sent_at"], trace=row.get("trace_parent"),
    )
