"""`PaymentDirectory` over HTTP: the payment service's internal endpoints (docs/services.md). Errors never
carry response bodies (see `internal_http`)."""

from __future__ import annotations

import httpx

from delivery.logs import get_logger
from services.checkout.adapters.internal_http import put_json
from services.checkout.adapters.internal_http import segment as _segment
from services.checkout.ports import GatewayCredentials, MemberCard, PaymentServiceError

log = get_logger(__name__)


class PaymentServiceClient:
    service = "payment"

    def __init__(self, client: httpx.AsyncClient, *, member_card_timeout_s: float = 1.5):
        self._client = client
        self._member_card_timeout_s = member_card_timeout_s

    async def put_gateway_credentials(self, shop_id: str, credentials: GatewayCredentials) -> None:
        body = {"merchant_id": credentials.merchant_id, "merchant_pass": credentials.merchant_pass,
                "token_auth_code": credentials.token_auth_code, "tenant_id": credentials.tenant_id}
        if credentials.three_d_secure_key and credentials.three_d_secure_iv:
            body.update(three_d_secure_key=credentials.three_d_secure_key,
                        three_d_secure_iv=credentials.three_d_secure_iv)
        await self._put(f"/internal/v1/shops/{_segment(shop_id)}/gateway-credentials", body)

    async def put_operator_key(self, shop_id: str, key_sha256: str) -> None:
        await self._put(f"/internal/v1/shops/{_segment(shop_id)}/operator-key", {"sha256": key_sha256})

    async def put_storefront_key(self, shop_id: str, key_sha256: str) -> None:
        """The storefront key's digest: payment's card page API (the member's my-page, R18) opens with it."""
        await self._put(f"/internal/v1/shops/{_segment(shop_id)}/storefront-key", {"sha256": key_sha256})

    async def member_card(self, shop_id: str, member_id: str) -> MemberCard | None:
        """The member's linked card, or None when the payment service cannot tell us right now."""
        path = f"/internal/v1/shops/{_segment(shop_id)}/members/{_segment(member_id)}/card"
        try:
            response = await self._client.get(path, timeout=self._member_card_timeout_s)
            response.raise_for_status()
            data = response.json()
            return MemberCard(linked=bool(data["linked"]), masked_card_no=data.get("masked_card_no"))
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            log.warning("payment.member_card_lookup_failed", shop_id=shop_id, error=type(exc).__name__)
            return None

    async def _put(self, path: str, body: dict[str, str]) -> None:
        await put_json(self._client, path, body, service=self.service, error=PaymentServiceError)
