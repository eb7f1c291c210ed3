"""3-D Secure at ``/online/tds/OTDS010.do`` (reference §5.4, §8.10): the browser's round trip, without I/O.

    browser --POST MerchantId + EncryptValue--> start()  -> a challenge page, or the return at once
    buyer   --POST the one-time code----------> answer() -> the return
    return: an auto-submitted POST of EncryptValue (the result, encrypted with the merchant's key) to RedirectUrl

Inner OperateIds: ``3Secure`` (authentication only: the token is checked, never spent; the shop's next
1Auth/1Gathering carries the token and the result fields, `tds_charge.py` checks them), and ``4MemAdd``/``4MemChg``
(after a successful authentication the emulator runs the member operation itself; its ResponseCd is returned).

Choices (README): a message that cannot be decrypted or names an unknown merchant, and an exact duplicate of a
message (``U07`` while its session is open, ``U08`` after it ended) get an error page, since nothing says where to
return; every other refusal returns to RedirectUrl with the codes and ``SecureResultCode=9``, so a client that
only looks at SecureResultCode still stops. ``K89``: a ProcNo is used once per merchant, except ``0000000``, which
ECC and WOO's link type send on every request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from emulator import tokens
from emulator.call import Call
from emulator.fields import check_formats, is_digits, is_merchant_free
from emulator.members import authenticate
from emulator.tds_cards import CANCELLED, FAILED, TIMED_OUT, path_of, result_fields
from emulator.tds_crypto import Undecryptable, decrypt_fields, encrypt_fields
from emulator.tds_state import SessionState, TdsSession

if TYPE_CHECKING:
    from emulator.config import Merchant
    from emulator.engine import Engine

OPERATIONS = frozenset({"3Secure", "4MemAdd", "4MemChg"})
REUSABLE_PROC_NO = "0000000"
ECHO = ("OperateId", "MerchantFree1", "MerchantFree2", "MerchantFree3", "ProcNo")


@dataclass(frozen=True, kw_only=True)
class Page:
    """What the browser gets: ``return`` (auto-submit to RedirectUrl), ``challenge`` or ``error``."""

    kind: str
    redirect_url: str = ""
    encrypt_value: str = ""
    session: TdsSession | None = None
    code: str = ""


def _url_ok(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and len(value) <= 2048


def _format_codes(inner: Mapping[str, str]) -> list[str]:
    codes = check_formats(inner, ("MerchantId", "MerchantPass", "TransactionDate", "TenantId"),
                          ("Token", "KaiinId", "KaiinPass", "PayType", "Amount"))
    if inner.get("OperateId") not in OPERATIONS:
        codes.append("K06")
    for index, name in enumerate(("MerchantFree1", "MerchantFree2", "MerchantFree3")):
        if not is_merchant_free(inner.get(name, "")):
            codes.append(f"K0{7 + index}")
    if not is_digits(inner.get("ProcNo", ""), 7, 7):
        codes.append("K86")
    if inner.get("PostUrl") and not _url_ok(inner["PostUrl"]):
        codes.append("K87")
    if inner.get("OperateId") == "3Secure" and not inner.get("Amount"):
        codes.append("K23")
    member, token = bool(inner.get("KaiinId") or inner.get("KaiinPass")), bool(inner.get("Token"))
    needs_token = inner.get("OperateId") in ("4MemAdd", "4MemChg")
    if (needs_token and (not token or not inner.get("KaiinId"))) or (not needs_token and member == token):
        codes.append("K01")
    return sorted(set(codes))


def start(engine: Engine, *, merchant_id: str, encrypt_value: str) -> Page:
    """A browser arrived with a shop's request: refuse it, answer it at once, or show the challenge."""
    merchant = engine.merchants.get(merchant_id)
    if merchant is None or not merchant.tds_key:
        return Page(kind="error", code="K02")
    try:
        inner = decrypt_fields(encrypt_value, key=merchant.tds_key, iv=merchant.tds_iv)
    except Undecryptable:
        return Page(kind="error", code="U05")
    book = engine.ledger.tds
    digest = hashlib.sha256(encrypt_value.encode("utf-8")).hexdigest()
    if digest in book.by_message:
        open_ = book.sessions[book.by_message[digest]].state is SessionState.CHALLENGE
        return Page(kind="error", code="U07" if open_ else "U08")
    if not _url_ok(inner.get("RedirectUrl", "")):
        return Page(kind="error", code="K60")
    call = _call(engine, merchant, inner)
    codes = _format_codes(inner) or _refusal(engine, call, merchant)
    if codes:
        return _return(engine, merchant, inner=inner, result={"ResponseCd": "|".join(codes), "SecureResultCode": "9"})
    pan = _card(call)
    session = TdsSession(session_id=engine.ids.alnum(24), merchant_id=merchant.merchant_id,
                         operate_id=inner["OperateId"], request=dict(inner), pan=pan,
                         amount=int(inner["Amount"]) if inner.get("Amount") else None, proc_no=inner["ProcNo"],
                         redirect_url=inner["RedirectUrl"], created_at=call.now,
                         one_time_code=f"{engine.ids.rng.randrange(1_000_000):06d}")
    book.add(session, digest=digest)
    path = path_of(pan)
    if path.challenge:
        return Page(kind="challenge", session=session)
    return _finish(engine, session, result_fields(pan, path, engine.ids.rng))


