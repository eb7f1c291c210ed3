"""Encryption at rest of the secrets payment must keep (design §8): Fernet, keys from the environment.

`PAYMENT_ENCRYPTION_KEY` holds one Fernet key, or several separated by commas for rotation: the first
encrypts, all decrypt (`MultiFernet`), so a new key can be introduced before old rows are re-encrypted.

A ciphertext always opens to the same secret, so the last few opened are remembered (the shop's credentials are
read for every authorization): the stored value stays encrypted, the memory holds what the process uses anyway.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from services.payment.ports import CredentialsUnreadable


class Cipher:
    def __init__(self, keys: SecretStr) -> None:
        parts = [k.strip() for k in keys.get_secret_value().split(",") if k.strip()]
        if not parts:
            raise ValueError("PAYMENT_ENCRYPTION_KEY is empty")
        try:
            self._fernet = MultiFernet([Fernet(k) for k in parts])
        except ValueError:
            raise ValueError("PAYMENT_ENCRYPTION_KEY must be Fernet keys (url-safe base64 of 32 bytes)") from None
        self._open = lru_cache(maxsize=256)(self._open_uncached)

    def encrypt(self, secret: SecretStr) -> bytes:
        return self._fernet.encrypt(secret.get_secret_value().encode())

    def decrypt(self, ciphertext: bytes) -> SecretStr:
        return self._open(bytes(ciphertext))

    def _open_uncached(self, ciphertext: bytes) -> SecretStr:
        try:
            return SecretStr(self._fernet.decrypt(ciphertext).decode())
        except InvalidToken:
            raise CredentialsUnreadable("stored secret cannot be decrypted with PAYMENT_ENCRYPTION_KEY") from None
