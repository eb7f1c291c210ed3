"""`CardGateway`: what payment relies on from e-SCOTT, checked against the fake and against `EscottCardGateway` over
HTTP to the emulator. Charges make a hold named by its ProcessId/ProcessPass; Process calls act on it (K12, K14,
K23, K80 where the gateway refuses); a member stores a card, is charged by member and is removed; a call that
never left is `not_sent`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import SecretStr

from services.payment.domain.gateway import GatewayOperation as Op
from services.payment.domain.gateway import Outcome, business_date
from services.payment.ports import GatewayAnswer, GatewayCall, MemberKey, ProcessKey
from tests.contract.payment.conftest import Gateway
from tests.fakes.payment_gateway import DEMO_CREDENTIALS

VISA, MASTERCARD, UNUSABLE, K40 = "4111111111111111", "5555555555554444", "4000000000000002", "4000000000000036"


def charge(token: SecretStr | None, *, amount: int = 5500, operation: Op = Op.AUTH,
           member: MemberKey | None = None) -> GatewayCall:
    return GatewayCall(operation=operation, credentials=DEMO_CREDENTIALS, amount=amount, token=token, member=member,
                       free1="20250000000000000001", free2="山田 太郎")


def on(hold: GatewayAnswer, operation: Op, **fields: object) -> GatewayCall:
    """A Process call on the hold an answer named."""
    assert hold.reply.process_id is not None and hold.process_pass is not None
    return GatewayCall(operation=operation, credentials=DEMO_CREDENTIALS,
                       process=ProcessKey(hold.reply.process_id, hold.process_pass), **fields)  # type: ignore[arg-type]


def member_call(operation: Op, member: MemberKey, token: SecretStr | None = None) -> GatewayCall:
    return GatewayCall(operation=operation, credentials=DEMO_CREDENTIALS, member=member, token=token)


async def held(gateway: Gateway, amount: int = 5500) -> GatewayAnswer:
    answer = await gateway.port.send(charge(await gateway.token(VISA), amount=amount))
    assert answer.reply.outcome is Outcome.OK, answer
    return answer


async def test_a_token_charge_is_approved_with_the_ids_of_its_hold(gateway: Gateway) -> None:
    answer = await held(gateway)
    reply = answer.reply
    assert reply.transaction_id and reply.approval_number and reply.process_id and answer.process_pass
    assert answer.process_pass.get_secret_value() not in repr(answer)


async def test_a_declining_card_is_declined_with_the_gateways_code_and_no_hold(gateway: Gateway) -> None:
    answer = await gateway.port.send(charge(await gateway.token(UNUSABLE)))
    assert (answer.reply.outcome, answer.reply.codes, answer.reply.process_id) == (Outcome.DECLINED, ("G12",), None)


async def test_a_token_is_spent_by_its_first_use(gateway: Gateway) -> None:
    token = await gateway.token(VISA)
    await gateway.port.send(charge(token))
    again = await gateway.port.send(charge(token))
    assert (again.reply.outcome, again.reply.codes) == (Outcome.DECLINED, ("KI2",))


async def test_a_k40_decline_names_a_live_hold_that_can_be_voided(gateway: Gateway) -> None:
    declined = await gateway.port.send(charge(await gateway.token(K40)))
    assert (declined.reply.outcome, declined.reply.codes) == (Outcome.DECLINED, ("K40",))
    voided = await gateway.port.send(on(declined, Op.DELETE))
    assert voided.reply.outcome is Outcome.OK


async def test_a_hold_is_captured_once_and_the_live_status_shows_the_sales_date(gateway: Gateway) -> None:
    hold = await held(gateway)
    today = business_date(datetime.now(UTC))
    captured = await gateway.port.send(on(hold, Op.CAPTURE, sales_date=today))
    again = await gateway.port.send(on(hold, Op.CAPTURE, sales_date=today))
    live = await gateway.port.send(on(hold, Op.SEARCH))
    assert (captured.reply.outcome, again.reply.codes) == (Outcome.OK, ("K14",))
    assert (live.reply.outcome, live.amount, live.sales_date) == (Outcome.OK, 5500, today.strftime("%Y%m%d"))


async def test_auth_capture_records_the_sale_at_once(gateway: Gateway) -> None:
    sold = await gateway.port.send(charge(await gateway.token(VISA), operation=Op.GATHERING))
    capture = await gateway.port.send(on(sold, Op.CAPTURE, sales_date=business_date(datetime.now(UTC))))
    assert (sold.reply.outcome, capture.reply.codes) == (Outcome.OK, ("K14",))


async def test_an_amount_change_shows_in_the_live_status_and_the_same_amount_is_refused(gateway: Gateway) -> None:
    hold = await held(gateway)
    changed = await gateway.port.send(on(hold, Op.CHANGE, amount=4300))
    same = await gateway.port.send(on(hold, Op.CHANGE, amount=4300))
    live = await gateway.port.send(on(hold, Op.SEARCH))
    assert (changed.reply.outcome, same.reply.codes, live.amount) == (Outcome.OK, ("K23",), 4300)


async def test_a_reauthorization_answers_a_pair_naming_the_new_amount_and_the_old_pair_stays_usable(
        gateway: Gateway) -> None:
    """What the old pair names afterwards is unknown at Sony (protocol reference §9.4): the old hold (the fake,
    the emulator's `--reauth-pairs new`) or the re-authorized one (`same`, the emulator's default). Payment tells
    them apart by the old pair's 1Search amount, so that is what this contract holds to."""
    old = await held(gateway)
    new = await gateway.port.send(on(old, Op.REAUTH, amount=7200))
    assert new.reply.outcome is Outcome.OK and new.process_pass is not None
    assert new.reply.process_id != old.reply.process_id
    searched = [await gateway.port.send(on(h, Op.SEARCH)) for h in (old, new)]
    assert [s.reply.amount for s in searched] == [s.amount for s in searched]
    assert searched[0].amount in (5500, 7200) and searched[1].amount == 7200
    released = await gateway.port.send(on(old, Op.DELETE))
    twice = await gateway.port.send(on(old, Op.DELETE))
    assert (released.reply.outcome, twice.reply.codes) == (Outcome.OK, ("K14",))


