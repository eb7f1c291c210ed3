"""`SubmissionLog`: the first record of a checkout wins, and a checkout id is scoped to its shop."""

from __future__ import annotations


async def test_a_checkout_is_recorded_once(store):
    async with store.uow() as uow:
        assert await uow.submissions.record("tea-shop", "chk-1")
    async with store.uow() as uow:
        assert not await uow.submissions.record("tea-shop", "chk-1")
        assert await uow.submissions.exists("tea-shop", "chk-1")


async def test_the_same_checkout_id_of_another_shop_is_another_submission(store):
    async with store.uow() as uow:
        await uow.submissions.record("tea-shop", "chk-1")
    async with store.uow() as uow:
        assert not await uow.submissions.exists("other-shop", "chk-1")
        assert await uow.submissions.record("other-shop", "chk-1")


async def test_the_first_body_s_fingerprint_is_kept_and_a_later_record_does_not_replace_it(store):
    async with store.uow() as uow:
        assert await uow.submissions.record("tea-shop", "chk-1", {"lines.0.quantity": "aa", "payment.token": "bb"})
    async with store.uow() as uow:
        assert not await uow.submissions.record("tea-shop", "chk-1", {"lines.0.quantity": "cc"})
        assert await uow.submissions.fingerprint("tea-shop", "chk-1") == {"lines.0.quantity": "aa",
                                                                           "payment.token": "bb"}


async def test_a_checkout_recorded_without_a_fingerprint_has_none(store):
    async with store.uow() as uow:
        await uow.submissions.record("tea-shop", "chk-1")
    async with store.uow() as uow:
        assert await uow.submissions.fingerprint("tea-shop", "chk-1") is None
        assert await uow.submissions.fingerprint("tea-shop", "chk-2") is None
