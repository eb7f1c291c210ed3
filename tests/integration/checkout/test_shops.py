"""Shops: created by the platform with hashed keys, configured by operators, every change a full snapshot."""

from __future__ import annotations

import hashlib

import pytest

from contracts.envelope import Envelope
from contracts.events import ShopSettingsChanged
from contracts.topics import SHOPS_SETTINGS
from tests.integration.checkout.harness import ADMIN_TOKEN, CARD_SETTINGS, CARRIERS, CREDENTIALS

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_a_shop_is_created_with_keys_stored_only_as_digests_and_the_operator_key_pushed_to_payment(
        checkout, payment_stub, notification_stub):
    body = {"shop_id": "tea", "shop_name": "お茶の店",
            "mail": {"sender_address": "info@tea.example.jp", "shop_copy_address": "orders@tea.example.jp"}}
    response = await checkout.http.post("/admin/v1/shops", json=body, headers={"X-Admin-Token": ADMIN_TOKEN})
    assert response.status_code == 201, response.text
    created = response.json()
    storefront_key, operator_key = created["storefront_key"], created["operator_key"]
    assert len(storefront_key) >= 32 and storefront_key != operator_key and created["operator_key_sync"] == "ok"
    digest = {"tea": hashlib.sha256(operator_key.encode()).hexdigest()}
    assert payment_stub.operator_keys == digest == notification_stub.operator_keys  # both operator APIs (I6)
    [row] = await checkout.fetch("SELECT * FROM shops")
    assert storefront_key not in str(dict(row)) and operator_key not in str(dict(row))
    repeat = {**body, "storefront_key": storefront_key, "operator_key": operator_key}
    again = await checkout.http.post("/admin/v1/shops", json=repeat, headers={"X-Admin-Token": ADMIN_TOKEN})
    assert again.status_code == 200 and again.json()["operator_key"] == operator_key
    without_keys = await checkout.http.post("/admin/v1/shops", json=body, headers={"X-Admin-Token": ADMIN_TOKEN})
    assert without_keys.status_code == 409


async def test_a_service_that_did_not_take_the_operator_key_leaves_the_sync_pending_until_a_repeat(
        checkout, payment_stub, notification_stub):
    body = {"shop_id": "tea", "shop_name": "お茶の店",
            "mail": {"sender_address": "info@tea.example.jp", "shop_copy_address": "orders@tea.example.jp"}}
    notification_stub.down = True
    first = await checkout.http.post("/admin/v1/shops", json=body, headers={"X-Admin-Token": ADMIN_TOKEN})
    assert first.status_code == 201 and first.json()["operator_key_sync"] == "pending", first.text
    assert "tea" in payment_stub.operator_keys and notification_stub.operator_keys == {}
    notification_stub.down = False
    keys = {"storefront_key": first.json()["storefront_key"], "operator_key": first.json()["operator_key"]}
    repeat = await checkout.http.post("/admin/v1/shops", json={**body, **keys}, headers={"X-Admin-Token": ADMIN_TOKEN})
    assert repeat.status_code == 200 and repeat.json()["operator_key_sync"] == "ok"
    assert notification_stub.operator_keys == payment_stub.operator_keys


async def test_what_fuzzing_found_is_a_422_not_a_500(checkout):
    """A sender address that is no mail address at shop creation; text PostgreSQL cannot store (schemathesis)."""
    admin = {"X-Admin-Token": ADMIN_TOKEN}
    bad_sender = {"shop_id": "x0", "shop_name": "x", "mail": {"sender_address": "0", "shop_copy_address": "0"}}
    refused = await checkout.http.post("/admin/v1/shops", json=bad_sender, headers=admin)
    assert (refused.status_code, refused.json()["reason_code"]) == (422, "mail_address_invalid"), refused.text
    shop = await checkout.create_shop("tea")
    for raw in ('{"carriers": [{"carrier_id": "y\\u0000", "name": "ヤマト", "accepts_card": true}]}',
                '{"carriers": [{"carrier_id": "y", "name": "\\udaa6", "accepts_card": true}]}'):
        response = await checkout.http.put("/v1/shops/tea/carriers", content=raw.encode(),
                                           headers={**shop.operator, "Content-Type": "application/json"})
        assert (response.status_code, response.json()["reason_code"]) == (422, "schema_invalid"), response.text
        assert "carriers.0" in response.json()["detail"]
    assert (await checkout.http.put("/v1/shops/tea/carriers", json=CARRIERS, headers=shop.operator)).status_code == 200


