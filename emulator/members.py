"""Card-member (会員) operations at ``/online/crp/OCRP005.do``: 4MemAdd … 4MemDel (reference §2.4, §8.8).

Choices where the reference is silent (documented in the README): an unknown or deleted KaiinId
authenticates as ``K71``; ``lockout_after`` wrong passwords lock the member (status 2, ``K74``) until
4MemUnInval with the right password; 4MemChg works on valid, card-invalid and invalidated members.
"""

from __future__ import annotations

from collections.abc import Mapping

from emulator import tokens
from emulator.call import Call, OpSpec, Stall, source_shape
from emulator.cards import Card, behaviour_of, brand_of, is_expired
from emulator.fields import luhn_ok
from emulator.state import Member, MemberStatus, mask_pan

CARD_FIELDS = ("Token", "CardNo", "CardExp", "SecCd", "EnableCheckUseKbn",
               "KanaSei", "KanaMei", "BirthDay", "TelNo")


def authenticate(call: Call, kaiin_id: str, kaiin_pass: str, *, allow_locked: bool = False) -> tuple[
        Member | None, str | None]:
    """Find the member and check its password, counting failures towards the lockout."""
    member = call.ledger.members.get((call.merchant.merchant_id, kaiin_id))
    if member is None or member.status == MemberStatus.DELETED:
        return None, "K71"
    if member.status == MemberStatus.LOCKED and not allow_locked:
        return None, "K74"
    if member.kaiin_pass != kaiin_pass:
        member.failures += 1
        if member.failures >= call.config.member_lockout_after:
            member.status = MemberStatus.LOCKED
            return None, "K74"
        return None, "K71"
    member.failures = 0
    return member, None


def card_code(call: Call, card: Card) -> str | None:
    """Card validity at registration or check time: Luhn, scheme, expiry and the test-card decline."""
    if not luhn_ok(card.pan):
        return "K82"
    if brand_of(card.pan) is None:
        return "C17"
    if is_expired(card.exp, call.today):
        return "C13"
    behaviour = behaviour_of(card.pan)
    if behaviour.stall:
        raise Stall(card.pan[-4:])
    return behaviour.decline


def new_card(call: Call) -> tuple[Card | None, str | None]:
    """The card being registered: from a token (spent here) or from CardNo/CardExp/SecCd."""
    if call.get("Token"):
        token = call.ledger.tokens.get(call.get("Token"))
        code = tokens.token_code(token, merchant_id=call.merchant.merchant_id, now=call.now, config=call.config)
        if code or token is None:
            return None, code
        code = card_code(call, token.card)
        token.used_at = call.now
        return (None, code) if code else (token.card, None)
    card = Card(pan=call.get("CardNo"), exp=call.get("CardExp"), sec_cd=call.get("SecCd"))
    code = card_code(call, card)
    return (None, code) if code else (card, None)


def _card_reply(call: Call, card: Card) -> None:
    brand = brand_of(card.pan)
    call.out["CompanyCd"] = brand[1] if brand else ""
    call.out["EnableCheckUseKbn"] = call.get("EnableCheckUseKbn") or "0"
    call.out["McSecCd"] = "0" if card.sec_cd else "8"


def mem_add(call: Call) -> list[str]:
    """4MemAdd: register a new member; an ID ever used (even deleted) is ``K69``."""
    if not call.merchant.member_enabled:
        return ["K68"]
    key = (call.merchant.merchant_id, call.get("KaiinId"))
    if key in call.ledger.members:
        return ["K69"]
    card, code = new_card(call)
    if card is None:
        return [code or "K99"]
    call.ledger.members[key] = Member(
        merchant_id=key[0], kaiin_id=key[1], kaiin_pass=call.get("KaiinPass"), card=card,
        enable_date=call.today.strftime("%Y%m%d"))
    call.out["KaiinId"] = key[1]
    _card_reply(call, card)
    return []


