"""The chaos run's storefronts and operators: checkouts at a steady rate (card and member payments, declines,
token reuse, repeated checkout ids, subscriptions), operator captures, cancels and amount updates on completed
orders, and the shop's sales mode switched between `auth` and `auth_capture` as the run goes.

A storefront retries a checkout whose answer it did not get (connection refused or reset while checkout restarts)
with the same body, so the same checkout id: what the API's idempotency is for."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from deploy.local import demo_shop as demo

APPROVED, DECLINED = "4111111111111111", "4000000000000002"
CARDS = (APPROVED, "5555555555554444", "3530111333300000")
RETRY_FOR_S = 120.0


@dataclass(kw_only=True)
class Load:
    """What was fed and what the storefronts saw."""

    checkout_url: str
    payment_url: str
    emulator_url: str
    subscription_url: str
    rng: random.Random
    accepted: set[tuple[str, str]] = field(default_factory=set)
    tokens: list[str] = field(default_factory=list)
    scenarios: Counter = field(default_factory=Counter)
    answers: Counter = field(default_factory=Counter)
    retries: int = 0
    operator: Counter = field(default_factory=Counter)
    members: list[str] = field(default_factory=list)
    completed_auth: list[str] = field(default_factory=list)
    sent_bodies: list[dict[str, Any]] = field(default_factory=list)
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=30))

    async def token(self, card: str = APPROVED) -> str:
        response = await self._retrying("POST", f"{self.emulator_url}/_emulator/tokens",
                                        data={"CardNo": card, "CardExp": "3012", "SecCd": "123",
                                              "k_TokenNinsyoCode": demo.CREDENTIALS["token_auth_code"]})
        token = response.text.split("=", 1)[1]
        self.tokens.append(token)
        return token

    async def _retrying(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One call, repeated while the server is unreachable or restarting (5xx), up to RETRY_FOR_S."""
        deadline = time.monotonic() + RETRY_FOR_S
        while True:
            try:
                response = await self.http.request(method, url, **kwargs)
                if response.status_code < 500 or time.monotonic() > deadline:
                    return response
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
            self.retries += 1
            await asyncio.sleep(0.2 + self.rng.random() * 0.3)

    def body(self, token: str | None, **changes: Any) -> dict[str, Any]:
        body = demo.example_body(f"chaos-{uuid.uuid4().hex}", token or "")
        payment = body["payment"]
        payment["token"] = token
        for key in ("use_registered_card", "keep_card"):
            if key in changes:
                payment[key] = changes.pop(key)
        if "member_id" in changes:
            body["buyer"]["member_id"] = changes.pop("member_id")
        body.update(changes)
        return body

    async def checkout(self, body: dict[str, Any], scenario: str) -> dict[str, Any]:
        self.scenarios[scenario] += 1
        self.sent_bodies.append(body)
        response = await self._retrying("POST", f"{self.checkout_url}/v1/checkouts", params={"wait": 10},
                                        json=body, headers={"X-Storefront-Key": demo.STOREFRONT_KEY})
        answer = response.json() if "json" in response.headers.get("content-type", "") else {}
        self.answers[f"{response.status_code} {answer.get('status', answer.get('reason_code', ''))}"] += 1
        if response.status_code in (200, 202):
            self.accepted.add((body["shop_id"], body["checkout_id"]))
        if answer.get("status") == "completed" and answer.get("order_id"):
            self.completed_auth.append(answer["order_id"])
        return answer

    async def one(self) -> None:
        """One storefront action drawn by weight."""
        roll = self.rng.random()
        if roll < 0.35:
            await self.checkout(self.body(await self.token(self.rng.choice(CARDS))), "card")
        elif roll < 0.45:
            await self.checkout(self.body(await self.token(DECLINED)), "declined card")
        elif roll < 0.60 or not self.members:
            member = f"m-{uuid.uuid4().hex[:10]}"
            answer = await self.checkout(self.body(await self.token(), member_id=member), "member links card")
            if answer.get("status") == "completed":
                self.members.append(member)
        elif roll < 0.70:
            body = self.body(None, member_id=self.rng.choice(self.members), use_registered_card=True)
            await self.checkout(body, "member pays by registered card")
        elif roll < 0.75 and self.tokens:
            await self.checkout(self.body(self.rng.choice(self.tokens)), "token reused")
        elif roll < 0.80 and self.sent_bodies:
            await self.checkout(self.rng.choice(self.sent_bodies), "checkout id repeated")
        elif roll < 0.85:
            member = f"m-{uuid.uuid4().hex[:10]}"
            body = self.body(await self.token(), member_id=member, cart_type="subscription",
                             subscription={"every": 1, "unit": "month"})
            await self.checkout(body, "subscription started")
        else:
            await self.operate()

    async def operate(self) -> None:
        """An operator's capture, cancel or amount update of a completed order (refusals are fine: the order may
        be in auth_capture mode, already captured or canceled)."""
        if not self.completed_auth:
            return
        order_id = self.rng.choice(self.completed_auth)
        operator = {"X-Operator-Key": demo.OPERATOR_KEY}
        base = f"{self.payment_url}/v1/shops/{demo.SHOP_ID}/payments/{order_id}"
        action = self.rng.choice(("capture", "cancel", "update-amount"))
        if action == "update-amount":
            edit = await self._retrying("PATCH", f"{self.checkout_url}/v1/shops/{demo.SHOP_ID}/orders/{order_id}",
                                        json={"shipping_fee": self.rng.choice((300, 800))}, headers=operator)
            self.operator[f"edit {edit.status_code}"] += 1
        response = await self._retrying("POST", f"{base}/{action}", json={}, headers=operator)
        self.operator[f"{action} {response.status_code}"] += 1

    async def switch_sales_mode(self, mode: str) -> None:
        response = await self._retrying(
            "PUT", f"{self.checkout_url}/v1/shops/{demo.SHOP_ID}/payment-methods/escott_card",
            json={**demo.CARD, "sales_mode": mode}, headers={"X-Operator-Key": demo.OPERATOR_KEY})
        self.operator[f"sales mode {mode} {response.status_code}"] += 1

    async def renew(self, days: int = 32) -> None:
        """The subscription service's dev clock a month on: every active subscription's next cycle comes due."""
        response = await self._retrying("POST", f"{self.subscription_url}/dev/clock", json={"advance_days": days})
        self.operator[f"clock +{days}d {response.status_code}"] += 1

    async def feed(self, orders: int, rate: float, *, concurrency: int = 24) -> float:
        """`orders` storefront actions at `rate` per second (at most `concurrency` waiting at once); switches the
        sales mode at each quarter and moves the subscription clock at the half and at the end. Seconds taken."""
        started, limit, tasks = time.monotonic(), asyncio.Semaphore(concurrency), []

        async def bounded() -> None:
            async with limit:
                try:
                    await self.one()
                except (httpx.HTTPError, ValueError, KeyError) as error:  # counted: the run goes on
                    self.answers[f"driver error {type(error).__name__}"] += 1

        for n in range(orders):
            if n and n % max(orders // 4, 1) == 0:
                await self.switch_sales_mode("auth_capture" if (n // max(orders // 4, 1)) % 2 else "auth")
            if n == orders // 2:
                await self.renew()
            tasks.append(asyncio.create_task(bounded()))
            await asyncio.sleep(max(started + (n + 1) / rate - time.monotonic(), 0))
        await asyncio.gather(*tasks)
        try:
            await self.switch_sales_mode("auth")
            await self.renew()
        except httpx.HTTPError as error:  # counted: the judgement still runs
            self.answers[f"driver error {type(error).__name__}"] += 1
        return time.monotonic() - started

    def secrets(self) -> list[str]:
        return [*self.tokens, *CARDS, DECLINED, demo.CREDENTIALS["merchant_pass"],
                demo.CREDENTIALS["token_auth_code"]]
