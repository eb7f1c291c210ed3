"""EMV 3-D Secure before a new card is charged (design §6.7): the payment waits for the buyer's authentication.

    (OrderPlaced with `authentication`, a new card) --> awaiting_authentication (the 3Secure form goes out)
    awaiting_authentication --return, SecureResultCode accepted--> pending (link/charge with the result fields)
    awaiting_authentication --return, refused-------------------> declined (reason authentication_failed)
    awaiting_authentication --deadline passed (sweep or a late return)--> declined (authentication_abandoned)

The return is recorded once: anything arriving when the payment no longer awaits it is refused
(`AuthenticationClosed`) and changes nothing. Renewals never get here (checkout sends no `authentication`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

RESULT_FIELDS = ("SecureResultCode", "MessageVersionNo3D", "TransactionStatus3D", "EncodeXId3D", "CAVVAlgorithm3D",
                 "CAVV3D", "ECI3D", "DSTransactionId", "ThreeDSServerTransactionId")
"""What the gateway returns and the following 1Auth/1Gathering must carry back (protocol reference §5.4)."""
ACCEPTABLE = frozenset({"0", "2", "3"})
"""SecureResultCodes a shop may accept: 0 authenticated; 2 not enrolled (U01, an attempt the scheme vouches for);
3 the issuer or brand does not take part (U02/U09). 1 (failed), 8 and 9 (the authentication system could not
decide) are never accepted."""
DEFAULT_ACCEPTED = ("0", "2", "3")
INFORMATIONAL = frozenset({"OK", "U01", "U02", "U09"})
"""ResponseCds that come with an acceptable SecureResultCode 2 or 3 (they explain it; they are not refusals)."""
CARD_COMPANY_CODES = frozenset({"U01", "U04"})
"""3-D Secure codes that send the buyer to the card company (R16): failed, or no 3-D Secure password."""
ABANDONED = "authentication_abandoned"
FAILED = "authentication_failed"
OPERATION = "3Secure"


class AuthenticationState(StrEnum):
    AWAITING = "awaiting"
    AUTHENTICATED = "authenticated"
    REFUSED = "refused"
    ABANDONED = "abandoned"


class AuthenticationClosed(Exception):
    """A return for a payment that no longer awaits one (recorded already, refused, abandoned, or none asked)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class AuthenticationRequest:
    """What checkout asked for with the order: until when, which results it accepts, where the buyer goes back."""

    deadline: datetime
    accepted_results: tuple[str, ...] = DEFAULT_ACCEPTED
    return_url: str | None = None


@dataclass(frozen=True, kw_only=True)
class Authentication:
    """The payment's 3-D Secure round trip: the request, the ProcNo sent, and the result once returned."""

    request: AuthenticationRequest
    proc_no: str
    state: AuthenticationState = AuthenticationState.AWAITING
    result: dict[str, str] = field(default_factory=dict)
    codes: tuple[str, ...] = ()

    @property
    def charge_fields(self) -> dict[str, str] | None:
        """The fields the charge carries, once authenticated."""
        if self.state is not AuthenticationState.AUTHENTICATED:
            return None
        return {name: self.result.get(name, "") for name in RESULT_FIELDS}


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """How a return is judged: accepted, or refused with the gateway's codes."""

    accepted: bool
    codes: tuple[str, ...]


def judge(result: Mapping[str, str], accepted_results: tuple[str, ...]) -> Verdict:
    """Accepted only when SecureResultCode is one the shop accepts (never 1/8/9) and ResponseCd says nothing else
    than OK or the code explaining a 2/3 result; a whitelist, so an unknown future value is refused."""
    codes = tuple(c for c in result.get("ResponseCd", "").split("|") if c)
    secure = result.get("SecureResultCode", "")
    ok = secure in ACCEPTABLE and secure in accepted_results and bool(codes) and set(codes) <= INFORMATIONAL
    return Verdict(accepted=ok, codes=tuple(c for c in codes if c != "OK"))


def check_return(auth: Authentication | None, result: Mapping[str, str], *, payment_number: str) -> None:
    """The return names this payment's round trip (ProcNo and MerchantFree1 as sent) and it still awaits one."""
    if auth is None:
        raise AuthenticationClosed("authentication_not_requested", "this payment asked for no 3-D Secure")
    if result.get("ProcNo") != auth.proc_no or result.get("MerchantFree1") != payment_number:
        raise AuthenticationClosed("authentication_return_invalid", "the return names another authentication")
    if auth.state is not AuthenticationState.AWAITING:
        raise AuthenticationClosed(f"authentication_{auth.state.value}",
                                   f"the authentication was already {auth.state.value}; this return changes nothing")


def decided(auth: Authentication, result: Mapping[str, str]) -> Authentication:
    """The round trip with its result recorded (authenticated or refused)."""
    verdict = judge(result, auth.request.accepted_results)
    kept = {name: result.get(name, "") for name in (*RESULT_FIELDS, "ResponseCd")}
    state = AuthenticationState.AUTHENTICATED if verdict.accepted else AuthenticationState.REFUSED
    return replace(auth, state=state, result=kept, codes=verdict.codes)


def abandoned(auth: Authentication) -> Authentication:
    return replace(auth, state=AuthenticationState.ABANDONED)


def overdue(auth: Authentication | None, now: datetime) -> bool:
    """True when the buyer did not come back in time."""
    return auth is not None and auth.state is AuthenticationState.AWAITING and now >= auth.request.deadline
