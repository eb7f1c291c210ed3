"""The unit of work (delivery's inbox and outbox with this service's repositories): an inbound event is claimed
once; events are staged only if the unit commits, with the rest of its effects (fake and PostgreSQL alike)."""

from __future__ import annotations

from contracts.events import SubscriptionStarted
from services.subscription import translate
from services.subscription.domain import subscription as s
from services.subscription.ports import Scheduled
from tests.unit.contracts import samples
from tests.unit.subscription import events
from tests.unit.subscription.builders import first_order

SUB = s.start(first_order())


async def test_an_inbound_event_is_claimed_once_and_an_http_call_always_claims(store):
    inbound = events.inbound(samples.order_completed())
    async with store.uow() as uow:
        assert await uow.claim(inbound) and await uow.claim(None)
    async with store.uow() as uow:
        assert not await uow.claim(inbound)


async def test_a_committed_unit_stages_its_events_with_its_effects(store):
    async with store.uow() as uow:
        await uow.subscriptions.add(Scheduled(SUB, None))
        envelope = await uow.emit(translate.subscription_started(SUB), correlation_id="chk-1", subject_version=0)
    [staged] = await store.emitted()
    assert staged.event_id == envelope.event_id and isinstance(staged.event(), SubscriptionStarted)


async def test_a_failed_unit_claims_nothing_saves_nothing_and_stages_nothing(store):
    inbound = events.inbound(samples.order_completed())
    try:
        async with store.uow() as uow:
            assert await uow.claim(inbound)
            await uow.subscriptions.add(Scheduled(SUB, None))
            await uow.emit(translate.subscription_started(SUB), correlation_id="chk-1")
            raise RuntimeError("crash before commit")
    except RuntimeError:
        pass
    assert await store.emitted() == []
    async with store.uow() as uow:
        assert await uow.subscriptions.get(SUB.subscription_id) is None
        assert await uow.claim(inbound)
