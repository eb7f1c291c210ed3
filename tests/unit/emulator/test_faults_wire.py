"""Fault plan decisions (seeded) and the wire framing rules."""

from __future__ import annotations

import random

import pytest

from emulator.faults import Action, FaultPlan, Latency
from emulator.wire import decode_reply, encode_reply, parse_params


def test_same_seed_same_decisions() -> None:
    raw = {"seed": 42, "default": {"reset_after": 0.3, "garbage": 0.2,
                                   "latency": {"distribution": "uniform", "min_ms": 10, "max_ms": 50}}}
    plan_a, plan_b = FaultPlan.from_json(raw), FaultPlan.from_json(raw)
    assert [plan_a.decide("1Auth") for _ in range(50)] == [plan_b.decide("1Auth") for _ in range(50)]
    assert {d.action for d in (plan_a.decide("1Auth") for _ in range(200))} == {
        Action.NONE, Action.RESET_AFTER, Action.GARBAGE}


@pytest.mark.parametrize("action", ["no_answer", "reset_after", "http_5xx", "garbage"])
def test_probability_one_always_fires_for_that_operation_only(action: str) -> None:
    plan = FaultPlan.from_json({"operations": {"1Auth": {action: 1.0}}})
    assert plan.decide("1Auth").action is Action(action)
    assert plan.decide("1Capture").action is Action.NONE


def test_latency_distributions_stay_in_bounds() -> None:
    rng = random.Random(1)
    uniform = Latency(distribution="uniform", min_ms=100, max_ms=300)
    assert all(0.1 <= uniform.sample(rng) <= 0.3 for _ in range(200))
    assert Latency(ms=200).sample(rng) == 0.2
    assert Latency(distribution="normal", mean_ms=5, stddev_ms=50).sample(rng) >= 0


@pytest.mark.parametrize("raw", [
    {"default": {"reset_after": 0.7, "garbage": 0.5}},
    {"default": {"latency": {"distribution": "zipf"}}},
    {"default": {"explode": 1}},
    {"default": {"http_5xx": 1, "status_5xx": 404}},
])
def test_invalid_plans_are_rejected(raw: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FaultPlan.from_json(raw)


def test_reply_has_no_newline_and_percent_encodes_unsafe_values() -> None:
    body = encode_reply({"ResponseCd": "K20|K21", "MerchantFree2": "山田 太郎&x"})
    assert b"\n" not in body and b"\r" not in body
    assert body.startswith(b"ResponseCd=K20|K21&MerchantFree2=%E5")
    assert decode_reply(body)["MerchantFree2"] == "山田 太郎&x"


def test_parameters_come_from_query_and_body() -> None:
    params = parse_params("OperateId=1Auth&Amount=1", b"Amount=2&MerchantFree3=%E5%B1%B1")
    assert params == {"OperateId": "1Auth", "Amount": "2", "MerchantFree3": "山"}
