"""`OrderRepository` on PostgreSQL: searchable columns plus the checkout request as JSON (never the token).

A renewal order's cycle has its own columns; UNIQUE (subscription_id, cycle_no) is what makes a second order of
one cycle impossible (I4), even for two replicas racing on the same `RenewalOrderRequested`."""

from __future__ import annotations

import json
from datetime import date

import asyncpg

from services.checkout.adapters.postgres import codec
from services.checkout.domain import values as v
from services.checkout.domain.order import Order, OrderStatus, PaymentStatus, RenewalCycle
from services.checkout.ports import DayCounts, OrderQuery

_COLUMNS = """order_id, shop_id, checkout_id, status, payment_status, version, placed_at, payment_number, amount,
request, pay_type, payment_method_name, sales_mode, card_link_mode, reason_code, reason, buyer_message,
transaction_id, approval_number, gateway_codes, attempt_id, anomaly, payment_amount, failed_operation, subscription_id,
cycle_no, scheduled_for, first_order_id, payment_skip_reason, retry_at, authentication"""
_GET = f"SELECT {_COLUMNS} FROM orders WHERE order_id = $1"  # noqa: S608 - constant column list, $n params
_GET_FOR_UPDATE = _GET + " FOR UPDATE"
_BY_CHECKOUT = f"SELECT {_COLUMNS} FROM orders WHERE shop_id = $1 AND checkout_id = $2"  # noqa: S608 - as above
_BY_CYCLE = f"SELECT {_COLUMNS} FROM orders WHERE subscription_id = $1 AND cycle_no = $2"  # noqa: S608 - as above
_INSERT = """
INSERT INTO orders (order_id, shop_id, checkout_id, status, payment_status, version, placed_at, payment_number,
                    amount, request, pay_type, payment_method_name, sales_mode, card_link_mode, reason_code, reason,
                    buyer_message, transaction_id, approval_number, gateway_codes, attempt_id, anomaly,
                    order_date, cart_type, buyer_name, buyer_name_kana, buyer_email, member_id,
                    origin, subscription_id, cycle_no, scheduled_for, first_order_id, payment_skip_reason, retry_at,
                    authentication)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20::jsonb,
        $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36::jsonb)
ON CONFLICT DO NOTHING
RETURNING true
"""
_UPDATE = """
UPDATE orders SET status = $2, payment_status = $3, version = $4, reason_code = $5, reason = $6,
                  buyer_message = $7, transaction_id = $8, approval_number = $9, gateway_codes = $10::jsonb,
                  attempt_id = $11, anomaly = $12, payment_amount = $13, amount = $14, request = $15::jsonb,
                  failed_operation = $16::jsonb, retry_at = $17, payment_skip_reason = $18,
                  authentication = $19::jsonb, updated_at = now()
WHERE order_id = $1
"""
_NEXT_SEQUENCE = "SELECT nextval('payment_number_seq')"
_SEARCH = f"""
SELECT {_COLUMNS} FROM orders
WHERE shop_id = $1
  AND ($2::text IS NULL OR payment_number = $2)
  AND ($3::text IS NULL OR status = $3)
  AND ($4::date IS NULL OR order_date >= $4)
  AND ($5::date IS NULL OR order_date <= $5)
  AND ($6::text IS NULL OR buyer_name ILIKE $6 OR buyer_name_kana ILIKE $6 OR buyer_email ILIKE $6)
ORDER BY placed_at DESC, order_id
LIMIT $7 OFFSET $8
"""  # noqa: S608 - constant column list; every criterion is a $n parameter
_DAY_STATUSES = """
SELECT status, count(*)::int AS orders FROM orders WHERE shop_id = $1 AND order_date = $2 GROUP BY status
"""
_DAY_DECLINES = """
SELECT buyer_message, code, count(*)::int AS orders
FROM orders CROSS JOIN LATERAL jsonb_array_elements_text(gateway_codes) AS code
WHERE shop_id = $1 AND order_date = $2 AND status IN ('rejected', 'payment_failed')
GROUP BY buyer_message, code
ORDER BY orders DESC, code, buyer_message NULLS LAST
"""


