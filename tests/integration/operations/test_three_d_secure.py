"""EMV 3-D Secure end to end without a browser (design §6.7): checkout answers action_required, the buyer's
browser (plain HTTP here; Chromium in tests/integration/escott/test_browser_three_d_secure.py) goes through the
emulator, the return reaches payment's public endpoint, and the order completes or is rejected; replayed, forged
and late returns change nothing; abandoned authentications expire at the deadline."""

from __future__ import annotations

import pytest

from tests.integration.operations.three_d_secure_support import CHALLENGE, tds_system

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
RETURN_URL = "https://tea.example.jp/checkout/done"
CARD_COMPANY = "クレジットカード会社にお問い合わせください"
SHOP = "ショップ様にお問い合わせください"


async def test_a_new_card_goes_through_3ds_and_one_1auth_carries_the_result(new_database, isolated_kafka) -> None:
    async with tds_system(new_database, isolated_kafka) as system:
        asked = await system.submit("chk-3ds-1", return_url=RETURN_URL)
        assert (asked["status"], asked["order_status"], asked["final"]) == (
            "action_required", "awaiting_authentication", False)
        action = asked["action"]
        assert action["method"] == "POST" and action["url"] == f"{system.emulator.url}/online/tds/OTDS010.do"
        assert set(action["fields"]) == {"MerchantId", "EncryptValue"} and asked["authentication_deadline"]
        assert await system.ledger(asked["payment_number"]) == []  # nothing charged before the buyer is back

        back = await system.through_gateway(action)
        assert back.url == f"{system.payment_url}/public/v1/three-d-secure/{asked['order_id']}/return"
        returned = await system.send_back(back)
        assert returned.status_code == 303
        assert returned.headers["location"] == f"{RETURN_URL}?order_id={asked['order_id']}"

        outcome = await system.final("chk-3ds-1")
        assert (outcome["status"], outcome["order_status"]) == ("completed", "completed")
        (tx,) = await system.ledger(asked["payment_number"])
        assert [op["operate_id"] for op in tx["history"]] == ["1Auth"] and tx["kaiin_id"]  # linked, then by member
        assert tx["three_d_secure"]["SecureResultCode"] == "0" and tx["three_d_secure"]["CAVV3D"]

        again = await system.send_back(back)  # the back button: harmless, answered like the first
        assert again.status_code == 303
        forged = await system.send_back(type(back)(back.url, back.encrypt_value[:-8] + "AAAAAAA="))
        assert (forged.status_code, forged.json()["reason_code"]) == (400, "authentication_return_invalid")
        assert len(await system.ledger(asked["payment_number"])) == 1
        assert (await system.outcome("chk-3ds-1"))["status"] == "completed"


async def test_a_failed_challenge_every_secure_result_and_3ds_off_end_as_the_shop_chose(
        new_database, isolated_kafka) -> None:
    """A wrong challenge code is rejected with the card-company message; then, on the same shop, every test card
    under the default accepted results, under 0 only, and 3DS off (the operator changes the setting; new orders
    follow it). One shop for all, so the suite builds one system instead of four."""
    async with tds_system(new_database, isolated_kafka) as system:
        asked = await system.submit("chk-3ds-wrong", pan=CHALLENGE, buyer__member_id=None, payment__keep_card=None)
        back = await system.through_gateway(asked["action"], code="000000")
        returned = await system.send_back(back)
        assert returned.status_code == 200 and "text/html" in returned.headers["content-type"]  # no return_url given
        outcome = await system.final("chk-3ds-wrong")
        assert (outcome["status"], outcome["reason_code"], outcome["buyer_message"]) == (
            "rejected", "authentication_failed", CARD_COMPANY)
        assert await system.ledger(asked["payment_number"]) == []
        assert (await system.send_back(back)).status_code == 200  # the same return again: harmless

        for accepted, cases in RESULT_CASES:
            await system.configure({"enabled": True, "accepted_results": accepted})
            for index, (pan, status, message) in enumerate(cases):
                checkout_id = f"chk-3ds-{len(accepted)}-{index}"
                asked = await system.submit(checkout_id, pan=pan, buyer__member_id=None, payment__keep_card=None)
                assert (await system.send_back(await system.through_gateway(asked["action"]))).status_code == 200
                outcome = await system.final(checkout_id)
                assert (outcome["status"], outcome["buyer_message"]) == (status, message), (pan, accepted, outcome)
                charged = await system.ledger(asked["payment_number"])
                assert len(charged) == (status == "completed"), (pan, charged)

        await system.configure({"enabled": False})
        outcome = await system.submit("chk-3ds-off")
        assert (outcome["status"], outcome.get("action")) == ("completed", None)
        (tx,) = await system.ledger(outcome["payment_number"])
        assert tx["three_d_secure"] is None


RESULT_CASES = [
    (["0", "2", "3"], [("4000000000003246", "completed", None), ("4000000000003253", "completed", None),
                       ("4000000000003261", "completed", None), ("4000000000003238", "rejected", CARD_COMPANY),
                       ("4000000000003279", "rejected", SHOP), ("4000000000003287", "rejected", SHOP)]),
    (["0"], [("4000000000003246", "rejected", CARD_COMPANY), ("4000000000003253", "rejected", SHOP),
             ("4111111111111111", "completed", None)]),
]
"""SecureResultCode 2 (U01), 3 (U02, U09), 1 (U04), 8 (U14), 9 (U03) under each accepted set: order status and
buyer message (R16)."""


async def test_an_abandoned_authentication_is_rejected_at_the_deadline_and_a_late_return_is_refused(
        new_database, isolated_kafka) -> None:
    async with tds_system(new_database, isolated_kafka, window_s=2.0) as system:
        asked = await system.submit("chk-3ds-gone", buyer__member_id=None, payment__keep_card=None)
        back = await system.through_gateway(asked["action"])  # the buyer closes the tab before it returns
        outcome = await system.final("chk-3ds-gone")
        assert (outcome["status"], outcome["reason_code"], outcome["buyer_message"]) == (
            "rejected", "authentication_abandoned", SHOP)
        late = await system.send_back(back)
        assert (late.status_code, late.json()["reason_code"]) == (409, "authentication_abandoned")
        assert await system.ledger(asked["payment_number"]) == []
        assert (await system.outcome("chk-3ds-gone"))["status"] == "rejected"