async def test_a_call_on_an_unknown_pair_is_refused(gateway: Gateway) -> None:
    hold = await held(gateway)
    call = on(hold, Op.CAPTURE, sales_date=business_date(datetime.now(UTC)))
    assert call.process is not None
    forged = GatewayCall(operation=Op.CAPTURE, credentials=DEMO_CREDENTIALS, sales_date=call.sales_date,
                         process=ProcessKey(call.process.process_id, SecretStr("0" * 32)))  # well-formed, wrong
    answer = await gateway.port.send(forged)
    assert (answer.reply.outcome, answer.reply.codes) == (Outcome.DECLINED, ("K12",))


async def test_a_member_stores_a_card_is_charged_by_member_and_is_removed(gateway: Gateway) -> None:
    member = MemberKey("K" + uuid.uuid4().hex[:12].upper(), SecretStr("kaiinpass01"))
    added = await gateway.port.send(member_call(Op.MEM_ADD, member, await gateway.token(VISA)))
    shown = await gateway.port.send(member_call(Op.MEM_REF, member))
    assert (added.reply.outcome, shown.masked_card) == (Outcome.OK, "4111********1111")
    paid = await gateway.port.send(charge(None, member=member))
    today = business_date(datetime.now(UTC))
    without = await gateway.port.send(on(paid, Op.CAPTURE, sales_date=today))
    with_member = await gateway.port.send(on(paid, Op.CAPTURE, sales_date=today, member=member))
    assert (paid.reply.outcome, without.reply.codes, with_member.reply.outcome) == (Outcome.OK, ("K80",), Outcome.OK)
    changed = await gateway.port.send(member_call(Op.MEM_CHG, member, await gateway.token(MASTERCARD)))
    assert changed.reply.outcome is Outcome.OK
    assert (await gateway.port.send(member_call(Op.MEM_REF, member))).masked_card == "5555********4444"


