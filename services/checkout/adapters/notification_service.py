"""`OperatorKeyRegistry` of the notification service: its mail log opens with the shop's operator key (I6)."""

from __future__ import annotations

import httpx

from services.checkout.adapters.internal_http import put_json, segment


class NotificationServiceClient:
    service = "notification"

    def __init__(self, client: httpx.AsyncClient):
        self._client = client

    async def put_operator_key(self, shop_id: str, key_sha256: str) -> None:
        await put_json(self._client, f"/internal/v1/shops/{segment(shop_id)}/operator-key", {"sha256": key_sha256},
                       service=self.service)
