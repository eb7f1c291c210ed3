"""Driving operator operations against a running payment service and reading the emulator's ledger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from pydantic import SecretStr

from contracts.envelope import Envelope
from contracts.events import OrderAmountChanged, OrderPlaced
from contracts.events.common import Line, Shipping
from services.payment.adapters.crypto import Cipher
from services.payment.adapters.escott import EscottGateway, MerchantConfig, ProcessRef, create_http_client
from tests.integration.payment.conftest import TEST_KEY
from tests.integration.payment.support import DEMO, OPERATOR_KEY, SHOP, PaymentHarness, order_placed
from tests.waiting import eventually

LIVE = ("authorized", "captured")


@dataclass
class Operations:
    h: PaymentHarness

    async def authorized(self, amount: int = 5500, sales_mode: str = "auth") -> OrderPlaced:
        """An order whose payment the service authorized (1Auth) or captured (1Gathering) at the gateway."""
        order = order_placed(token=await self.h.token(), amount=amount, sales_mode=sales_mode)
        await self.h.publish(order)
        assert (await self.h.outcome(order.order_id)).type == "payment.authorized.v1"
        return order

    async def post(self, order_id: str, operation: str, body: dict[str, Any] | None = None,
                   key: str = OPERATOR_KEY, shop_id: str = SHOP) -> httpx.Response:
        return await self.h.api.post(f"/v1/shops/{shop_id}/payments/{order_id}/{operation}", json=body or {},
                                     headers={"X-Operator-Key": key})

    async def view(self, order_id: str, **params: Any) -> dict[str, Any]:
        response = await self.h.api.get(f"/v1/shops/{SHOP}/payments/{order_id}", params=params,
                                        headers={"X-Operator-Key": OPERATOR_KEY})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    async def ledger(self, order: OrderPlaced) -> list[dict[str, Any]]:
        return await self.h.ledger(MerchantFree1=order.payment_number)

    async def live_holds(self, order: OrderPlaced) -> list[tuple[str, int]]:
        """(state, amount) of the order's live transactions at the gateway, oldest first."""
        return [(tx["state"], tx["amount"]) for tx in await self.ledger(order) if tx["state"] in LIVE]

    async def operate_ids(self, order: OrderPlaced) -> list[str]:
        """Every operation the gateway accepted for the order, across its transactions."""
        return [op["operate_id"] for tx in await self.ledger(order) for op in tx["history"]]

    async def edit_order(self, order: OrderPlaced, amount: int) -> Envelope:
        """What checkout emits after an operator edits the order to a new total; waits until payment knows."""
        event = OrderAmountChanged(
            order_id=order.order_id, shop_id=order.shop_id, checkout_id=order.checkout_id,
            payment_number=order.payment_number, previous_amount=order.amount, amount=amount,
            lines=[Line(sku="TEA-1", name="煎茶", unit_price=amount, quantity=1)],
            shipping=Shipping(carrier_id="yamato", fee=0, recipient_name="山田 太郎", postal_code="100-0001",
                              prefecture="東京都", city="千代田区", address_line1="千代田1-1"))
        envelope = await self.h.publish(event)
        await self.h.consumed(envelope)
        return envelope

    def events(self, order: OrderPlaced, type_name: str) -> list[Envelope]:
        return [e for e in self.h.events_of(order.order_id) if e.type == type_name]

    async def event(self, order: OrderPlaced, type_name: str, count: int = 1) -> list[Envelope]:
        async def arrived() -> list[Envelope]:
            found = self.events(order, type_name)
            return found if len(found) >= count else []

        return await eventually(arrived, timeout=15, message=f"{count} x {type_name} for {order.order_id}")

    async def cancel_behind_our_back(self, order: OrderPlaced) -> None:
        """Void the hold in 'Sony's screen' (directly at the gateway, with the stored pair)."""
        conn = await asyncpg.connect(self.h.database_url)
        try:
            row = await conn.fetchrow("SELECT process_id, process_pass_enc FROM payments WHERE order_id = $1",
                                      order.order_id)
        finally:
            await conn.close()
        ref = ProcessRef(row["process_id"], Cipher(SecretStr(TEST_KEY)).decrypt(row["process_pass_enc"]))
        async with create_http_client() as http:
            merchant = MerchantConfig(DEMO["merchant_id"], SecretStr(DEMO["merchant_pass"]))
            assert (await EscottGateway(http, self.h.emulator.url).cancel(merchant, ref)).ok
