"""`AttemptRepository`: the operation history (R15) reads back whole in the order the calls started; saving an
attempt records its answer; `sending` lists only the order flow's unanswered calls; resolutions are noted on
the order flow's unknown attempts (`mark_resolved`) or on one attempt of an action (`resolve_one`)."""

from __future__ import annotations

from datetime import timedelta

from services.payment.domain.attempts import Attempt, AttemptStatus, finish_attempt
from services.payment.domain.gateway import GatewayOperation, Outcome, Reply
from tests.contract.payment.builders import NOW, payment
from tests.contract.payment.conftest import Store


def attempt(n: int, operation: GatewayOperation = GatewayOperation.AUTH, *, order_id: str = "ord-1",
            **changes: object) -> Attempt:
    return Attempt(attempt_id=f"00000000-0000-0000-0000-{n:012d}", shop_id="shop-1", order_id=order_id,
                   operation=operation, kaiin_id="K000000000001", started_at=NOW + timedelta(seconds=n),
                   **changes)  # type: ignore[arg-type]


async def recorded(store: Store, attempts: list[Attempt]) -> None:
    async with store.uow() as uow:
        for order_id in {a.order_id for a in attempts if a.order_id}:
            await uow.payments.add(payment(order_id), correlation_id="chk-1")
        for a in attempts:
            await uow.attempts.add(a)


async def test_the_history_reads_back_whole_in_the_order_the_calls_started(store: Store) -> None:
    capture = attempt(2, GatewayOperation.CAPTURE, action="capture", requested_by="ops-1", amount=None)
    reauth = attempt(3, GatewayOperation.REAUTH, action="update_amount", requested_by="bot", amount=7200)
    await recorded(store, [reauth, attempt(1), capture])
    async with store.uow() as uow:
        assert await uow.attempts.history("ord-1") == [attempt(1), capture, reauth]
        assert (await uow.attempts.get(reauth.attempt_id), await uow.attempts.history("ord-2")) == (reauth, [])


async def test_an_attempt_is_saved_with_its_answer(store: Store) -> None:
    await recorded(store, [attempt(1)])
    reply = Reply(outcome=Outcome.DECLINED, codes=("K40", "G12"), transaction_id="1000000000001", reason="r")
    finished = finish_attempt(attempt(1), reply, NOW + timedelta(seconds=5))
    async with store.uow() as uow:
        await uow.attempts.save(finished)
    async with store.uow() as uow:
        assert await uow.attempts.get(finished.attempt_id) == finished


async def test_only_the_order_flows_unanswered_attempts_are_sending(store: Store) -> None:
    answered = finish_attempt(attempt(2), Reply(outcome=Outcome.OK), NOW)
    await recorded(store, [attempt(1), answered, attempt(3, GatewayOperation.CAPTURE, action="capture")])
    async with store.uow() as uow:
        assert await uow.attempts.sending("ord-1") == [attempt(1)]


async def test_resolutions_are_noted_on_the_unknown_attempts_they_settle(store: Store) -> None:
    unknown = {"status": AttemptStatus.UNKNOWN}
    flow, action = attempt(1, **unknown), attempt(2, GatewayOperation.CAPTURE, action="capture", **unknown)
    await recorded(store, [flow, action, attempt(3, status=AttemptStatus.OK)])
    async with store.uow() as uow:
        await uow.attempts.mark_resolved("ord-1", "authorized")
        await uow.attempts.mark_resolved("ord-1", "not_authorized")  # the first finding stays
        await uow.attempts.resolve_one(action.attempt_id, "failed")
    async with store.uow() as uow:
        assert [a.resolution for a in await uow.attempts.history("ord-1")] == ["authorized", "failed", None]


async def test_an_attempt_without_an_order_is_kept_too(store: Store) -> None:
    lookup = attempt(1, GatewayOperation.MEM_REF, order_id=None)  # type: ignore[arg-type]
    await recorded(store, [lookup])
    async with store.uow() as uow:
        assert await uow.attempts.get(lookup.attempt_id) == lookup
