"""The next gateway operation of each flow, as a `PlannedCall` (what it needs, except the secrets).

The order flow (`order_call`), an operator action's running step (`action_call`), the live status read
(`status_call`), the stored-card lookup (`member_lookup`) and a card change's step (`card_change_call`) all go
through the same recorded step in the handlers: record the attempt, send outside any transaction, apply the reply.
"""

from __future__ import annotations

from dataclasses import replace

from services.payment.domain.card_changes import CardChange, needs_token, next_call
from services.payment.domain.cards import CardSource
from services.payment.domain.gateway import (
    CHARGES,
    LINKS,
    MEMBER_CALLS,
    GatewayOperation,
    Hold,
    PlannedCall,
)
from services.payment.domain.model import Payment, next_operation

STATUS_READ = "status"
"""The `action` of a 1Search attempt: a read, listed in the operation history only on request."""


def _charged_by_member(payment: Payment) -> bool:
    return payment.plan is not None and payment.plan.source is CardSource.MEMBER


def _of_payment(payment: Payment, operation: GatewayOperation) -> PlannedCall:
    """The call's fields every payment call shares; MerchantFree1/2 carry the payment number and buyer (R14)."""
    return PlannedCall(operation=operation, shop_id=payment.shop_id, order_id=payment.order_id,
                       amount=payment.amount, pay_type=payment.pay_type, payment_number=payment.payment_number,
                       buyer_name=payment.buyer_name, kaiin_id=payment.kaiin_id)


def order_call(payment: Payment) -> PlannedCall | None:
    """The order flow's next call: the member's KaiinId for member calls, and for charges and their Process
    calls when the plan charges the stored card (K80); the token for links and token charges; the hold's pair
    for the void of a K40 hold."""
    op = next_operation(payment)
    if op is None:
        return None
    by_member = _charged_by_member(payment)
    fields = payment.authentication.charge_fields if payment.authentication is not None else None
    return replace(_of_payment(payment, op), member=op in MEMBER_CALLS or by_member,
                   token=op in LINKS or (op in CHARGES and payment.plan is not None and not by_member),
                   hold=Hold.CURRENT if op is GatewayOperation.DELETE else None, resends=payment.unsent,
                   three_d_secure=tuple(fields.items()) if fields and op in CHARGES else ())


def action_call(payment: Payment) -> PlannedCall | None:
    """The running action's step: on the current hold (or the previous one being checked and released), with the
    member when the charge used one (not on a 1Search, a read: as `status_call`); 1Change and 1ReAuth send the
    target amount, 1Capture today's SalesDate."""
    running = payment.running_action
    if running is None:
        return None
    moves_amount = running.step in (GatewayOperation.CHANGE, GatewayOperation.REAUTH)
    target = running.target_amount if moves_amount else None
    member = _charged_by_member(payment) and running.step is not GatewayOperation.SEARCH
    return replace(_of_payment(payment, running.step), amount=target or payment.amount,
                   member=member, hold=Hold.PREVIOUS if running.on_previous else Hold.CURRENT,
                   sales_date=running.step is GatewayOperation.CAPTURE, resends=running.unsent,
                   attempt_id=running.attempt_id, action=running.action.value, requested_by=running.requested_by,
                   recorded_amount=target)


def status_call(payment: Payment) -> PlannedCall:
    """1Search on the current hold (no member: a read of the transaction)."""
    return replace(_of_payment(payment, GatewayOperation.SEARCH), hold=Hold.CURRENT, action=STATUS_READ)


def member_lookup(shop_id: str, kaiin_id: str) -> PlannedCall:
    """4MemRefM: the masked number of a member's stored card (no order)."""
    return PlannedCall(operation=GatewayOperation.MEM_REF, shop_id=shop_id, kaiin_id=kaiin_id, member=True)


def card_change_call(change: CardChange) -> PlannedCall | None:
    """A card change's next call (design §6.8): always on the member, with the token when it stores a card; in the
    history as action `card_<kind>`, requested by the operator's name or the source."""
    op = next_call(change)
    if op is None:
        return None
    return PlannedCall(operation=op, shop_id=change.shop_id, kaiin_id=change.kaiin_id, member=True,
                       token=needs_token(change), resends=change.unsent, action=f"card_{change.kind.value}",
                       requested_by=change.requested_by or change.source.value)