async def test_the_admin_api_refuses_a_wrong_token(checkout):
    body = {"shop_id": "x", "shop_name": "x", "mail": {"sender_address": "a@b.jp", "shop_copy_address": "c@d.jp"}}
    for headers in ({}, {"X-Admin-Token": "wrong"}):
        response = await checkout.http.post("/admin/v1/shops", json=body, headers=headers)
        assert response.status_code == 401, response.text


async def test_the_card_method_is_configured_step_by_step_and_each_change_publishes_a_full_snapshot(checkout):
    shop = await checkout.create_shop("tea")
    base = "/v1/shops/tea"
    added = await checkout.http.post(f"{base}/payment-methods", json={"method": "escott_card"}, headers=shop.operator)
    assert added.json()["payment_methods"][0]["missing"] == ["sales_mode", "gateway_credentials"]
    settings = {**CARD_SETTINGS, "card_link_mode": "never", "subscriptions_enabled": True,
                "contract_start": "2025-01-01", "renewal_sales_mode": "auth_capture", "authorize_at_renewal": False}
    configured = await checkout.http.put(f"{base}/payment-methods/escott_card", json=settings, headers=shop.operator)
    method = configured.json()["payment_methods"][0]
    assert (method["card_link_mode"], method["card_link_mode_forced"]) == ("always", True)  # R7
    assert method["configured"] is False and method["note"]["on_confirmation_page"] is True
    await checkout.http.put(f"{base}/carriers", json=CARRIERS, headers=shop.operator)
    mail = {"sender_address": "shop@tea.example.jp", "sender_name": "お茶の店", "shop_copy_address": "o@tea.example.jp"}
    await checkout.http.put(f"{base}/mail", json=mail, headers=shop.operator)
    credentials = await checkout.http.put(f"{base}/gateway-credentials", json=CREDENTIALS, headers=shop.operator)
    assert credentials.status_code == 204
    view = (await checkout.http.get(f"{base}/settings", headers=shop.operator)).json()
    assert view["payment_methods"][0]["configured"] is True and view["payment_methods"][0]["gateway_credentials_set"]
    records = await checkout.records(SHOPS_SETTINGS, at_least=6)
    snapshots = [Envelope.from_bytes(r.value).event_as(ShopSettingsChanged) for r in records]
    assert {r.key for r in records} == {b"tea"}
    assert [s.card is not None and s.card.configured for s in snapshots] == [False, False, False, False, False, True]
    last = snapshots[-1]
    assert (last.mail.sender_name, [c.accepts_card for c in last.carriers]) == ("お茶の店", [True, False])
    assert last.card.card_link_mode == "always" and last.card.renewal_sales_mode == "auth_capture"
    assert last.card.note.in_thanks_mail and str(last.card.contract_start) == "2025-01-01"


async def test_invalid_settings_are_refused_with_a_reason_code(checkout):
    shop = await checkout.create_shop("tea")
    base = "/v1/shops/tea"
    early = await checkout.http.put(f"{base}/payment-methods/escott_card", json=CARD_SETTINGS, headers=shop.operator)
    assert (early.status_code, early.json()["reason_code"]) == (422, "card_method_not_added")
    await checkout.http.post(f"{base}/payment-methods", json={}, headers=shop.operator)
    bad_range = {**CARD_SETTINGS, "min_amount": 5000, "max_amount": 1000}
    refused = await checkout.http.put(f"{base}/payment-methods/escott_card", json=bad_range, headers=shop.operator)
    assert (refused.status_code, refused.json()["reason_code"]) == (422, "amount_range_invalid")
    typo = await checkout.http.put(f"{base}/payment-methods/escott_card", json={**CARD_SETTINGS, "sales_mod": "auth"},
                                   headers=shop.operator)
    assert (typo.status_code, typo.json()["reason_code"]) == (422, "schema_invalid")


