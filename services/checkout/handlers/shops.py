"""Shops: creation by the platform (admin), settings by the shop's operators, API key checks.

Keys are random, returned once, and stored as SHA-256 digests. The operator key's digest is also pushed to
the payment, notification and subscription services so their operator APIs accept the same key, and the
storefront key's digest to the subscription service (its storefront API: the shop's my-page). Gateway
credentials pass straight through to the payment service; checkout only remembers that they were accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from delivery.logs import get_logger
from services.checkout import translate
from services.checkout.domain import shop as rules
from services.checkout.domain.shop import MailSettings, Shop
from services.checkout.handlers.deps import Deps
from services.checkout.ports import (
    GatewayCredentials,
    InternalServiceError,
    ShopKeys,
    UnitOfWork,
)

log = get_logger(__name__)
MIN_KEY_LENGTH = 16
Put = Callable[[str, str], Awaitable[None]]
"""A registry's `put_operator_key` / `put_storefront_key` (shop id, SHA-256 hex)."""


class ShopNotFound(LookupError):
    pass


class SettingsChanged(Exception):
    """A write conditioned on the version an operator read (`If-Match`) found a newer one (issue 14)."""

    def __init__(self, shop_id: str, *, read: int | None, current: int):
        super().__init__(f"the settings of shop {shop_id!r} changed since they were read (version {read}, now "
                         f"{current}): read them again and reapply the change")
        self.current = current


class ShopConflict(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, kw_only=True)
class NewShop:
    shop_id: str
    shop_name: str
    mail: MailSettings
    storefront_key: str | None = None
    operator_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class ShopCreated:
    shop: Shop
    storefront_key: str
    operator_key: str
    created: bool
    operator_key_synced: bool
    storefront_key_synced: bool = True


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_shop(deps: Deps, command: NewShop) -> ShopCreated:
    """Create a shop, or accept a repeat with the same keys (idempotent; name and mail are updated)."""
    storefront_key = command.storefront_key or secrets.token_urlsafe(32)
    operator_key = command.operator_key or secrets.token_urlsafe(32)
    _check_keys(storefront_key, operator_key)
    keys = ShopKeys(storefront_sha256=key_digest(storefront_key), operator_sha256=key_digest(operator_key))
    async with deps.uow() as uow:
        existing = await uow.shops.keys(command.shop_id)
        if existing is None:
            shop = await _insert_shop(uow, command, keys)
        else:
            shop = await _repeat_shop(uow, command, keys=keys, existing=existing)
    synced = await _push_operator_key(deps, command.shop_id, keys.operator_sha256)
    storefront_synced = await _push_storefront_key(deps, command.shop_id, keys.storefront_sha256)
    return ShopCreated(shop=shop, storefront_key=storefront_key, operator_key=operator_key,
                       created=existing is None, operator_key_synced=synced, storefront_key_synced=storefront_synced)


async def _insert_shop(uow: UnitOfWork, command: NewShop, keys: ShopKeys) -> Shop:
    shop = rules.create_shop(shop_id=command.shop_id, shop_name=command.shop_name, mail=command.mail)
    if not await uow.shops.add(shop, keys):
        raise ShopConflict("key_in_use", "the shop id or one of the keys is already in use")
    await _publish(uow, shop)
    return shop


async def _repeat_shop(uow: UnitOfWork, command: NewShop, *, keys: ShopKeys, existing: ShopKeys) -> Shop:
    if command.storefront_key is None or command.operator_key is None or existing != keys:
        raise ShopConflict("shop_exists", f"shop {command.shop_id!r} exists; repeat the request with its keys")
    current = await uow.shops.get(command.shop_id, for_update=True)
    if current is None:
        raise ShopNotFound(command.shop_id)
    shop = rules.set_mail(rules.rename_shop(current, command.shop_name), command.mail)
    if shop is not current:
        await uow.shops.save(shop)
        await _publish(uow, shop)
    return shop


