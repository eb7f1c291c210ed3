"""The 3-D Secure result fields on a 1Auth/1Gathering: formats, and that they belong to a finished authentication.

A charge that carries any of the fields must carry the ThreeDSServerTransactionId of an authentication this
merchant finished, for the same card source (the token; the member it authenticated; or the member the
authenticated token was then stored on) and the same amount, with every field as
it was returned, used by no charge before; otherwise ``U05`` (tampering). A failed authentication's fields
(SecureResultCode 1, 8, 9) are ``U04``. A charge without any of the fields is not checked (3-D Secure is the
shop's choice at Sony too).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from emulator.call import Call
from emulator.tds_state import THREE_D_FIELDS, SessionState, TdsSession

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_FORMATS = {
    "MessageVersionNo3D": ("K30", re.compile(r"[0-9]\.[0-9]\.[0-9]\Z")),
    "ThreeDSServerTransactionId": ("K31", _UUID),
    "DSTransactionId": ("K31", _UUID),
    "EncodeXId3D": ("K32", re.compile(r"[0-9A-Za-z+/=]{0,40}\Z")),
    "TransactionStatus3D": ("K33", re.compile(r"[YNUARCI]\Z")),
    "CAVVAlgorithm3D": ("K34", re.compile(r"[0-9A-Z]?\Z")),
    "CAVV3D": ("K35", re.compile(r"[0-9A-Za-z+/=]{0,40}\Z")),
    "ECI3D": ("K36", re.compile(r"[0-9]{2}\Z")),
    "SecureResultCode": ("K01", re.compile(r"[0-9]\Z")),
}
REFUSED_RESULTS = frozenset({"1", "8", "9"})


def carries_3ds(params: Mapping[str, str]) -> bool:
    """True when the charge sends any 3-D Secure result field."""
    return any(params.get(name) for name in THREE_D_FIELDS)


def format_codes(params: Mapping[str, str]) -> list[str]:
    """Format codes (K30-K36) of the 3-D Secure fields present."""
    codes = []
    for name, (code, pattern) in _FORMATS.items():
        value = params.get(name, "")
        if value and not pattern.match(value) and code not in codes:
            codes.append(code)
    return codes


def authentication_code(call: Call) -> str | None:
    """Why the charge's 3-D Secure fields are refused, or None (also None when it sends none)."""
    if not carries_3ds(call.params):
        return None
    book = call.ledger.tds
    session = book.sessions.get(book.by_server_id.get(call.get("ThreeDSServerTransactionId"), ""))
    if session is None or not _belongs(call, session):
        return "U05"
    if session.result.get("SecureResultCode") in REFUSED_RESULTS:
        return "U04"
    return None


def spend(call: Call) -> None:
    """Mark the authentication used by this charge (after the charge was accepted)."""
    book = call.ledger.tds
    session = book.sessions.get(book.by_server_id.get(call.get("ThreeDSServerTransactionId"), ""))
    if session is not None:
        session.state = SessionState.USED


def _belongs(call: Call, session: TdsSession) -> bool:
    if session.merchant_id != call.merchant.merchant_id or session.state is not SessionState.DONE:
        return False
    if session.operate_id != "3Secure" or str(session.amount) != call.get("Amount"):
        return False
    return _same_card(call, session) and all(call.get(name) == session.result.get(name, "") for name in THREE_D_FIELDS)


def _same_card(call: Call, session: TdsSession) -> bool:
    """The charge pays with the authenticated token, or with the member that token's card was stored on since
    (3Secure, then 4MemAdd/4MemChg with the same token, then the charge by KaiinId: WOO's "save the card")."""
    if call.get("Token"):
        return session.token == call.get("Token")
    member = call.ledger.members.get((call.merchant.merchant_id, call.get("KaiinId")))
    if member is None:
        return False
    if session.token:
        token = call.ledger.tokens.get(session.token)
        return token is not None and token.used_at is not None and member.card == token.card
    return session.request.get("KaiinId") == call.get("KaiinId")