def _member(call: Call, allow_locked: bool = False) -> tuple[Member | None, list[str]]:
    if not call.merchant.member_enabled:
        return None, ["K68"]
    member, code = authenticate(call, call.get("KaiinId"), call.get("KaiinPass"), allow_locked=allow_locked)
    return member, [code] if code else []


def mem_chg(call: Call) -> list[str]:
    """4MemChg: replace the card and/or the password (status 1 becomes 0 with a new card; a new card also ends the
    admin's "declines from now on" switch, which described the card it replaces)."""
    member, codes = _member(call)
    if member is None:
        return codes
    card = member.card
    if call.get("Token") or call.get("CardNo"):
        new, code = new_card(call)
        if new is None:
            return [code or "K99"]
        card, member.card = new, new
        member.switch_decline(None)  # the admin switch belongs to the card it replaced
        if member.status == MemberStatus.CARD_INVALID:
            member.status = MemberStatus.VALID
    if call.get("NewKaiinPass"):
        member.kaiin_pass = call.get("NewKaiinPass")
        call.out["NewKaiinPass"] = member.kaiin_pass
    _card_reply(call, card)
    return []


def _reference(call: Call, masked: bool) -> list[str]:
    member, codes = _member(call)
    if member is None:
        return codes
    brand = brand_of(member.card.pan)
    call.out.update({
        "CardNo": mask_pan(member.card.pan) if masked else member.card.pan,
        "CardExp": member.card.exp,
        "CompanyCd": brand[1] if brand else "",
        "KaiinStatus": str(member.status),
        "KaiinEnableDate": member.enable_date,
    })
    return []


def mem_ref(call: Call) -> list[str]:
    """4MemRef: member reference with the full card number."""
    return _reference(call, masked=False)


def mem_ref_masked(call: Call) -> list[str]:
    """4MemRefM: member reference with the card number masked (first 4 + last 4)."""
    return _reference(call, masked=True)


def mem_inval(call: Call) -> list[str]:
    """4MemInval: invalidate (status 3); an already invalidated member is ``K75``."""
    member, codes = _member(call)
    if member is None:
        return codes
    if member.status == MemberStatus.INVALIDATED:
        return ["K75"]
    member.status = MemberStatus.INVALIDATED
    return []


def mem_uninval(call: Call) -> list[str]:
    """4MemUnInval: make the member valid again (also unlocks status 2); a valid member is ``K73``."""
    member, codes = _member(call, allow_locked=True)
    if member is None:
        return codes
    if member.status == MemberStatus.VALID:
        return ["K73"]
    member.status = MemberStatus.VALID
    brand = brand_of(member.card.pan)
    call.out["CompanyCd"] = brand[1] if brand else ""
    return []


def mem_del(call: Call) -> list[str]:
    """4MemDel: delete an invalidated member (``K70`` otherwise); the ID stays reserved (``K69``)."""
    member, codes = _member(call)
    if member is None:
        return codes
    if member.status != MemberStatus.INVALIDATED:
        return ["K70"]
    member.status = MemberStatus.DELETED
    return []


def _chg_shape(params: Mapping[str, str]) -> list[str]:
    if not any(params.get(k) for k in ("Token", "CardNo", "CardExp")):
        return [] if params.get("NewKaiinPass") else ["K01"]
    return source_shape(params, allow_member=False)


_ID = ("TenantId", "KaiinId", "KaiinPass")
SPECS: dict[str, OpSpec] = {
    "4MemAdd": OpSpec(run=mem_add, required=_ID, optional=CARD_FIELDS,
                      shape=lambda p: source_shape(p, allow_member=False)),
    "4MemChg": OpSpec(run=mem_chg, required=_ID, optional=(*CARD_FIELDS, "NewKaiinPass"), shape=_chg_shape),
    "4MemRef": OpSpec(run=mem_ref, required=_ID),
    "4MemRefM": OpSpec(run=mem_ref_masked, required=_ID),
    "4MemInval": OpSpec(run=mem_inval, required=_ID),
    "4MemUnInval": OpSpec(run=mem_uninval, required=_ID),
    "4MemDel": OpSpec(run=mem_del, required=_ID),
}
