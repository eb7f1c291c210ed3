"""The operator API: the mail log per order and per shop, one mail with its content, resend, and the shop's own
operator key (I6)."""

from __future__ import annotations

import hashlib

import pytest

from tests.integration.notification.support import (
    INTERNAL,
    OTHER_SHOPS_KEY,
    SHOP_COPY,
    log_rows,
    mails_of,
    order,
    publish,
    publish_after_shop,
    running,
    shop,
    start,
)
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_operators_read_the_mail_log_of_an_order_and_what_each_mail_said(database_url, isolated_kafka, sink):
    await publish(isolated_kafka, shop())
    async with running(start(database_url, isolated_kafka, sink)) as api:
        await publish_after_shop(database_url, isolated_kafka, order("ord-1"))
        await eventually(lambda: _sent(database_url, 2), message="mails sent")
        listed = (await api.get("/v1/shops/demo-shop/orders/ord-1/mails")).json()
        failed = (await api.get("/v1/shops/demo-shop/mails", params={"status": "failed"})).json()
        thanks = next(m for m in listed if m["kind"] == "thanks")
        one = (await api.get(f"/v1/shops/demo-shop/mails/{thanks['mail_id']}")).json()
    assert {(m["kind"], m["recipient"], m["status"], m["attempts"]) for m in listed} == {
        ("thanks", "taro@example.jp", "sent", 1), ("shop_copy", SHOP_COPY, "sent", 1)}
    assert all(m["sent_at"] and m["smtp_response"].startswith("250") and m["message_id"] for m in listed)
    assert failed == []
    assert one["subject"].startswith("【デモ茶舗】ご注文ありがとうございます") and "ord-1" in one["text"]


async def test_another_shops_mails_are_not_found_and_a_resend_to_a_bad_address_is_refused(
        database_url, isolated_kafka, sink):
    await publish(isolated_kafka, shop(), order("ord-2"))
    async with running(start(database_url, isolated_kafka, sink)) as api:
        [_, mail] = await eventually(lambda: _sent(database_url, 2), message="mails sent")
        path = f"/mails/{mail['mail_id']}"
        other = await api.get(f"/v1/shops/other-shop{path}")
        resend_other = await api.post(f"/v1/shops/other-shop{path}/resend")
        bad = await api.post(f"/v1/shops/demo-shop{path}/resend", json={"recipient": "not an address"})
        unknown = await api.get("/v1/shops/demo-shop/orders/nope/mails")
    assert (other.status_code, resend_other.status_code, unknown.status_code) == (404, 404, 404)
    assert bad.status_code == 422 and "not an e-mail address" in bad.json()["detail"]
    assert len(await log_rows(database_url)) == 2


async def test_a_resend_to_a_corrected_address_is_a_new_logged_mail(database_url, isolated_kafka, sink):
    await publish(isolated_kafka, shop(), order("ord-3", email="buyer@typo.invalid"))
    async with running(start(database_url, isolated_kafka, sink)) as api:
        rows = await eventually(lambda: _final(database_url), message="mails final")
        thanks = next(r for r in rows if r["kind"] == "thanks")
        response = await api.post(f"/v1/shops/demo-shop/mails/{thanks['mail_id']}/resend",
                                  json={"recipient": "buyer@example.jp"})
        await eventually(lambda: _sent(database_url, 2), message="resend sent")
    assert thanks["status"] == "failed"
    new = response.json()
    assert new["resend_of"] == str(thanks["mail_id"]) and new["recipient"] == "buyer@example.jp"
    assert [m["To"] for _, m in sink.messages() if m["X-Mail-Kind"] == "thanks"] == ["buyer@example.jp"]


async def test_a_repeated_resend_with_the_same_idempotency_key_sends_one_mail(database_url, isolated_kafka, sink):
    await publish(isolated_kafka, shop(), order("ord-5"))
    async with running(start(database_url, isolated_kafka, sink)) as api:
        [mail, _] = await eventually(lambda: _sent(database_url, 2), message="first mails sent")
        resend = f"/v1/shops/demo-shop/mails/{mail['mail_id']}/resend"
        key = {"Idempotency-Key": "click-1"}
        clicks = [await api.post(resend, headers=key) for _ in range(3)]  # a double (triple) click
        other_key = await api.post(resend, headers={"Idempotency-Key": "click-2"})
        reused = await api.post(resend, headers=key, json={"recipient": "someone.else@example.jp"})
        await eventually(lambda: _sent(database_url, 4), message="the two resends sent")
    assert [c.status_code for c in clicks] == [202, 202, 202] and len({c.json()["mail_id"] for c in clicks}) == 1
    assert other_key.status_code == 202 and other_key.json()["mail_id"] != clicks[0].json()["mail_id"]
    assert (reused.status_code, reused.json()["reason_code"]) == (409, "idempotency_key_reused")
    assert reused.headers["content-type"] == "application/problem+json"
    assert [e["loc"] for e in reused.json()["errors"]] == [["body", "recipient"]]
    assert len(await log_rows(database_url)) == 4  # two originals + one resend per key
    assert len(mails_of(sink, "ord-5")) == 4


async def test_the_mail_log_opens_only_with_the_shops_own_operator_key_i6(database_url, isolated_kafka, sink):
    await publish(isolated_kafka, shop(), order("ord-4"))
    async with running(start(database_url, isolated_kafka, sink)) as api:
        [mail, _] = await eventually(lambda: _sent(database_url, 2), message="mails sent")
        path = f"/v1/shops/demo-shop/mails/{mail['mail_id']}"
        missing = await api.get(path, headers={"X-Operator-Key": ""})
        wrong = await api.get(path, headers={"X-Operator-Key": "a-guessed-key-of-enough-length"})
        another_shops_key = await api.get(path, headers={"X-Operator-Key": OTHER_SHOPS_KEY})
        resend_with_it = await api.post(f"{path}/resend", headers={"X-Operator-Key": OTHER_SHOPS_KEY})
        unregistered_shop = await api.get("/v1/shops/no-such-shop/mails")
        own = await api.get(path)
        internal = "/internal/v1/shops/demo-shop/operator-key"
        takeover = {"sha256": hashlib.sha256(b"mine-now").hexdigest()}
        no_token = await api.put(internal, json=takeover)
        wrong_token = await api.put(internal, json=takeover, headers={"X-Internal-Token": "guess"})
        not_a_digest = await api.put(internal, json={"sha256": "plain-key"}, headers={"X-Internal-Token": INTERNAL})
        still_own = await api.get(path)
    assert missing.status_code == 401
    assert (wrong.status_code, another_shops_key.status_code, resend_with_it.status_code) == (404, 404, 404)
    assert unregistered_shop.status_code == 404
    assert (own.status_code, own.json()["mail_id"]) == (200, str(mail["mail_id"]))
    assert (no_token.status_code, wrong_token.status_code, not_a_digest.status_code) == (401, 401, 422)
    assert "plain-key" not in not_a_digest.text
    assert still_own.status_code == 200
    assert len(await log_rows(database_url)) == 2  # the refused resend made no mail


async def _sent(database_url, n: int):
    rows = [r for r in await log_rows(database_url) if r["status"] == "sent"]
    return rows if len(rows) >= n else None


async def _final(database_url):
    rows = await log_rows(database_url)
    return rows if len(rows) == 2 and all(r["status"] in ("sent", "failed") for r in rows) else None
