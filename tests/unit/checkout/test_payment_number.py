"""R14: payment numbers are 20 digits, JST date first, unique by their sequence."""

from __future__ import annotations

from datetime import date

import pytest

from services.checkout.domain.payment_number import is_payment_number, payment_number


def test_a_payment_number_is_the_jst_date_and_a_twelve_digit_sequence():
    assert payment_number(date(2025, 1, 2), 42) == "20250102000000000042"
    assert is_payment_number(payment_number(date(2099, 12, 31), 999_999_999_999))


def test_different_sequences_never_give_the_same_number_even_on_different_days():
    numbers = {payment_number(date(2025, 1, day), seq) for day in (1, 2) for seq in (1, 2, 3)}
    assert len(numbers) == 6


@pytest.mark.parametrize("sequence", [0, -1, 10**12])
def test_a_sequence_outside_twelve_digits_is_refused(sequence):
    with pytest.raises(ValueError, match="out of range"):
        payment_number(date(2025, 1, 1), sequence)