def _check_keys(storefront_key: str, operator_key: str) -> None:
    if min(len(storefront_key), len(operator_key)) < MIN_KEY_LENGTH:
        raise ShopConflict("key_too_short", f"keys must have at least {MIN_KEY_LENGTH} characters")
    if storefront_key == operator_key:
        raise ShopConflict("keys_equal", "the storefront key and the operator key must differ (different roles)")


async def _push_operator_key(deps: Deps, shop_id: str, digest: str) -> bool:
    """Tell payment and the other services with an operator API the key's digest (I6); True if all took it.
    A failure is reported, and a repeat of the creation retries."""
    puts = [(registry.service, registry.put_operator_key) for registry in (deps.payment, *deps.key_registries)]
    synced = await _push_digest(shop_id, digest, puts=puts, key="operator")
    async with deps.uow() as uow:
        await uow.shops.set_operator_key_synced(shop_id, synced)
    return synced


async def _push_storefront_key(deps: Deps, shop_id: str, digest: str) -> bool:
    """Tell the services with a storefront API (subscription, payment's card page) the storefront key's digest;
    True if all took it."""
    puts = [(registry.service, registry.put_storefront_key) for registry in deps.storefront_key_registries]
    return await _push_digest(shop_id, digest, puts=puts, key="storefront")


async def _push_digest(shop_id: str, digest: str, *, puts: Sequence[tuple[str, Put]], key: str) -> bool:
    synced = True
    for service, put in puts:
        try:
            await put(shop_id, digest)
        except InternalServiceError as exc:
            log.warning(f"shop.{key}_key_not_pushed", shop_id=shop_id, service=service, error=str(exc))
            synced = False
    return synced


async def _publish(uow: UnitOfWork, shop: Shop) -> None:
    await uow.emit(translate.shop_settings_changed(shop), correlation_id=f"shop:{shop.shop_id}",
                   subject_version=shop.version)


async def get_shop(deps: Deps, shop_id: str) -> Shop:
    async with deps.uow() as uow:
        shop = await uow.shops.get(shop_id)
    if shop is None:
        raise ShopNotFound(shop_id)
    return shop


async def change_shop(deps: Deps, shop_id: str, change: Callable[[Shop], Shop], *,
                      read_version: int | None = None) -> Shop:
    """Apply one settings change (a pure `domain.shop` function) and publish the new full snapshot. With
    `read_version` (the version the operator read), a shop changed since is `SettingsChanged`: two operators
    editing at once never overwrite each other silently (checked under the row lock)."""
    async with deps.uow() as uow:
        shop = await uow.shops.get(shop_id, for_update=True)
        if shop is None:
            raise ShopNotFound(shop_id)
        if read_version is not None and read_version != shop.version:
            raise SettingsChanged(shop_id, read=read_version, current=shop.version)
        updated = change(shop)
        if updated is not shop:
            await uow.shops.save(updated)
            await _publish(uow, updated)
    return updated


async def set_gateway_credentials(deps: Deps, shop_id: str, credentials: GatewayCredentials, *,
                                  read_version: int | None = None) -> Shop:
    """Forward the credentials to the payment service (write-only there); remember only "set"."""
    shop = await get_shop(deps, shop_id)
    if read_version is not None and read_version != shop.version:
        raise SettingsChanged(shop_id, read=read_version, current=shop.version)
    await deps.payment.put_gateway_credentials(shop_id, credentials)
    log.info("shop.gateway_credentials_accepted", shop_id=shop_id,
             detail=f"gateway credentials of shop {shop_id} accepted by the payment service")
    return await change_shop(deps, shop_id, rules.mark_credentials_set)


async def is_operator(deps: Deps, shop_id: str, key: str) -> bool:
    """Whether `key` is this shop's operator key (constant-time comparison of digests)."""
    async with deps.uow() as uow:
        keys = await uow.shops.keys(shop_id)
    return keys is not None and hmac.compare_digest(keys.operator_sha256, key_digest(key))


async def storefront_shop(deps: Deps, key: str) -> Shop | None:
    """The shop whose storefront key this is, if any (one read: no transaction around it)."""
    async with deps.uow.reading() as uow:
        return await uow.shops.by_storefront_key(key_digest(key))
