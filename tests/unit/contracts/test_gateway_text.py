"""The one place that makes text acceptable to the gateway's free fields (contracts.gateway_text, issue 14):
examples of what buyers type in Japan, and properties over arbitrary Unicode checked by the emulator itself."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.gateway_text import MERCHANT_FREE2, free_text, normalise, refusal
from emulator.fields import check_formats, is_merchant_free
from tests.unit.emulator.support import CARD, auth, new_engine

ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=300)
"""Every code point, surrogates, controls, unassigned and private-use ones included."""


@pytest.mark.parametrize(("typed", "sent"), [
    ("山田\u3000太郎", "山田 太郎"),
    ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ"),
    ("Ｙａｍａｄａ　Ｔａｒｏ", "Yamada Taro"),
    ("山田\t太郎\r\n", "山田 太郎"),
    ("山田\u00a0\u00a0太郎", "山田 太郎"),
    ("山\u200b田\u200d太\ufeff郎\x7f", "山田太郎"),
    ("A&B=C", "A B C"),
    ("  山田   太郎  ", "山田 太郎"),
    ("山田 太郎 😀", "山田 太郎 😀"),
])
def test_names_typed_the_usual_ways_go_to_merchant_free2_as_the_gateway_reads_them(typed: str, sent: str) -> None:
    assert free_text(typed, MERCHANT_FREE2) == sent


def test_a_long_name_is_cut_to_32_characters_on_a_character_boundary() -> None:
    name = "山田" * 100
    assert free_text(name) == name[:32]


def test_a_cut_never_ends_in_a_space() -> None:
    assert free_text("a" * 31 + " b") == "a" * 31


@pytest.mark.parametrize("typed", ["", "\u3000", "\t\r\n", "\u200b\u200d", "\x7f\x00", "&=", "\ufffd"])
def test_a_name_with_nothing_visible_left_is_refused_without_naming_gateway_fields(typed: str) -> None:
    reason = refusal(typed, MERCHANT_FREE2)
    assert reason is not None and "visible characters" in reason and "MerchantFree" not in reason


@given(ANY_TEXT)
@settings(max_examples=500)
def test_whatever_text_comes_in_the_value_sent_passes_the_emulators_free_field_check(text: str) -> None:
    sent = free_text(text)
    assert is_merchant_free(sent), repr(sent)
    assert check_formats({"MerchantFree2": sent}, (), ("MerchantFree2",)) == []


@given(ANY_TEXT)
def test_refused_exactly_when_nothing_would_be_sent(text: str) -> None:
    assert (refusal(text) is None) == (free_text(text) != "")


@given(ANY_TEXT)
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert free_text(free_text(text)) == free_text(text)


@given(st.text(st.characters(codec="utf-8"), min_size=1, max_size=200).filter(lambda t: refusal(t) is None))
@settings(max_examples=200)
def test_every_accepted_name_authorizes_at_the_emulator_with_its_name_echoed(name: str) -> None:
    sent = free_text(name)
    reply = auth(new_engine(), MerchantFree1="12345678901234567890", MerchantFree2=sent, **CARD)
    assert (reply.fields["ResponseCd"], reply.fields["MerchantFree2"]) == ("OK", sent)
