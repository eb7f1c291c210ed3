"""Client ↔ emulator over HTTP and over HTTPS (verification on): stored-card members and member charges."""

from __future__ import annotations

from pydantic import SecretStr

from services.payment.adapters.escott import Member, Outcome
from tests.integration.escott.conftest import DEMO, HTTPS, Harness

pytestmark = HTTPS

MEMBER = Member("wc1i0000001", SecretStr("123456789012"))


async def test_member_lifecycle_over_http(harness: Harness) -> None:
    gateway = harness.gateway
    assert (await gateway.add_member(DEMO, MEMBER, await harness.token())).ok
    assert (await gateway.add_member(DEMO, MEMBER, await harness.token())).codes == ("K69",)
    masked = await gateway.member_reference(DEMO, MEMBER)
    assert masked.ok and masked.fields["KaiinStatus"] == "0" and masked.masked_card_no == "4111********1111"
    full = await gateway.member_reference(DEMO, MEMBER, masked=False)
    assert full.secrets["CardNo"].get_secret_value() == "4111111111111111" and "CardNo" not in full.fields
    assert (await gateway.change_member(DEMO, MEMBER, await harness.token("5555555555554444"))).ok
    assert (await gateway.member_reference(DEMO, MEMBER)).masked_card_no == "5555********4444"
    assert (await gateway.revalidate_member(DEMO, MEMBER)).codes == ("K73",)
    assert (await gateway.delete_member(DEMO, MEMBER)).codes == ("K70",)
    assert (await gateway.invalidate_member(DEMO, MEMBER)).ok
    assert (await gateway.authorize(DEMO, MEMBER, amount=100)).codes == ("K79",)
    assert (await gateway.delete_member(DEMO, MEMBER)).ok
    assert (await gateway.add_member(DEMO, MEMBER, await harness.token())).codes == ("K69",)


async def test_member_charges_need_the_member_on_process_calls(harness: Harness) -> None:
    gateway = harness.gateway
    await gateway.add_member(DEMO, MEMBER, await harness.token())
    auth = await gateway.authorize(DEMO, MEMBER, amount=800)
    assert auth.ok and auth.process is not None
    assert (await gateway.cancel(DEMO, auth.process)).codes == ("K80",)
    assert (await gateway.cancel(DEMO, auth.process, member=MEMBER)).ok
    by_token = await gateway.authorize(DEMO, await harness.token(), amount=800)
    assert by_token.process is not None
    assert (await gateway.cancel(DEMO, by_token.process, member=MEMBER)).codes == ("K81",)


async def test_wrong_member_password_is_k71(harness: Harness) -> None:
    await harness.gateway.add_member(DEMO, MEMBER, await harness.token())
    wrong = Member(MEMBER.kaiin_id, SecretStr("000000000000"))
    assert (await harness.gateway.member_reference(DEMO, wrong)).codes == ("K71",)


async def test_renewal_failure_card_and_admin_decline_switch(harness: Harness) -> None:
    gateway = harness.gateway
    renewal = Member("renew01", SecretStr("123456789012"))
    assert (await gateway.add_member(DEMO, renewal, await harness.token("4000000000000341"))).ok
    declined = await gateway.authorize(DEMO, renewal, amount=980)
    assert (declined.outcome, declined.codes) == (Outcome.DECLINED, ("G12",))

    await gateway.add_member(DEMO, MEMBER, await harness.token())
    assert (await gateway.authorize(DEMO, MEMBER, amount=100)).ok
    switch = f"/_emulator/members/10000001/{MEMBER.kaiin_id}/decline"
    (await harness.admin.post(switch, json={"code": "G56"})).raise_for_status()
    assert (await gateway.authorize(DEMO, MEMBER, amount=100)).codes == ("G56",)
    (await harness.admin.delete(switch)).raise_for_status()
    assert (await gateway.authorize(DEMO, MEMBER, amount=100)).ok
