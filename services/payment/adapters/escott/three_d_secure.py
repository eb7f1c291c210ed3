"""EMV 3-D Secure's browser messages (protocol reference §5.4): ``EncryptValue`` = base64(AES-128-CBC(the
form-urlencoded fields, the shop's 16-character key and IV, PKCS#7)), both for the OTDS010 form and the return."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote, urlencode

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from services.payment.ports import Credentials

OTDS010 = "/online/tds/OTDS010.do"
RETURN_PATH = "/public/v1/three-d-secure/{order_id}/return"
CARD_RETURN_PATH = "/public/v1/three-d-secure/cards/{change_id}/return"


def _cipher(credentials: Credentials) -> Cipher[modes.CBC]:
    if credentials.tds_key is None or credentials.tds_iv is None:
        raise ValueError("the shop has no 3-D Secure key and IV")
    key = credentials.tds_key.get_secret_value().encode("ascii")
    iv = credentials.tds_iv.get_secret_value().encode("ascii")
    return Cipher(algorithms.AES(key), modes.CBC(iv))


class EscottThreeDSecure:
    """`ThreeDSecureForms` for e-SCOTT: the gateway's OTDS010 and payment's public return endpoint."""

    def __init__(self, *, gateway_url: str, public_url: str) -> None:
        self.action_url = gateway_url.rstrip("/") + OTDS010
        self._public_url = public_url.rstrip("/")

    def redirect_url(self, order_id: str) -> str:
        return self._public_url + RETURN_PATH.format(order_id=quote(order_id, safe=""))

    def card_redirect_url(self, change_id: str) -> str:
        return self._public_url + CARD_RETURN_PATH.format(change_id=quote(change_id, safe=""))

    def encrypt(self, fields: Mapping[str, str], credentials: Credentials) -> str:
        padder = padding.PKCS7(128).padder()
        plain = padder.update(urlencode(list(fields.items())).encode("utf-8")) + padder.finalize()
        encryptor = _cipher(credentials).encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")

    def decrypt(self, value: str, credentials: Credentials) -> dict[str, str] | None:
        try:
            decryptor = _cipher(credentials).decryptor()
            padded = decryptor.update(base64.b64decode(value.replace(" ", "+"), validate=True)) + decryptor.finalize()
            unpadder = padding.PKCS7(128).unpadder()
            text = (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return None
        return dict(parse_qsl(text, keep_blank_values=True))
