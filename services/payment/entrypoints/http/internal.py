"""Internal endpoints for checkout (`X-Internal-Token`): write-only gateway credentials and a member's stored
card. (The operator key digest is registered through `delivery.shop_keys.operator_key_router`.)"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from delivery.shop_keys import internal_guard
from services.payment.handlers.deps import Deps
from services.payment.handlers.shops import find_stored_card, store_credentials
from services.payment.ports import Credentials

_STRICT = ConfigDict(extra="forbid", hide_input_in_errors=True)
ShopId = Annotated[str, Field(min_length=1, max_length=128)]


class CredentialsIn(BaseModel):
    model_config = _STRICT
    merchant_id: str = Field(pattern=r"^[0-9]{1,20}$")
    merchant_pass: SecretStr = Field(min_length=1, max_length=20)
    token_auth_code: SecretStr = Field(min_length=1, max_length=32)
    tenant_id: str = Field(default="0001", pattern=r"^[0-9A-Za-z]{4}$")
    three_d_secure_key: SecretStr | None = Field(default=None, min_length=16, max_length=16,
                                                 description="EMV 3-D Secure AES-128 key issued by SPS")
    three_d_secure_iv: SecretStr | None = Field(default=None, min_length=16, max_length=16,
                                                description="its IV (16 characters)")


class StoredCardOut(BaseModel):
    linked: bool
    masked_card_no: str | None


def router(deps: Deps, internal_token: SecretStr) -> APIRouter:
    routes = APIRouter(prefix="/internal/v1/shops/{shop_id}", tags=["internal"],
                       dependencies=[Depends(internal_guard(internal_token))])

    @routes.put("/gateway-credentials", status_code=204, summary="Store the shop's e-SCOTT credentials (write-only)")
    async def put_credentials(shop_id: ShopId, body: CredentialsIn) -> Response:
        credentials = Credentials(merchant_id=body.merchant_id, merchant_pass=body.merchant_pass,
                                  token_auth_code=body.token_auth_code, tenant_id=body.tenant_id,
                                  tds_key=body.three_d_secure_key, tds_iv=body.three_d_secure_iv)
        await store_credentials(deps, credentials, shop_id=shop_id)
        return Response(status_code=204)

    @routes.get("/members/{member_id}/card", summary="Whether a member has a stored card, and its masked number")
    async def member_card(shop_id: ShopId, member_id: ShopId) -> StoredCardOut:
        card = await find_stored_card(deps, shop_id=shop_id, member_id=member_id)
        return StoredCardOut(linked=card.linked, masked_card_no=card.masked_card_no)

    return routes
