"""Platform API (`X-Admin-Token`): create shops and issue their storefront and operator keys."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from services.checkout.domain import shop as rules
from services.checkout.entrypoints.http.auth import admin_guard
from services.checkout.entrypoints.http.errors import ApiError
from services.checkout.entrypoints.http.schemas import CreateShopBody
from services.checkout.entrypoints.http.views import shop_view
from services.checkout.handlers import Deps
from services.checkout.handlers import shops as handlers


def router(deps: Deps, admin_token: SecretStr) -> APIRouter:
    api = APIRouter(prefix="/admin/v1", tags=["admin"], dependencies=[Depends(admin_guard(admin_token))])

    @api.post("/shops", status_code=201, summary="Create a shop (idempotent for the same keys)")
    async def create_shop(body: CreateShopBody) -> JSONResponse:
        """Returns both keys (shown once; only their digests are stored). 201 when created, 200 on a repeat.
        `operator_key_sync` is `pending` if payment, notification or subscription did not take the operator key's
        digest yet (their operator APIs stay closed to it): repeat the call. `payment_sync` is the same flag (v1
        name). `storefront_key_sync` is the same for the storefront key's digest (subscription's storefront API)."""
        command = handlers.NewShop(
            shop_id=body.shop_id, shop_name=body.shop_name, mail=body.mail.domain(),
            storefront_key=body.storefront_key.get_secret_value() if body.storefront_key else None,
            operator_key=body.operator_key.get_secret_value() if body.operator_key else None,
        )  # fmt: skip
        try:
            result = await handlers.create_shop(deps, command)
        except handlers.ShopConflict as exc:
            raise ApiError(409, exc.code, exc.message) from None
        except rules.SettingsError as exc:  # e.g. a sender address that is not a mail address
            raise ApiError(422, exc.code, exc.message) from None
        body_out = {**shop_view(result.shop), "storefront_key": result.storefront_key,
                    "operator_key": result.operator_key,
                    "operator_key_sync": "ok" if result.operator_key_synced else "pending",
                    "payment_sync": "ok" if result.operator_key_synced else "pending",
                    "storefront_key_sync": "ok" if result.storefront_key_synced else "pending"}
        return JSONResponse(body_out, status_code=201 if result.created else 200)

    return api
