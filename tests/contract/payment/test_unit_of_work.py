"""Payment's unit of work: an inbound event is claimed once (an HTTP call always), staged events are published
as their contract says once the unit commits, and an error rolls back the repositories' writes, the claim and
the staged events together."""

from __future__ import annotations

import pytest

from contracts.events import CapturePayment, PaymentCanceled
from delivery.envelopes import Inbound
from tests.contract.payment.builders import payment
from tests.contract.payment.conftest import Store
from tests.unit.payment.handlers.builders import inbound

CANCELED = PaymentCanceled(order_id="ord-1", shop_id="shop-1", payment_number="20250601000000000001", amount=5500,
                           transaction_id="1000000000001", requested_by="ops-1")


async def claim(store: Store, delivered: Inbound | None) -> bool:
    async with store.uow() as uow:
        return await uow.claim(delivered)


async def test_an_inbound_event_is_claimed_once_and_an_http_call_always(store: Store) -> None:
    command = inbound(CapturePayment(order_id="ord-1", shop_id="shop-1"))
    assert [await claim(store, command), await claim(store, command)] == [True, False]
    assert [await claim(store, None), await claim(store, None)] == [True, True]


async def test_staged_events_are_published_as_their_contract_says_once_committed(store: Store) -> None:
    command = inbound(CapturePayment(order_id="ord-1", shop_id="shop-1"))
    async with store.uow() as uow:
        staged = await uow.emit(CANCELED, correlation_id="chk-1", causation=command, subject_version=3)
    [envelope] = await store.emitted()
    assert envelope == staged
    assert (envelope.event(), envelope.producer, envelope.correlation_id, envelope.subject_version) == (
        CANCELED, "payment", "chk-1", 3)
    assert envelope.causation_id == str(command.envelope.event_id)


async def test_an_error_rolls_back_the_writes_the_claim_and_the_staged_events(store: Store) -> None:
    command = inbound(CapturePayment(order_id="ord-1", shop_id="shop-1"))
    with pytest.raises(RuntimeError):
        async with store.uow() as uow:
            assert await uow.claim(command)
            await uow.payments.add(payment(), correlation_id="chk-1")
            await uow.emit(CANCELED, correlation_id="chk-1")
            raise RuntimeError("the handler failed")
    async with store.uow() as uow:
        assert await uow.payments.get("ord-1") is None
    assert (await store.emitted(), await claim(store, command)) == ([], True)
