"""The e-SCOTT code catalogue and the buyer-message rule R16."""

from __future__ import annotations

import re

import pytest

from services.payment.domain.codes import (
    BUYER_CARD_COMPANY,
    BUYER_K99,
    BUYER_SHOP,
    CATALOGUE,
    buyer_message,
    describe,
    operator_text,
)

# Every code named in protocol reference §4.2, ranges expanded.
REFERENCE_CODES = re.findall(
    r"\w+",
    "K01 K02 K03 K04 K05 K06 K07 K08 K09 K10 K11 K12 K13 K14 K15 K20 K21 K22 K23 K24 K25 K26 K27 K28 K30 K31 "
    "K32 K33 K34 K35 K36 K37 K39 K40 K41 K42 K43 K44 K45 K46 K47 K48 K50 K51 K52 K53 K54 K55 K56 K57 K58 K59 "
    "K60 K62 K63 K64 K65 K66 K67 K68 K69 K70 K71 K72 K73 K74 K75 K79 K80 K81 K82 K83 K84 K85 K86 K87 K88 K89 "
    "K95 K96 K97 K98 K99 KA1 KBX KBY KBZ KG8 KGH KH0 KH4 KHS KHT KHU KHV KHW KHX KHZ KI0 KI1 KI2 KI3 KI4 KI5 "
    "KI6 KI8 KI9 KIA KIB KIE KIF KIH KIJ KIK KIL KIM KIN KIR KIS KIU KIW C01 C02 C03 C10 C11 C12 C13 C14 C15 "
    "C16 C17 C18 C70 C71 C80 C82 C98 C99 G12 G22 G30 G42 G44 G45 G54 G55 G56 G60 G61 G65 G68 G72 G74 G75 G78 "
    "G83 G84 G85 G92 G94 G95 G96 G97 G98 G99 U01 U02 U03 U04 U05 U06 U07 U08 U09 U10 U11 U12 U13 U14 U15 U95 "
    "U96 U99 P51 P52 P53 P54 P55 P56 P57 P58 P60 P62 P63 P64 P65 P66 P67 P68 P69 P70 P71 P72 P74 W01 W02 W03 "
    "W04 W05 W06 W99 ",
) + [f"R{n:02d}" for n in range(1, 38)]


def test_every_reference_code_is_catalogued_with_japanese_and_english() -> None:
    missing = [code for code in REFERENCE_CODES if code not in CATALOGUE]
    assert missing == []
    for code in REFERENCE_CODES:
        info = CATALOGUE[code]
        assert info.en and re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", info.ja), code


def test_unknown_codes_are_described_not_crashed() -> None:
    info = describe("ZZ9")
    assert not info.known and info.code == "ZZ9"


def test_operator_text_lists_every_code_with_its_description() -> None:
    assert operator_text(["K20", "G12"]) == "K20 : CardNo format error / G12 : Card unusable"


@pytest.mark.parametrize(("codes", "message"), [
    (["K99"], BUYER_K99),
    (["G12", "K99"], BUYER_K99),
    (["G12"], BUYER_CARD_COMPANY),
    (["K20", "G65"], BUYER_CARD_COMPANY),
    (["K20", "K21"], BUYER_SHOP),
    (["C13"], BUYER_SHOP),
    (["KI2"], BUYER_SHOP),
    ([], BUYER_SHOP),
])
def test_buyer_message_follows_r16(codes: list[str], message: str) -> None:
    assert buyer_message(codes) == message


def test_r16_texts_are_exact() -> None:
    assert BUYER_K99 == ("ソニーペイメント取引の処理に失敗いたしました。詳細につきましては、"
                         "ソニーペイメントまでお問い合わせください")
    assert BUYER_CARD_COMPANY == "クレジットカード会社にお問い合わせください"
    assert BUYER_SHOP == "ショップ様にお問い合わせください"


def test_buyer_messages_never_reveal_codes() -> None:
    for code in CATALOGUE:
        assert code not in buyer_message([code])