def answer(engine: Engine, *, session_id: str, code: str, cancel: bool = False) -> Page:
    """The buyer answered the challenge (or cancelled it)."""
    session = engine.ledger.tds.sessions.get(session_id)
    if session is None:
        return Page(kind="error", code="U11")
    if session.state is not SessionState.CHALLENGE:
        return Page(kind="error", code="U08")
    age = (engine.clock.now() - session.created_at).total_seconds()
    if age > engine.config.tds_timeout_seconds:
        path = TIMED_OUT
    elif cancel:
        path = CANCELLED
    else:
        path = path_of(session.pan) if code.strip() == session.one_time_code else FAILED
    return _finish(engine, session, result_fields(session.pan, path, engine.ids.rng))


def _call(engine: Engine, merchant: Merchant, inner: Mapping[str, str]) -> Call:
    return Call(operate_id=inner.get("OperateId", ""), params=inner, merchant=merchant, now=engine.clock.now(),
                ledger=engine.ledger, config=engine.config, ids=engine.ids)


def _refusal(engine: Engine, call: Call, merchant: Merchant) -> list[str]:
    """Merchant authentication, ProcNo reuse (K89), then the card source: a usable token (not spent here) or
    a valid member."""
    if call.get("MerchantPass") != merchant.merchant_pass:
        return ["K03"]
    if call.get("TenantId") not in merchant.tenant_ids:
        return ["K13"]
    proc_no = call.get("ProcNo")
    if proc_no != REUSABLE_PROC_NO and (merchant.merchant_id, proc_no) in engine.ledger.tds.by_proc_no:
        return ["K89"]
    if call.get("Token"):
        token = call.ledger.tokens.get(call.get("Token"))
        code = tokens.token_code(token, merchant_id=merchant.merchant_id, now=call.now, config=call.config)
        return [code] if code else []
    if call.operate_id == "3Secure":
        member, code = authenticate(call, call.get("KaiinId"), call.get("KaiinPass"))
        return [code] if member is None and code else []
    return []


def _card(call: Call) -> str:
    if call.get("Token"):
        token = call.ledger.tokens[call.get("Token")]
        return token.card.pan
    member = call.ledger.members[(call.merchant.merchant_id, call.get("KaiinId"))]
    return member.card.pan


def _finish(engine: Engine, session: TdsSession, result: dict[str, str]) -> Page:
    """Record the result; a successful 4MemAdd/4MemChg is run now and its ResponseCd returned."""
    if session.operate_id != "3Secure" and result["ResponseCd"] == "OK" and result["SecureResultCode"] in ("0",):
        member_fields = {k: v for k, v in session.request.items()
                         if k in ("MerchantId", "MerchantPass", "TransactionDate", "OperateId", "TenantId",
                                  "KaiinId", "KaiinPass", "Token", "MerchantFree1", "MerchantFree2",
                                  "MerchantFree3")}
        reply = engine.handle("crp", member_fields)
        result = {**result, "ResponseCd": reply.fields["ResponseCd"]}
    engine.ledger.tds.finished(session, result)
    merchant = engine.merchants[session.merchant_id]
    return _return(engine, merchant, inner=session.request, result=result)


def _return(engine: Engine, merchant: Merchant, *, inner: Mapping[str, str], result: Mapping[str, str]) -> Page:
    fields = {name: inner.get(name, "") for name in ECHO if name in inner}
    fields.update({"TransactionId": engine.ids.transaction_id(),
                   "TransactionDate": inner.get("TransactionDate", ""), **result})
    value = encrypt_fields(fields, key=merchant.tds_key, iv=merchant.tds_iv)
    return Page(kind="return", redirect_url=inner.get("RedirectUrl", ""), encrypt_value=value)
