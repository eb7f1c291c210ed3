"""Sealing the one-time card token between checkout and payment (design I5: no token in events).

A storefront's `CheckoutRequested` carries the token (public contract v1). Checkout forwards it to payment
inside `OrderPlaced` sealed: Fernet (AES-128-CBC + HMAC-SHA256, timestamped) under a key only checkout and
payment hold, so `orders.events`, its readers and its dead letters see ciphertext. Keys rotate by listing
several, comma-separated: the first seals, all open.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

DEV_ONLY_SEAL_KEY = "REVWLU9OTFkgdG9rZW4gc2VhbCBrZXksIG5vdCBzZWM="  # base64("DEV-ONLY token seal key, not sec")
"""The `make run` default; real deployments set CHECKOUT_TOKEN_SEAL_KEY and PAYMENT_TOKEN_SEAL_KEY."""


class UnsealableToken(Exception):
    """Wrong key (or a damaged value): the order cannot be paid until the keys agree."""


class TokenSealer:
    def __init__(self, keys: str):
        self._fernet = MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise UnsealableToken("the sealed card token does not open with this service's seal key") from None

    def __repr__(self) -> str:
        return "TokenSealer(keys=***)"
