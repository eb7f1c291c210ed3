"""Members (4Mem*) and tokens (single use, expiry, 1TokenSearch)."""

from __future__ import annotations

from tests.unit.emulator.support import BASE, CARD, MEMBER, auth, new_engine, send, token


def test_member_lifecycle_add_reference_invalidate_delete() -> None:
    engine = new_engine()
    assert send(engine, "crp", "4MemAdd", **CARD, **MEMBER).codes == ["OK"]
    full = send(engine, "crp", "4MemRef", **MEMBER).fields
    masked = send(engine, "crp", "4MemRefM", **MEMBER).fields
    assert (full["CardNo"], full["CardExp"], full["KaiinStatus"]) == ("4111111111111111", "3012", "0")
    assert masked["CardNo"] == "4111********1111"
    assert send(engine, "crp", "4MemDel", **MEMBER).codes == ["K70"]
    assert send(engine, "crp", "4MemInval", **MEMBER).codes == ["OK"]
    assert send(engine, "crp", "4MemRefM", **MEMBER).fields["KaiinStatus"] == "3"
    assert send(engine, "crp", "4MemInval", **MEMBER).codes == ["K75"]
    assert send(engine, "crp", "4MemDel", **MEMBER).codes == ["OK"]
    assert send(engine, "crp", "4MemRefM", **MEMBER).codes == ["K71"]


def test_member_ids_are_never_reused_even_after_delete() -> None:
    engine = new_engine()
    send(engine, "crp", "4MemAdd", **CARD, **MEMBER)
    assert send(engine, "crp", "4MemAdd", **CARD, **MEMBER).codes == ["K69"]
    send(engine, "crp", "4MemInval", **MEMBER)
    send(engine, "crp", "4MemDel", **MEMBER)
    assert send(engine, "crp", "4MemAdd", **CARD, **MEMBER).codes == ["K69"]


def test_uninval_of_a_valid_member_is_k73_and_revives_an_invalidated_one() -> None:
    engine = new_engine()
    send(engine, "crp", "4MemAdd", **CARD, **MEMBER)
    assert send(engine, "crp", "4MemUnInval", **MEMBER).codes == ["K73"]
    send(engine, "crp", "4MemInval", **MEMBER)
    assert auth(engine, **MEMBER).codes == ["K79"]
    assert send(engine, "crp", "4MemUnInval", **MEMBER).codes == ["OK"]
    assert auth(engine, **MEMBER).codes == ["OK"]


def test_wrong_member_password_is_k71_and_repeated_failures_lock_with_k74() -> None:
    engine = new_engine()
    send(engine, "crp", "4MemAdd", **CARD, **MEMBER)
    wrong = {**MEMBER, "KaiinPass": "wrong0000000"}
    assert [send(engine, "crp", "4MemRefM", **wrong).codes[0] for _ in range(5)] == ["K71"] * 4 + ["K74"]
    assert send(engine, "crp", "4MemRefM", **MEMBER).codes == ["K74"]
    assert send(engine, "crp", "4MemUnInval", **MEMBER).codes == ["OK"]
    assert send(engine, "crp", "4MemRefM", **MEMBER).codes == ["OK"]


def test_member_function_off_is_k68() -> None:
    other = {**BASE, "MerchantId": "20000002", "MerchantPass": "otherpass02", "OperateId": "4MemAdd"}
    assert new_engine().handle("crp", {**other, **CARD, **MEMBER}).codes == ["K68"]


def test_renewal_card_registers_fine_then_every_member_charge_declines_g12() -> None:
    engine = new_engine()
    card = {"CardNo": "4000000000000341", "CardExp": "3012"}
    assert send(engine, "crp", "4MemAdd", **card, **MEMBER).codes == ["OK"]
    assert auth(engine, **MEMBER).codes == ["G12"]
    assert auth(engine, **card).codes == ["OK"]


def test_admin_switch_makes_a_member_decline_from_now_on() -> None:
    engine = new_engine()
    send(engine, "crp", "4MemAdd", **CARD, **MEMBER)
    engine.ledger.members[("10000001", "M0001")].decline_code = "G56"
    assert auth(engine, **MEMBER).codes == ["G56"]


