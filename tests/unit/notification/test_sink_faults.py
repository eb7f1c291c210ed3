"""The SMTP sink's fault switch: a count, a period, permanent, and back to normal."""

from __future__ import annotations

import time

import pytest

from deploy.local.smtp_sink import Faults


def test_normal_accepts_everything():
    assert Faults().decide() is None


def test_a_count_refuses_that_many_transactions_then_accepts():
    faults = Faults()
    faults.set("temporary", count=2)
    assert [faults.decide() is not None for _ in range(4)] == [True, True, False, False]
    assert faults.mode == "normal"


def test_a_period_refuses_until_it_ends(monkeypatch):
    faults = Faults()
    faults.set("temporary", seconds=10)
    assert faults.decide().startswith("451 ")
    later = time.monotonic() + 11
    monkeypatch.setattr(time, "monotonic", lambda: later)
    assert faults.decide() is None


def test_permanent_refuses_with_554_until_reset_and_the_reply_can_be_chosen():
    faults = Faults()
    faults.set("permanent")
    assert all(faults.decide().startswith("554 5.7.1") for _ in range(3))
    faults.set("temporary", code=421, message="4.7.0 slow down")
    assert faults.decide() == "421 4.7.0 slow down"
    faults.set("normal")
    assert faults.decide() is None


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError):
        Faults().set("sideways")
