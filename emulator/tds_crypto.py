"""``EncryptValue`` of the 3-D Secure messages (reference §5.4): base64(AES-128-CBC(urlencoded fields, PKCS#7)).

The key and the IV are 16 ASCII characters each, issued per merchant (the emulator's merchant config). Both
directions use the same scheme: the shop encrypts the OTDS010 request, the gateway encrypts the return.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK_BITS = 128


class Undecryptable(ValueError):
    """The value is not base64, not a whole number of AES blocks, badly padded, or not UTF-8 text."""


def _cipher(key: str, iv: str) -> Cipher[modes.CBC]:
    key_bytes, iv_bytes = key.encode("ascii"), iv.encode("ascii")
    if len(key_bytes) != 16 or len(iv_bytes) != 16:
        raise ValueError("the 3-D Secure key and IV are 16 ASCII characters each")
    return Cipher(algorithms.AES(key_bytes), modes.CBC(iv_bytes))


def encrypt_fields(fields: Mapping[str, str], *, key: str, iv: str) -> str:
    """The ``EncryptValue`` for ``fields`` (form-urlencoded like PHP's ``http_build_query``)."""
    padder = padding.PKCS7(BLOCK_BITS).padder()
    plain = padder.update(urlencode(list(fields.items())).encode("utf-8")) + padder.finalize()
    encryptor = _cipher(key, iv).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")


def decrypt_fields(value: str, *, key: str, iv: str) -> dict[str, str]:
    """The fields inside an ``EncryptValue``; ``Undecryptable`` when it was not made with this key and IV."""
    try:
        raw = base64.b64decode(value.replace(" ", "+"), validate=True)
        decryptor = _cipher(key, iv).decryptor()
        padded = decryptor.update(raw) + decryptor.finalize()
        unpadder = padding.PKCS7(BLOCK_BITS).unpadder()
        text = (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise Undecryptable(str(exc) or type(exc).__name__) from None
    return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=False))