class PostgresOrders:
    def __init__(self, conn: asyncpg.Connection):
        self._conn = conn

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        return _order(await self._conn.fetchrow(_GET_FOR_UPDATE if for_update else _GET, order_id))

    async def by_checkout(self, shop_id: str, checkout_id: str) -> Order | None:
        return _order(await self._conn.fetchrow(_BY_CHECKOUT, shop_id, checkout_id))

    async def by_cycle(self, subscription_id: str, cycle_no: int) -> Order | None:
        return _order(await self._conn.fetchrow(_BY_CYCLE, subscription_id, cycle_no))

    async def add(self, order: Order) -> bool:
        """False if the order id, (shop, checkout_id) or the renewal's (subscription_id, cycle_no) already exists:
        the first outcome stands."""
        return bool(await self._conn.fetchval(_INSERT, *_insert_values(order)))

    async def save(self, order: Order) -> None:
        await self._conn.execute(_UPDATE, *_update_values(order))

    async def next_payment_sequence(self) -> int:
        return int(await self._conn.fetchval(_NEXT_SEQUENCE))

    async def day_counts(self, shop_id: str, day: date) -> DayCounts:
        statuses = await self._conn.fetch(_DAY_STATUSES, shop_id, day)
        declines = await self._conn.fetch(_DAY_DECLINES, shop_id, day)
        return DayCounts(by_status={r["status"]: r["orders"] for r in statuses},
                         declines=[(r["buyer_message"], r["code"], r["orders"]) for r in declines])

    async def search(self, shop_id: str, query: OrderQuery) -> list[Order]:
        buyer = f"%{_escape_like(query.buyer)}%" if query.buyer else None
        values = (shop_id, query.payment_number, query.status, query.date_from, query.date_to, buyer, query.limit,
                  query.offset)
        rows = await self._conn.fetch(_SEARCH, *values)
        return [order for order in map(_order, rows) if order is not None]
def _insert_values(order: Order) -> tuple[object, ...]:
    """$1-$36 of `_INSERT`: the order, its request as JSON, the request's searchable columns and the renewal's."""
    request, renewal = order.request, order.renewal
    return (
        order.order_id, order.shop_id, order.checkout_id, order.status, order.payment_status, order.version,
        order.placed_at, order.payment_number, order.amount, codec.request_to_json(request), order.pay_type,
        order.payment_method_name, order.sales_mode, order.card_link_mode, order.reason_code, order.reason,
        order.buyer_message, order.transaction_id, order.approval_number, json.dumps(list(order.gateway_codes)),
        order.attempt_id, order.anomaly, order.order_date, request.cart_type, request.buyer.name,
        request.buyer.name_kana, request.buyer.email, request.buyer.member_id, order.origin,
        renewal.subscription_id if renewal else None, renewal.cycle_no if renewal else None,
        renewal.scheduled_for if renewal else None, renewal.first_order_id if renewal else None,
        order.payment_skip_reason, order.retry_at, codec.authentication_to_json(order.authentication),
    )  # fmt: skip


def _update_values(order: Order) -> tuple[object, ...]:
    """$1-$19 of `_UPDATE`: what a decision or an edit may change."""
    return (
        order.order_id, order.status, order.payment_status, order.version, order.reason_code, order.reason,
        order.buyer_message, order.transaction_id, order.approval_number, json.dumps(list(order.gateway_codes)),
        order.attempt_id, order.anomaly, order.payment_amount, order.amount, codec.request_to_json(order.request),
        codec.failed_operation_to_json(order.failed_operation), order.retry_at, order.payment_skip_reason,
        codec.authentication_to_json(order.authentication),
    )  # fmt: skip


def _escape_like(text: str) -> str:
    """Buyer search is "contains": the operator's text is matched literally, wildcards included."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _order(row: asyncpg.Record | None) -> Order | None:
    if row is None:
        return None
    return Order(
        order_id=row["order_id"], shop_id=row["shop_id"], checkout_id=row["checkout_id"],
        request=codec.request_from_json(row["request"]), status=OrderStatus(row["status"]),
        placed_at=row["placed_at"], payment_status=PaymentStatus(row["payment_status"]), amount=row["amount"],
        payment_number=row["payment_number"], pay_type=row["pay_type"],
        payment_method_name=row["payment_method_name"],
        sales_mode=v.SalesMode(row["sales_mode"]) if row["sales_mode"] else None,
        card_link_mode=v.CardLinkMode(row["card_link_mode"]) if row["card_link_mode"] else None,
        reason_code=row["reason_code"], reason=row["reason"], buyer_message=row["buyer_message"],
        transaction_id=row["transaction_id"], approval_number=row["approval_number"],
        gateway_codes=tuple(json.loads(row["gateway_codes"])), attempt_id=row["attempt_id"],
        anomaly=row["anomaly"], version=row["version"], payment_amount=row["payment_amount"],
        failed_operation=codec.failed_operation_from_json(row["failed_operation"]), renewal=_renewal(row),
        payment_skip_reason=row["payment_skip_reason"], retry_at=row["retry_at"],
        authentication=codec.authentication_from_json(row["authentication"]),
    )  # fmt: skip


def _renewal(row: asyncpg.Record) -> RenewalCycle | None:
    if row["subscription_id"] is None:
        return None
    return RenewalCycle(subscription_id=row["subscription_id"], cycle_no=row["cycle_no"],
                        scheduled_for=row["scheduled_for"], first_order_id=row["first_order_id"])
