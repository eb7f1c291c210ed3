"""A deployed system completes an order: the scripted check of `make test-deploy` (compose and kube play).

    CHECKOUT_ADMIN_TOKEN=... python -m deploy.checks.order --checkout-url URL --emulator-url URL \
        --smtp-sink-url URL [--timeout 240]

Waits (bounded) until checkout answers /health, seeds the demo shop through checkout's admin API (which also
hands the shop's operator key to payment and notification: a wrong internal token fails here), mints a card
token at the emulator, places the demo order and waits for its outcome (`completed`), then waits for the two
mails of that order (buyer and shop copy) at the SMTP sink. Prints what it saw; exit status 0 only if all held.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

from deploy.local import demo_shop as demo

T = TypeVar("T")


class CheckFailed(Exception):
    pass


async def eventually(probe: Callable[[], Awaitable[T | None]], *, timeout: float, what: str) -> T:
    """The first non-None result of `probe`, polled until `timeout`; errors count as "not yet"."""
    deadline, last = time.monotonic() + timeout, "no answer"
    while time.monotonic() < deadline:
        try:
            found = await probe()
        except httpx.HTTPError as exc:
            found, last = None, f"{type(exc).__name__}: {exc}"
        if found is not None:
            return found
        await asyncio.sleep(1.0)
    raise CheckFailed(f"{what}: not within {timeout:.0f}s ({last})")


async def place_order(client: httpx.AsyncClient, args: argparse.Namespace) -> dict:
    minted = await client.post(f"{args.emulator_url}/_emulator/tokens", data={
        "CardNo": "4111111111111111", "CardExp": "3012", "SecCd": "123",
        "k_TokenNinsyoCode": demo.CREDENTIALS["token_auth_code"]})
    minted.raise_for_status()
    body = demo.example_body(f"deploy-check-{uuid.uuid4().hex}", minted.text.split("=", 1)[1])
    response = await client.post(f"{args.checkout_url}/v1/checkouts", params={"wait": 20}, json=body,
                                 headers={"X-Storefront-Key": demo.STOREFRONT_KEY})
    outcome = response.json()
    if response.status_code != 200 or outcome.get("status") != "completed":
        raise CheckFailed(f"order not completed: HTTP {response.status_code} {outcome}")
    return outcome


async def run(args: argparse.Namespace) -> None:
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=40) as client:

        async def healthy() -> bool | None:
            return True if (await client.get(f"{args.checkout_url}/health")).status_code == 200 else None

        await eventually(healthy, timeout=args.timeout, what="checkout /health")
        print(f"checkout healthy after {time.monotonic() - started:.1f}s", flush=True)

        async def seeded() -> bool | None:  # payment and notification may still be starting: retry
            try:
                async with httpx.AsyncClient(base_url=args.checkout_url, timeout=15) as admin:
                    await demo.seed(admin, args.admin_token)
            except demo.SeedError as exc:
                print(f"  not yet: {exc}", flush=True)
                return None
            return True

        await eventually(seeded, timeout=args.timeout, what="demo shop seeded")
        outcome = await place_order(client, args)
        print(f"order {outcome['order_id']} {outcome['status']} after {time.monotonic() - started:.1f}s", flush=True)

        async def mails() -> list[dict] | None:
            listed = (await client.get(f"{args.smtp_sink_url}/messages")).json()
            found = [m for m in listed if m.get("order_id") == outcome["order_id"]]
            return found if len(found) >= 2 else None

        found = await eventually(mails, timeout=60, what=f"two mails of order {outcome['order_id']}")
        print(f"mails to {sorted(m['rcpt_to'][0] for m in found)} "
              f"after {time.monotonic() - started:.1f}s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.checks.order", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout-url", required=True)
    parser.add_argument("--emulator-url", required=True)
    parser.add_argument("--smtp-sink-url", required=True)
    parser.add_argument("--admin-token", default=os.environ.get("CHECKOUT_ADMIN_TOKEN", ""))
    parser.add_argument("--timeout", type=float, default=240.0, help="for the stack to come up")
    args = parser.parse_args(argv)
    try:
        asyncio.run(run(args))
    except CheckFailed as exc:
        print(f"FAILED: {exc}", flush=True)
        return 1
    print("OK: an order completed and its mails arrived", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
