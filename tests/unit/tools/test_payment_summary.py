"""The monitoring consumer's summary (tools/payment_summary.py) over envelopes of the published contracts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts.envelope import Envelope
from tests.unit.contracts import samples
from tools.payment_summary import PaymentSummary

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def record(event, *, order_id: str, seconds_ago: float = 1.0) -> bytes:
    event = event.model_copy(update={"order_id": order_id})
    return Envelope.wrap(event, producer="payment", correlation_id="c",
                         occurred_at=NOW - timedelta(seconds=seconds_ago)).to_bytes()


def test_counts_authorizations_per_second_declines_by_code_kind_and_open_unknowns():
    summary = PaymentSummary(window=timedelta(seconds=10))
    for n in range(20):
        summary.add(record(samples.payment_authorized(), order_id=f"o{n}", seconds_ago=n + 0.5))  # 10 in the window
    summary.add(record(samples.payment_declined(), order_id="d1"))
    two_kinds = samples.payment_declined().model_copy(update={"codes": ["K20", "G12", "G30"],
                                                              "descriptions": ["a", "b", "c"]})
    summary.add(record(two_kinds, order_id="d2"))
    summary.add(record(samples.payment_declined().model_copy(update={"codes": [], "descriptions": [],
                                                                     "reason": "gateway_credentials_missing"}),
                       order_id="d3"))
    summary.add(record(samples.payment_outcome_unknown(), order_id="u1"))
    summary.add(record(samples.payment_outcome_unknown(), order_id="u2"))
    summary.add(record(samples.payment_authorized(), order_id="u2"))  # resolved: no longer open
    summary.add(record(samples.payment_captured(), order_id="o1"), "payment.captured.v1")  # skipped unparsed
    summary.add(b"not an envelope")
    summary.add(Envelope.wrap(samples.payment_authorized(), producer="p", correlation_id="c").to_bytes()
                .replace(b"payment.authorized.v1", b"payment.authorized.v9"))  # a newer version: skipped

    assert summary.authorizations_per_second(NOW) == 1.1  # 10 of the first 20, plus the resolution, per 10 s
    assert (summary.authorized, summary.declined, summary.unknown) == (21, 3, 2)
    assert dict(summary.declines_by_kind) == {"G": 2, "K": 1, "none": 1}
    assert summary.unknown_open == {"u1"}
    assert (summary.other, summary.unreadable) == (2, 1)
    line = summary.render(NOW)
    assert "authorizations/s    1.1" in line and "by code kind: G 2, K 1, none 1" in line
    assert "still open 1" in line


def test_the_rate_falls_to_zero_when_authorizations_stop():
    summary = PaymentSummary(window=timedelta(seconds=10))
    summary.add(record(samples.payment_authorized(), order_id="o1", seconds_ago=1))
    assert summary.authorizations_per_second(NOW) == 0.1
    assert summary.authorizations_per_second(NOW + timedelta(seconds=30)) == 0