async def test_the_shops_keys_reach_the_subscription_service(checkout, subscription_stub):
    body = {"shop_id": "tea", "shop_name": "お茶の店",
            "mail": {"sender_address": "info@tea.example.jp", "shop_copy_address": "orders@tea.example.jp"}}
    subscription_stub.down = True
    first = (await checkout.http.post("/admin/v1/shops", json=body, headers={"X-Admin-Token": ADMIN_TOKEN})).json()
    assert (first["operator_key_sync"], first["storefront_key_sync"]) == ("pending", "pending")
    subscription_stub.down = False
    keys = {"storefront_key": first["storefront_key"], "operator_key": first["operator_key"]}
    repeat = await checkout.http.post("/admin/v1/shops", json={**body, **keys}, headers={"X-Admin-Token": ADMIN_TOKEN})
    assert (repeat.json()["operator_key_sync"], repeat.json()["storefront_key_sync"]) == ("ok", "ok")
    assert subscription_stub.operator_keys == {"tea": hashlib.sha256(keys["operator_key"].encode()).hexdigest()}
    assert subscription_stub.storefront_keys == {"tea": hashlib.sha256(keys["storefront_key"].encode()).hexdigest()}


async def test_the_storefront_key_digest_reaches_payment_for_the_members_card_page(checkout, payment_stub):
    body = {"shop_id": "tea", "shop_name": "お茶の店",
            "mail": {"sender_address": "info@tea.example.jp", "shop_copy_address": "orders@tea.example.jp"}}
    created = (await checkout.http.post("/admin/v1/shops", json=body, headers={"X-Admin-Token": ADMIN_TOKEN})).json()
    assert created["storefront_key_sync"] == "ok"
    assert payment_stub.storefront_keys == {"tea": hashlib.sha256(created["storefront_key"].encode()).hexdigest()}


async def test_renewal_settings_are_set_with_the_card_method_and_published(checkout):
    shop = await checkout.configured_shop("tea")
    renewal = {"lead_days": 5, "hour_jst": 9, "notify_buyer_on_failure": False,
               "retry": {"max_tries": 3, "within_days": 10}}
    settings = {**CARD_SETTINGS, "renewal_sales_mode": "auth_capture", "authorize_at_renewal": False,
                "contract_start": "2025-01-01", "contract_end": "2026-03-31", "renewal": renewal}
    response = await checkout.http.put("/v1/shops/tea/payment-methods/escott_card", json=settings,
                                       headers=shop.operator)
    assert response.status_code == 200, response.text
    method = response.json()["payment_methods"][0]
    assert (method["renewal"], method["renewal_sales_mode"], method["contract_end"]) == (renewal, "auth_capture",
                                                                                         "2026-03-31")
    records = await checkout.records(SHOPS_SETTINGS, at_least=6)
    last = Envelope.from_bytes(records[-1].value).event_as(ShopSettingsChanged)
    assert last.card is not None and last.card.renewal.model_dump() == renewal
    assert (last.card.authorize_at_renewal, str(last.card.contract_end)) == (False, "2026-03-31")


async def test_the_card_notice_switch_is_set_with_the_card_method_and_published(checkout):
    shop = await checkout.configured_shop("tea")
    response = await checkout.http.put("/v1/shops/tea/payment-methods/escott_card",
                                       json={**CARD_SETTINGS, "notify_card_changes": False}, headers=shop.operator)
    assert response.status_code == 200, response.text
    assert response.json()["payment_methods"][0]["notify_card_changes"] is False
    records = await checkout.records(SHOPS_SETTINGS, at_least=6)
    last = Envelope.from_bytes(records[-1].value).event_as(ShopSettingsChanged)
    assert last.card is not None and last.card.notify_card_changes is False


