"""The invariant checker reports each kind of violation planted in otherwise healthy facts, and a healthy run
as all ok (deploy/invariants, issue 17)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from deploy.invariants.__main__ import report
from deploy.invariants.facts import (
    Charge,
    Cycle,
    DeadLetter,
    Facts,
    Mail,
    Order,
    PartitionLag,
    Payment,
    SecretHit,
)
from deploy.invariants.rules import judge
from deploy.invariants.secrets import SecretScanner

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(seconds=30)


def order(n: int, status: str = "completed", **changes) -> Order:
    return replace(Order(order_id=f"ord_{n}", shop_id="shop", checkout_id=f"chk-{n}", status=status,
                         payment_status="authorized", payment_number=f"{n:020d}", placed_at=EARLIER,
                         updated_at=EARLIER + timedelta(seconds=1)), **changes)


def charge(n: int, state: str = "authorized", process_id: str | None = None) -> Charge:
    return Charge(process_id=process_id or f"p{n}", merchant_id="m1", kind="1Auth", state=state,
                  merchant_free1=f"{n:020d}")


def mails(n: int, message_id: str | None = None) -> list[Mail]:
    return [Mail(order_id=f"ord_{n}", kind=kind, message_id=message_id or f"<{kind}-{n}@x>")
            for kind in ("thanks", "shop_copy")]


def healthy() -> Facts:
    """Two completed orders with their holds and mails, one declined, one renewal cycle with its order."""
    renewal = order(4, checkout_id=None, subscription_id="sub-1", cycle_no=2)
    return Facts(
        now=NOW, accepted={("shop", "chk-1"), ("shop", "chk-2"), ("shop", "chk-3")},
        orders=[order(1), order(2), order(3, status="rejected", payment_status="declined"), renewal],
        payments=[Payment(order_id=f"ord_{n}", state="authorized", payment_number=f"{n:020d}", updated_at=EARLIER)
                  for n in (1, 2, 4)],
        charges=[charge(1), charge(2), charge(4)],
        mail_log=mails(1) + mails(2) + mails(4), sink=mails(1) + mails(2) + mails(4),
        cycles=[Cycle(subscription_id="sub-1", cycle_no=2, order_id="ord_4", status="completed", requested_at=EARLIER)],
        lags=[PartitionLag(group="payment", topic="orders.events", partition=0, lag=0)],
        dead_letters=[DeadLetter(topic="orders.events.dlq", reason="undecodable: not JSON")],
        scanned={"log lines": 10},
    )


def violations(facts: Facts) -> dict[str, int]:
    return {v.name: v.violations for v in judge(facts) if v.violations}


def test_a_healthy_run_violates_nothing_and_prints_one_line_per_invariant():
    verdicts, text = report(healthy())
    assert not any(v.violations for v in verdicts)
    assert len(text.splitlines()) == len(verdicts) >= 8
    assert "I1 one final state" in text and "3 checkouts accepted" in text


def test_a_lost_checkout_and_an_order_left_pending_violate_i1():
    facts = healthy()
    facts.accepted.add(("shop", "chk-9"))
    facts.orders.append(order(5, status="pending_payment", checkout_id="chk-5"))
    assert violations(facts) == {"I1 one final state": 2}


def test_a_second_charge_of_one_payment_number_violates_i2():
    facts = healthy()
    facts.charges.append(charge(1, state="deleted", process_id="p1-again"))
    assert violations(facts) == {"I2 one authorization": 1}


@pytest.mark.parametrize("plant", [
    lambda f: f.charges.append(charge(77)),  # no order at all
    lambda f: f.charges.append(charge(3)),  # a hold of a rejected order
])
def test_an_orphan_hold_violates_i2(plant):
    facts = healthy()
    plant(facts)
    verdict = next(v for v in judge(facts) if v.name.startswith("I2"))
    assert verdict.violations == 1 and "orphan" in verdict.examples[0]


def test_two_live_holds_of_a_completed_order_violate_i2_unless_payment_flagged_them():
    facts = healthy()
    facts.charges.append(replace(charge(1, process_id="p1-reauth"), reauth_of="p1"))
    assert violations(facts) == {"I2 one authorization": 1}
    facts.payments[0] = replace(facts.payments[0], two_live_holds=True)
    assert violations(facts) == {}


def test_missing_duplicated_uninvited_and_unsent_mails_violate_i3_but_a_same_message_id_resend_does_not():
    facts = healthy()
    facts.sink = [m for m in facts.sink if (m.order_id, m.kind) != ("ord_1", "thanks")]  # missing
    facts.sink.append(Mail(order_id="ord_2", kind="thanks", message_id="<other@x>"))  # another Message-ID
    facts.sink.append(Mail(order_id="ord_3", kind="thanks", message_id="<rejected@x>"))  # a rejected order
    facts.mail_log.append(Mail(order_id="ord_9", kind="shop_copy", message_id="<9@x>", status="pending"))
    verdict = next(v for v in judge(facts) if v.name.startswith("I3"))
    assert verdict.violations == 4
    window = healthy()
    window.sink.append(mails(1)[0])
    verdict = next(v for v in judge(window) if v.name.startswith("I3"))
    assert verdict.violations == 0 and "1 same-Message-ID duplicates" in verdict.summary


def test_two_orders_for_one_cycle_or_a_cycle_without_its_order_violate_i4():
    facts = healthy()
    facts.orders.append(order(6, checkout_id=None, subscription_id="sub-1", cycle_no=2))
    facts.cycles.append(Cycle(subscription_id="sub-1", cycle_no=3, order_id=None, status="requested",
                              requested_at=EARLIER))
    assert violations(facts)["I4 one order per cycle"] == 2


def test_secrets_found_anywhere_violate_i5():
    scanner = SecretScanner(["tok_abcdef123456"])
    hits = (scanner.scan('{"msg": "charging with tok_abcdef123456"}', "payment.log:1")
            + scanner.scan("OperateId=1Auth&KaiinPass=s3cret&Amount=10", "payment.log:2")
            + scanner.scan("card 4111 1111 1111 1111 declined", "checkout.log:3")
            + scanner.scan('{"process_pass": "abc123"}', "payments.events[0]@4")
            + scanner.scan("postgresql://payments:hunter22@db/x", "payment.log:5"))
    assert [h.kind for h in hits] == ["known secret", "KaiinPass= pair", "card number", '"process_pass" field',
                                      "password in a URL"]
    ids = ("KaiinPass=********** order ord_4111111111111111 payment 00000000000000000001 transaction 1000000000009 "
           "postgresql://payments:**********@db/x")
    assert scanner.scan(ids, "x") == []
    facts = healthy()
    facts.secrets = [SecretHit(where="payment.log:2", kind="KaiinPass= pair")]
    assert violations(facts) == {"I5 no secrets": 1}


def test_known_secrets_are_found_wherever_they_sit_in_a_text_among_thousands_of_others():
    tokens = [f"{n:040d}".replace("0", "A") for n in range(10_000)]  # 40 word characters each, as issued
    scanner = SecretScanner([*tokens, "pass!word-1", "short"])
    found = [
        scanner.scan(f'{{"event": "sent", "token": "{tokens[9_999]}"}}', "a"),  # a whole word
        scanner.scan(f"x=ord_{tokens[5_000]}_tail", "b"),  # inside a longer run of word characters
        scanner.scan(f"prefix{tokens[0][:20]}|{tokens[0][20:]}", "c"),  # split: not the secret
        scanner.scan("login with pass!word-1 today", "d"),  # punctuation: found by the regex
        scanner.scan("too short: short", "e"),  # under 6 characters: not looked for
        scanner.scan("B" * 40 + " " + "A" * 39, "f"),  # near misses
    ]
    assert [[h.kind for h in hits] for hits in found] == [["known secret", '"token" field'], ["known secret"], [],
                                                          ["known secret"], [], []]


def test_an_unknown_payment_whose_order_is_not_in_review_is_reported_with_its_age():
    facts = healthy()
    facts.payments.append(Payment(order_id="ord_2", state="unknown", payment_number="2".zfill(20),
                                  updated_at=NOW - timedelta(seconds=90)))
    verdict = next(v for v in judge(facts) if v.name == "unknowns surfaced")
    assert verdict.violations == 1 and "oldest 90s" in verdict.summary
    facts.orders[1] = replace(facts.orders[1], status="needs_review")
    verdict = next(v for v in judge(facts) if v.name == "unknowns surfaced")
    assert verdict.violations == 0 and "1 orders in review" in verdict.summary


def test_a_partition_behind_and_a_dead_letter_without_reason_are_violations():
    facts = healthy()
    facts.lags.append(PartitionLag(group="checkout", topic="payments.events", partition=2, lag=3))
    facts.dead_letters.append(DeadLetter(topic="payments.commands.dlq", reason=None))
    assert violations(facts) == {"no blocked partition": 1, "dead letters": 1}


def test_resolutions_without_an_operator_are_the_token_probes_that_found_the_token_unspent():
    """Issue 17: the checker counted payments whose `resolution` was not the gateway's, which only an operator sets,
    and called them 'resolved without operator' (0 while payment's payment_token_probes{result="unspent"} said 7)."""
    facts = healthy()
    facts.probe_settled = ["ord_1", "ord_2", "ord_2"]  # ord_2's charge sent again, unknown again, probed again
    facts.payments[0] = replace(facts.payments[0], resolution="operator")
    verdict = next(v for v in judge(facts) if v.name == "unknowns surfaced")
    assert "resolved without operator (token probe found the token unspent: not sent): 3 calls on 2 orders" \
        in verdict.summary
    assert "resolved by an operator: 1" in verdict.summary
    assert verdict.violations == 0
