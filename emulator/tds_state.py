"""Records of the 3-D Secure round trips (OTDS010): one session per accepted request, kept in the ledger.

A session remembers what was authenticated (merchant, card source, amount) and the result it returned, so the
following 1Auth/1Gathering can be checked against it. No protocol rules here (`emulator/tds.py` has them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

THREE_D_FIELDS = ("SecureResultCode", "MessageVersionNo3D", "TransactionStatus3D", "EncodeXId3D", "CAVVAlgorithm3D",
                  "CAVV3D", "ECI3D", "DSTransactionId", "ThreeDSServerTransactionId")
"""The result fields the return carries and a shop sends back on its 1Auth/1Gathering (WOO/WEL do exactly this)."""


class SessionState(StrEnum):
    CHALLENGE = "challenge"  # the challenge page is waiting for the buyer
    DONE = "done"  # the result was returned to RedirectUrl
    USED = "used"  # its fields were spent by a 1Auth/1Gathering


@dataclass(slots=True, kw_only=True)
class TdsSession:
    """One authentication: what it was for, where it returns, and its result once decided."""

    session_id: str
    merchant_id: str
    operate_id: str  # 3Secure, 4MemAdd or 4MemChg
    request: dict[str, str] = field(repr=False)  # the decrypted inner fields (token, KaiinPass: never shown)
    pan: str = field(repr=False)
    amount: int | None
    proc_no: str
    redirect_url: str
    created_at: datetime
    one_time_code: str = field(repr=False, default="")
    state: SessionState = SessionState.CHALLENGE
    result: dict[str, str] = field(default_factory=dict)

    @property
    def token(self) -> str:
        return self.request.get("Token", "")

    def to_json(self) -> dict[str, Any]:
        """Admin view: no token, no KaiinPass, the card masked."""
        return {"session_id": self.session_id, "merchant_id": self.merchant_id, "operate_id": self.operate_id,
                "amount": self.amount, "proc_no": self.proc_no, "state": self.state.value,
                "card": self.pan[:4] + "*" * (len(self.pan) - 8) + self.pan[-4:] if self.pan else "",
                "kaiin_id": self.request.get("KaiinId") or None, "created_at": self.created_at.isoformat(),
                "result": {k: v for k, v in self.result.items() if k in (*THREE_D_FIELDS, "ResponseCd")}}


@dataclass(kw_only=True)
class TdsBook:
    """Every 3-D Secure session of the run, indexed for duplicates (U07/U08), ProcNo reuse (K89) and the charge."""

    sessions: dict[str, TdsSession] = field(default_factory=dict)
    by_message: dict[str, str] = field(default_factory=dict)  # sha256 of the EncryptValue -> session id
    by_proc_no: dict[tuple[str, str], str] = field(default_factory=dict)  # (merchant, ProcNo) -> session id
    by_server_id: dict[str, str] = field(default_factory=dict)  # ThreeDSServerTransactionId -> session id

    def add(self, session: TdsSession, *, digest: str) -> None:
        self.sessions[session.session_id] = session
        self.by_message[digest] = session.session_id
        self.by_proc_no[(session.merchant_id, session.proc_no)] = session.session_id

    def finished(self, session: TdsSession, result: dict[str, str]) -> None:
        session.state, session.result = SessionState.DONE, result
        server_id = result.get("ThreeDSServerTransactionId")
        if server_id:
            self.by_server_id[server_id] = session.session_id
