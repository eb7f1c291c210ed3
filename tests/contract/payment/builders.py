"""Values the payment repositories store, with every field set, so a round trip that drops one fails."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from services.payment.domain.actions import Action, HoldState, PreviousHold, RunningAction, UnknownAction
from services.payment.domain.cards import CardPlan, CardSource
from services.payment.domain.gateway import GatewayOperation, SalesMode
from services.payment.domain.model import Cleanup, Payment, PaymentState

NOW = datetime(2025, 6, 1, 3, 0, 0, 123456, tzinfo=UTC)


def payment(order_id: str = "ord-1", **changes: object) -> Payment:
    """A member's pending payment with a plan (link then charge by member)."""
    base = Payment(order_id=order_id, shop_id="shop-1", payment_number="20250601000000000001", amount=5500,
                   pay_type="01", sales_mode=SalesMode.AUTH, buyer_name="山田 太郎", member_id="m-1",
                   plan=CardPlan(source=CardSource.MEMBER, link=GatewayOperation.MEM_ADD), kaiin_id="K000000000001",
                   order_total=5500)
    return replace(base, **changes)  # type: ignore[arg-type]


def operated(order_id: str = "ord-1") -> Payment:
    """The same payment after an authorization and during an amount update, every optional field filled."""
    return payment(
        order_id, state=PaymentState.AUTHORIZED, renewal=True, linked=True, cleanup=Cleanup.FAILED, unsent=1,
        card_read_due=True,
        transaction_id="1000000000001", approval_number="1234567", process_id="P" * 32, codes=("K40", "G12"),
        reason="gateway_declined", buyer_message="カード会社にお問い合わせください", resolution="operator",
        order_total=7200, sales_date=date(2025, 6, 1),
        running_action=RunningAction(action=Action.UPDATE_AMOUNT, step=GatewayOperation.DELETE,
                                     attempt_id="00000000-0000-0000-0000-000000000009", since=NOW,
                                     requested_by="ops-1", target_amount=7200, on_previous=True, unsent=1),
        unknown_action=UnknownAction(action=Action.CAPTURE, step=GatewayOperation.CAPTURE,
                                     attempt_id="00000000-0000-0000-0000-000000000008", requested_by="bot",
                                     target_amount=None, reason="timeout"),
        previous_hold=PreviousHold(process_id="Q" * 32, transaction_id="1000000000000", amount=5500,
                                   state=HoldState.RELEASE_FAILED, codes=("K12",), reason="gateway_declined"))