async def test_a_member_is_invalidated_once_deleted_and_its_id_never_registered_again(gateway: Gateway) -> None:
    member = MemberKey("K" + uuid.uuid4().hex[:12].upper(), SecretStr("kaiinpass01"))
    await gateway.port.send(member_call(Op.MEM_ADD, member, await gateway.token(VISA)))
    early = await gateway.port.send(member_call(Op.MEM_DEL, member))
    answers = [await gateway.port.send(member_call(op, member)) for op in (Op.MEM_INVAL, Op.MEM_INVAL, Op.MEM_DEL)]
    again = await gateway.port.send(member_call(Op.MEM_ADD, member, await gateway.token(VISA)))
    assert early.reply.codes == ("K70",)
    assert [(a.reply.outcome, a.reply.codes) for a in answers] == [(Outcome.OK, ()), (Outcome.DECLINED, ("K75",)),
                                                                   (Outcome.OK, ())]
    assert again.reply.codes == ("K69",)


async def test_a_call_to_an_unreachable_gateway_was_not_sent(gateway: Gateway) -> None:
    answer = await gateway.unreachable.send(charge(await gateway.token(VISA)))
    assert answer.reply.outcome is Outcome.NOT_SENT


async def test_a_member_read_shows_the_expiry_month_the_company_and_the_members_status(gateway: Gateway) -> None:
    member = MemberKey("K" + uuid.uuid4().hex[:12].upper(), SecretStr("kaiinpass01"))
    await gateway.port.send(member_call(Op.MEM_ADD, member, await gateway.token(MASTERCARD)))
    valid = await gateway.port.send(member_call(Op.MEM_REF, member))
    await gateway.port.send(member_call(Op.MEM_INVAL, member))
    invalidated = await gateway.port.send(member_call(Op.MEM_REF, member))
    await gateway.port.send(member_call(Op.MEM_DEL, member))
    deleted = await gateway.port.send(member_call(Op.MEM_REF, member))
    assert (valid.card_expiry, valid.company_code, valid.kaiin_status) == ("2030-12", "MC", 0)
    assert (invalidated.reply.outcome, invalidated.kaiin_status) == (Outcome.OK, 3)
    assert (deleted.reply.outcome, deleted.reply.codes, deleted.masked_card) == (Outcome.DECLINED, ("K71",), None)


async def test_a_spent_token_or_a_declining_card_registers_no_member(gateway: Gateway) -> None:
    spent = await gateway.token(VISA)
    await gateway.port.send(charge(spent))
    members = [MemberKey("K" + uuid.uuid4().hex[:12].upper(), SecretStr("kaiinpass01")) for _ in range(2)]
    again = await gateway.port.send(member_call(Op.MEM_ADD, members[0], spent))
    declined = await gateway.port.send(member_call(Op.MEM_ADD, members[1], await gateway.token(UNUSABLE)))
    reads = [await gateway.port.send(member_call(Op.MEM_REF, m)) for m in members]
    assert (again.reply.codes, declined.reply.codes) == (("KI2",), ("G12",))
    assert [r.reply.codes for r in reads] == [("K71",), ("K71",)]


async def test_a_replacement_by_a_spent_token_keeps_the_stored_card(gateway: Gateway) -> None:
    member = MemberKey("K" + uuid.uuid4().hex[:12].upper(), SecretStr("kaiinpass01"))
    await gateway.port.send(member_call(Op.MEM_ADD, member, await gateway.token(VISA)))
    spent = await gateway.token(MASTERCARD)
    await gateway.port.send(charge(spent))
    refused = await gateway.port.send(member_call(Op.MEM_CHG, member, spent))
    shown = await gateway.port.send(member_call(Op.MEM_REF, member))
    assert (refused.reply.codes, shown.masked_card) == (("KI2",), "4111********1111")
