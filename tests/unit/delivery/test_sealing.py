"""The card token crosses orders.events sealed: only a holder of the seal key opens it."""

import pytest
from cryptography.fernet import Fernet

from delivery.sealing import TokenSealer, UnsealableToken


def test_a_sealed_token_opens_with_the_same_key_and_does_not_show_the_token():
    sealer = TokenSealer(Fernet.generate_key().decode())
    sealed = sealer.seal("tok_1234567890")
    assert "tok_1234567890" not in sealed
    assert sealer.open(sealed) == "tok_1234567890"


def test_a_sealed_token_does_not_open_with_another_key():
    sealed = TokenSealer(Fernet.generate_key().decode()).seal("tok")
    with pytest.raises(UnsealableToken):
        TokenSealer(Fernet.generate_key().decode()).open(sealed)


def test_keys_rotate_the_first_seals_and_all_open():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_before = TokenSealer(old).seal("tok")
    rotated = TokenSealer(f"{new},{old}")
    assert rotated.open(sealed_before) == "tok"
    assert TokenSealer(new).open(rotated.seal("tok")) == "tok"
