"""3-D Secure test cards: which card takes which path through the authentication, and the result fields of each.

Sony publishes no 3-D Secure test cards (reference §9.14); these are the emulator's own choices, listed in the
README's card table. Any card not listed is authenticated frictionlessly (SecureResultCode 0).
"""

from __future__ import annotations

import base64
import random
import uuid
from dataclasses import dataclass

from emulator.cards import brand_of

MESSAGE_VERSION = "2.2.0"


@dataclass(frozen=True, slots=True, kw_only=True)
class TdsPath:
    """How authenticating a card goes: a challenge first, or straight to a result."""

    label: str
    challenge: bool = False
    secure_result: str = "0"  # SecureResultCode when decided without a challenge (or after a right code)
    response_cd: str = "OK"
    status: str = "Y"  # TransactionStatus3D


FRICTIONLESS = TdsPath(label="frictionless: authenticated without a challenge (SecureResultCode 0)")
FAILED = TdsPath(label="authentication failed", secure_result="1", response_cd="U04", status="N")
CANCELLED = TdsPath(label="cancelled by the buyer on the challenge page", secure_result="1", response_cd="KI0",
                    status="N")
TIMED_OUT = TdsPath(label="challenge answered after the session timeout", secure_result="9", response_cd="KHW",
                    status="U")

TDS_CARDS: dict[str, TdsPath] = {
    "4000000000003220": TdsPath(label="challenge: a one-time code shown on the page; the right code gives "
                                      "SecureResultCode 0, a wrong one 1/U04", challenge=True),
    "4000000000003238": TdsPath(label="authentication failed (SecureResultCode 1, U04)", secure_result="1",
                                response_cd="U04", status="N"),
    "4000000000003246": TdsPath(label="not enrolled: no 3-D Secure password (SecureResultCode 2, U01)",
                                secure_result="2", response_cd="U01", status="A"),
    "4000000000003253": TdsPath(label="issuer does not support 3-D Secure (SecureResultCode 3, U02)",
                                secure_result="3", response_cd="U02", status="U"),
    "4000000000003261": TdsPath(label="brand does not support 3-D Secure (SecureResultCode 3, U09)",
                                secure_result="3", response_cd="U09", status="U"),
    "4000000000003279": TdsPath(label="authentication system under maintenance (SecureResultCode 8, U14)",
                                secure_result="8", response_cd="U14", status="U"),
    "4000000000003287": TdsPath(label="authentication system error (SecureResultCode 9, U03)", secure_result="9",
                                response_cd="U03", status="U"),
}


def path_of(pan: str) -> TdsPath:
    """The authentication path of ``pan``."""
    return TDS_CARDS.get(pan, FRICTIONLESS)


def _eci(pan: str, status: str) -> str:
    """ECI as the schemes assign it: authenticated, attempted, or not authenticated."""
    mastercard = (brand_of(pan) or ("", ""))[0] == "MASTER"
    if status == "Y":
        return "02" if mastercard else "05"
    if status == "A":
        return "01" if mastercard else "06"
    return "00" if mastercard else "07"


def result_fields(pan: str, path: TdsPath, rng: random.Random) -> dict[str, str]:
    """The 3-D Secure fields of a decided authentication (CAVV only when authenticated or attempted)."""
    proof = path.status in ("Y", "A")
    return {
        "ResponseCd": path.response_cd,
        "SecureResultCode": path.secure_result,
        "MessageVersionNo3D": MESSAGE_VERSION,
        "TransactionStatus3D": path.status,
        "EncodeXId3D": "",
        "CAVVAlgorithm3D": "2" if proof else "",
        "CAVV3D": base64.b64encode(rng.randbytes(20)).decode("ascii") if proof else "",
        "ECI3D": _eci(pan, path.status),
        "DSTransactionId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "ThreeDSServerTransactionId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    }
