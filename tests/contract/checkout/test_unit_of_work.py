"""The unit of work (`delivery.units` + checkout's repositories): an inbound event is claimed once, emitted events
are staged in order with their causation and version, and a failed unit leaves nothing behind."""

from __future__ import annotations

import pytest

from contracts.envelope import Envelope
from contracts.events import ShopSettingsChanged
from delivery.envelopes import Inbound
from delivery.errors import PermanentError
from delivery.idempotency import IdempotencyKeyReused
from services.checkout import translate
from services.checkout.ports import ShopKeys
from tests.unit.checkout.builders import shop
from tests.unit.checkout.inbound import checkout_requested

KEYS = ShopKeys(storefront_sha256="a" * 64, operator_sha256="b" * 64)


def delivered() -> Inbound:
    event = checkout_requested()
    return Inbound(Envelope.wrap(event, producer="storefront", correlation_id="chk-1"), event)


async def test_an_inbound_event_is_claimed_once_and_a_call_without_one_always(store):
    inbound = delivered()
    async with store.uow() as uow:
        assert await uow.claim(inbound) and await uow.claim(None)
    async with store.uow() as uow:
        assert not await uow.claim(inbound)
        assert await uow.claim(None) and await uow.claim(delivered())


async def test_a_seen_event_id_with_another_body_is_a_permanent_error_not_a_silent_repeat(store):
    inbound = delivered()
    other = inbound.envelope.model_copy(update={"data": {**inbound.envelope.data, "cart_type": "zero_step"}})
    async with store.uow() as uow:
        assert await uow.claim(inbound)
    with pytest.raises(PermanentError, match=r"^idempotency_key_reused: .*differing fields: data"):
        async with store.uow() as uow:
            await uow.claim(Inbound(other, inbound.event))
    async with store.uow() as uow:
        assert not await uow.claim(inbound)


async def test_an_idempotency_key_is_claimed_once_and_another_body_under_it_names_the_fields(store):
    async with store.uow() as uow:
        assert await uow.claim_key("resend", "tea-shop/mail-1/key-1", {"recipient": "a@example.jp", "copy": 1})
    async with store.uow() as uow:
        assert not await uow.claim_key("resend", "tea-shop/mail-1/key-1", {"recipient": "a@example.jp", "copy": 1})
        assert await uow.claim_key("resend", "tea-shop/mail-1/key-2", {"recipient": "b@example.jp", "copy": 1})
    with pytest.raises(IdempotencyKeyReused) as reused:
        async with store.uow() as uow:
            await uow.claim_key("resend", "tea-shop/mail-1/key-1", {"recipient": "b@example.jp", "copy": 1})
    assert reused.value.fields == ["recipient"]


async def test_emitted_events_are_staged_in_order_with_correlation_causation_and_version(store):
    inbound = delivered()
    settings = translate.shop_settings_changed(shop())
    async with store.uow() as uow:
        await uow.emit(settings, correlation_id="shop:tea-shop", subject_version=3)
        await uow.emit(settings, correlation_id="chk-1", causation=inbound)
    first, second = await store.emitted()
    assert (first.type, first.producer, first.correlation_id, first.subject_version) == (
        ShopSettingsChanged.TYPE, "checkout", "shop:tea-shop", 3)
    assert first.causation_id is None and second.causation_id == str(inbound.envelope.event_id)
    assert first.event() == settings and first.event_id != second.event_id


async def test_a_failed_unit_leaves_no_claim_no_event_and_no_write(store):
    inbound = delivered()
    with pytest.raises(RuntimeError):
        async with store.uow() as uow:
            await uow.claim(inbound)
            await uow.shops.add(shop(), KEYS)
            await uow.emit(translate.shop_settings_changed(shop()), correlation_id="x")
            raise RuntimeError("the handler fails after its writes")
    assert await store.emitted() == []
    async with store.uow() as uow:
        assert await uow.claim(inbound)  # the redelivery is applied, not skipped
        assert await uow.shops.get("tea-shop") is None


async def test_a_read_outside_a_transaction_sees_what_was_committed_and_not_what_an_open_unit_wrote(store):
    async with store.uow() as writing:
        assert await writing.submissions.record("tea-shop", "chk-1")
        async with store.uow.reading() as reading:
            assert not await reading.submissions.exists("tea-shop", "chk-1")
    async with store.uow.reading() as reading:
        assert await reading.submissions.exists("tea-shop", "chk-1")