def test_the_switch_can_decline_only_the_next_charges_then_approve_again() -> None:
    engine = new_engine()
    send(engine, "crp", "4MemAdd", **CARD, **MEMBER)
    engine.ledger.members[("10000001", "M0001")].switch_decline("G30", times=2)
    assert [auth(engine, **MEMBER).codes for _ in range(3)] == [["G30"], ["G30"], ["OK"]]
    assert engine.ledger.members[("10000001", "M0001")].to_json()["decline_code"] is None


def test_a_new_card_ends_the_switch_of_the_card_it_replaces() -> None:
    engine = new_engine()
    send(engine, "crp", "4MemAdd", **CARD, **MEMBER)
    engine.ledger.members[("10000001", "M0001")].switch_decline("G12")
    assert send(engine, "crp", "4MemChg", NewKaiinPass="newpass00001", **MEMBER).codes == ["OK"]
    moved = {**MEMBER, "KaiinPass": "newpass00001"}
    assert auth(engine, **moved).codes == ["G12"]  # a new password is not a new card
    assert send(engine, "crp", "4MemChg", Token=token(engine, "5555555555554444"), **moved).codes == ["OK"]
    assert auth(engine, **moved).codes == ["OK"]


def test_mem_chg_replaces_the_card_and_password() -> None:
    engine = new_engine()
    send(engine, "crp", "4MemAdd", **CARD, **MEMBER)
    new_card = token(engine, "5555555555554444")
    reply = send(engine, "crp", "4MemChg", Token=new_card, NewKaiinPass="newpass00001", **MEMBER)
    assert reply.codes == ["OK"]
    moved = {**MEMBER, "KaiinPass": "newpass00001"}
    assert send(engine, "crp", "4MemRefM", **moved).fields["CardNo"] == "5555********4444"


def test_a_token_is_single_use_across_operations() -> None:
    engine = new_engine()
    value = token(engine)
    assert send(engine, "crp", "4MemAdd", Token=value, **MEMBER).codes == ["OK"]
    assert auth(engine, Token=value).codes == ["KI2"]


def test_a_token_spent_by_a_declined_charge_is_still_spent() -> None:
    engine = new_engine()
    value = token(engine, "4000000000000002")
    assert auth(engine, Token=value).codes == ["G12"]
    assert auth(engine, Token=value).codes == ["KI2"]


def test_token_expiry_unknown_malformed_and_foreign_tokens() -> None:
    engine = new_engine(token_ttl_seconds=60)
    value = token(engine)
    assert auth(engine, Token="Z" * 40).codes == ["KHZ"]
    assert auth(engine, Token="bad!").codes == ["KHX"]
    foreign = {**BASE, "MerchantId": "20000002", "MerchantPass": "otherpass02", "OperateId": "1Auth",
               "PayType": "01", "Amount": "100", "Token": value}
    assert engine.handle("aut", foreign).codes == ["KHZ"]
    engine.clock.advance(61)
    assert auth(engine, Token=value).codes == ["KI3"]


def test_token_search_reports_status_without_consuming() -> None:
    engine = new_engine()
    value = token(engine)
    first = send(engine, "atn", "1TokenSearch", Token=value).fields
    assert (first["ResponseCd"], first["TokenResponseCd"]) == ("OK", "OK")
    assert auth(engine, Token=value).codes == ["OK"]
    assert send(engine, "atn", "1TokenSearch", Token=value).fields["TokenResponseCd"] == "KI2"


def test_minting_validates_the_auth_code_and_card() -> None:
    engine = new_engine()
    unknown_code = {"k_TokenNinsyoCode": "NOPE", "CardNo": "4111111111111111", "CardExp": "3012"}
    assert engine.mint_token(unknown_code) == (None, ["KI1"])
    assert engine.mint_token({"k_TokenNinsyoCode": "DEMOTOKEN0001", "CardNo": "41", "CardExp": "3013",
                              "SecCd": "1"}) == (None, ["K20", "K21", "K24"])


def test_stall_card_token_is_not_consumed() -> None:
    engine = new_engine()
    value = token(engine, "4000000000000044")
    assert auth(engine, Token=value).stall
    assert engine.ledger.tokens[value].used_at is None