@pytest.mark.parametrize(("change", "code", "field"), [
    ({"renewal": {"hour_jst": 24}}, "schema_invalid", ["body", "renewal", "hour_jst"]),
    ({"renewal": {"lead_days": -1}}, "schema_invalid", ["body", "renewal", "lead_days"]),
    ({"renewal": {"retry": {"max_tries": 9}}}, "schema_invalid", ["body", "renewal", "retry", "max_tries"]),
    ({"renewal": {"hour": 9}}, "schema_invalid", ["body", "renewal", "hour"]),
    ({"renewal_sales_mode": "capture"}, "schema_invalid", ["body", "renewal_sales_mode"]),
    ({"contract_start": "2026-01-01", "contract_end": "2025-12-31"}, "contract_period_invalid", "contract_end"),
])  # fmt: skip
async def test_invalid_renewal_settings_are_refused_naming_the_field(checkout, change, code, field):
    shop = await checkout.configured_shop("tea")
    response = await checkout.http.put("/v1/shops/tea/payment-methods/escott_card", json={**CARD_SETTINGS, **change},
                                       headers=shop.operator)
    body = response.json()
    assert (response.status_code, body["reason_code"]) == (422, code), response.text
    named = body["errors"][0]["loc"] if code == "schema_invalid" else body["field"]
    assert named == field


async def test_settings_written_back_as_read_round_trip_with_their_etag(checkout):
    shop = await checkout.configured_shop("tea")
    base = "/v1/shops/tea"
    read = await checkout.http.get(f"{base}/settings", headers=shop.operator)
    settings, tag = read.json(), read.headers["ETag"]
    card = {**settings["payment_methods"][0], "display_name": "カード払い"}  # read-only members included
    written = await checkout.http.put(f"{base}/payment-methods/escott_card", json=card,
                                      headers={**shop.operator, "If-Match": tag})
    assert written.status_code == 200, written.text
    assert written.json()["payment_methods"][0]["display_name"] == "カード払い"
    assert written.headers["ETag"] != tag
    mail = await checkout.http.put(f"{base}/mail", json=settings["mail"],
                                   headers={**shop.operator, "If-Match": written.headers["ETag"]})
    carriers = await checkout.http.put(f"{base}/carriers", json={"carriers": settings["carriers"]},
                                       headers=shop.operator)
    assert (mail.status_code, carriers.status_code) == (200, 200), (mail.text, carriers.text)
    again = await checkout.http.get(f"{base}/settings", headers=shop.operator)
    assert again.json() == written.json() and again.headers["ETag"] == written.headers["ETag"]


async def test_a_write_based_on_settings_changed_since_is_412_and_changes_nothing(checkout):
    shop = await checkout.configured_shop("tea")
    base = "/v1/shops/tea"
    read = await checkout.http.get(f"{base}/settings", headers=shop.operator)
    first = {**read.json()["payment_methods"][0], "display_name": "一人目の変更"}
    second = {**read.json()["payment_methods"][0], "display_name": "二人目の変更"}
    headers = {**shop.operator, "If-Match": read.headers["ETag"]}
    assert (await checkout.http.put(f"{base}/payment-methods/escott_card", json=first, headers=headers)).is_success
    stale = await checkout.http.put(f"{base}/payment-methods/escott_card", json=second, headers=headers)
    assert (stale.status_code, stale.headers["content-type"]) == (412, "application/problem+json"), stale.text
    assert stale.json()["reason_code"] == "precondition_failed"
    now = await checkout.http.get(f"{base}/settings", headers=shop.operator)
    assert stale.json()["etag"] == now.headers["ETag"]
    assert now.json()["payment_methods"][0]["display_name"] == "一人目の変更"
    unknown = await checkout.http.put(f"{base}/payment-methods/escott_card", json={**second, "colour": "red"},
                                      headers=shop.operator)
    assert (unknown.status_code, unknown.json()["reason_code"]) == (422, "schema_invalid")
