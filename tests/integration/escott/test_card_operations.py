"""Client ↔ emulator over HTTP and over HTTPS (verification on): every card operation and its error paths."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pydantic import SecretStr

from services.payment.adapters.escott import CardSource, MerchantConfig, MerchantRefs, Outcome, ProcessRef
from tests.integration.escott.conftest import DEMO, HTTPS, Harness

pytestmark = HTTPS


async def test_token_checkout_authorize_capture_search(harness: Harness) -> None:
    gateway, token = harness.gateway, await harness.token()
    assert (await gateway.token_search(DEMO, token)).ok
    refs = MerchantRefs("00000000000000000001", "山田 太郎", "customer-1")
    auth = await gateway.authorize(DEMO, token, amount=1200, refs=refs)
    assert auth.ok and auth.process is not None
    assert (auth.fields["MerchantFree1"], auth.fields["MerchantFree2"]) == (refs.free1, refs.free2)
    assert (await gateway.capture(DEMO, auth.process)).ok
    search = await gateway.search(DEMO, auth.process)
    assert search.ok and search.fields["Amount"] == "1200" and len(search.fields["SalesDate"]) == 8
    [row] = await harness.ledger(MerchantFree1=refs.free1)
    assert (row["state"], row["amount"], row["merchant_free2"]) == ("captured", 1200, "山田 太郎")


async def test_token_is_single_use_and_token_search_sees_it(harness: Harness) -> None:
    token = await harness.token()
    assert (await harness.gateway.authorize(DEMO, token, amount=500)).ok
    again = await harness.gateway.authorize(DEMO, token, amount=500)
    assert (again.outcome, again.codes) == (Outcome.DECLINED, ("KI2",))
    assert (await harness.gateway.token_search(DEMO, token)).codes == ("KI2",)


async def test_gathering_change_delete_and_reauth(harness: Harness) -> None:
    gateway = harness.gateway
    sale = await gateway.authorize_and_capture(DEMO, await harness.token(), amount=3000)
    assert sale.process is not None
    assert (await gateway.change_amount(DEMO, sale.process, amount=3000)).codes == ("K23",)
    assert (await gateway.change_amount(DEMO, sale.process, amount=2500)).ok
    assert (await gateway.cancel(DEMO, sale.process)).ok
    assert (await gateway.cancel(DEMO, sale.process)).codes == ("K14",)
    assert (await gateway.reauthorize(DEMO, sale.process, amount=2000)).codes == ("K39",)
    today = datetime.now(timezone(timedelta(hours=9))).date()
    again = await gateway.reauthorize(DEMO, sale.process, amount=2000, sales_date=today)
    assert again.ok and again.process is not None and again.process.process_id != sale.process.process_id
    assert (await gateway.search(DEMO, again.process)).fields["Amount"] == "2000"


async def test_check_and_capture_only_from_authorized(harness: Harness) -> None:
    card = CardSource(SecretStr("5555555555554444"), SecretStr("3012"), SecretStr("123"))
    check = await harness.gateway.check(DEMO, card)
    assert check.ok and check.process is not None
    assert (await harness.gateway.capture(DEMO, check.process)).codes == ("K14",)


async def test_several_codes_in_one_reply(harness: Harness) -> None:
    card = CardSource(SecretStr("41111"), SecretStr("3013"), SecretStr("1"))
    result = await harness.gateway.authorize(DEMO, card, amount=100)
    assert (result.outcome, result.codes) == (Outcome.DECLINED, ("K20", "K21", "K24"))
    assert result.transaction_id


async def test_decline_cards_and_wrong_credentials(harness: Harness) -> None:
    gateway = harness.gateway
    for pan, code in (("4000000000000002", "G12"), ("4000000000009995", "G55"), ("4000000000000069", "G83"),
                      ("4000000000000127", "G44"), ("4000000000000101", "K99")):
        assert (await gateway.authorize(DEMO, await harness.token(pan), amount=100)).codes == (code,)
    wrong = MerchantConfig("10000001", SecretStr("wrongpass"))
    assert (await gateway.authorize(wrong, await harness.token(), amount=100)).codes == ("K03",)
    wrong_tenant = MerchantConfig("10000001", SecretStr("escottpass01"), tenant_id="0009")
    assert (await gateway.authorize(wrong_tenant, await harness.token(), amount=100)).codes == ("K13",)


async def test_unknown_pair_is_k12(harness: Harness) -> None:
    result = await harness.gateway.search(DEMO, ProcessRef("A" * 32, SecretStr("B" * 32)))
    assert result.codes == ("K12",)
