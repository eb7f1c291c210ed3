"""EMV 3-D Secure round trips (design §6.7): the form for the buyer's browser, the gateway's return, the charge
that follows it (on Kafka), and the deadline sweep.

    OrderPlaced (authentication asked, a new card) -> awaiting_authentication + PaymentAuthenticationRequired
    the browser's return (public HTTP) -> recorded once -> ChargeAuthenticatedPayment (payments.commands) -> charge
                                                       \\-> declined (authentication_failed)
    deadline passed (the sweep, or a late return) -> declined (authentication_abandoned)

The card token waits sealed in the payment row (the return carries none; 3Secure does not spend it) and is
dropped once the charge was sent. A return is judged only after the shop's key opened it and it names this
payment's ProcNo and payment number; a replay, a forgery or a late return changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import SecretStr

from delivery.envelopes import Inbound
from delivery.logs import get_logger
from services.payment import translate
from services.payment.domain import events as ev
from services.payment.domain.authentication import (
    ABANDONED,
    OPERATION,
    AuthenticationClosed,
    AuthenticationState,
    overdue,
)
from services.payment.domain.gateway import business_date
from services.payment.domain.model import (
    Payment,
    PaymentState,
    expire_authentication,
    record_authentication,
)
from services.payment.handlers.deps import Deps
from services.payment.handlers.steps import PaymentNotFound, publish, save_and_publish
from services.payment.ports import Credentials, UnitOfWork

log = get_logger(__name__)
UNAVAILABLE = "three_d_secure_unavailable"


@dataclass(frozen=True, kw_only=True)
class ReturnOutcome:
    """What the browser's return did: `recorded` (first time), `replayed` (the same result again: harmless) or
    `refused` with `reason`; `return_url` is where to send the browser (the storefront's page, if it gave one)."""

    status: str
    return_url: str | None
    order_id: str
    reason: str | None = None


def authentication_issue(deps: Deps, credentials: Credentials | None) -> str | None:
    """Why this order cannot go through 3-D Secure: no forms adapter, or the shop has no 3-D Secure key/IV."""
    if deps.three_d_secure is None or credentials is None or credentials.tds_key is None or credentials.tds_iv is None:
        return UNAVAILABLE
    return None


async def ask_authentication(deps: Deps, uow: UnitOfWork, payment: Payment, *, token: SecretStr | None,
                             inbound: Inbound | None) -> None:
    """In the unit that opened the payment: keep the token sealed and publish the browser's form (sealed)."""
    auth, forms = payment.authentication, deps.three_d_secure
    credentials = await uow.shops.credentials(payment.shop_id)
    assert auth is not None and forms is not None and credentials is not None and token is not None
    inner = {"MerchantId": credentials.merchant_id, "MerchantPass": credentials.merchant_pass.get_secret_value(),
             "TransactionDate": business_date(deps.clock.now()).strftime("%Y%m%d"), "TenantId": credentials.tenant_id,
             "OperateId": OPERATION, "Token": token.get_secret_value(), "Amount": str(payment.amount),
             "PayType": payment.pay_type, "ProcNo": auth.proc_no, "RedirectUrl": forms.redirect_url(payment.order_id),
             "MerchantFree1": payment.payment_number}
    form = {"MerchantId": credentials.merchant_id, "EncryptValue": forms.encrypt(inner, credentials)}
    await uow.payments.keep_token(payment.order_id, deps.sealer.seal(token.get_secret_value()))
    event = ev.PaymentAuthenticationRequired(
        order_id=payment.order_id, shop_id=payment.shop_id, payment_number=payment.payment_number,
        amount=payment.amount, action_url=forms.action_url, sealed_form=deps.sealer.seal(json.dumps(form)),
        deadline=auth.request.deadline)
    await publish(uow, payment, [event], inbound=inbound)
    log.info("payment.authentication_asked", order_id=payment.order_id, shop_id=payment.shop_id,
             deadline=auth.request.deadline.isoformat())


async def record_return(deps: Deps, *, order_id: str, encrypt_value: str) -> ReturnOutcome:
    """The gateway sent the buyer back: open the result with the shop's key and record it once."""
    async with deps.uow() as uow:
        payment = await uow.payments.get(order_id, lock=True)
        if payment is None or deps.three_d_secure is None:
            raise PaymentNotFound(order_id)
        return_url = payment.authentication.request.return_url if payment.authentication else None
        credentials = await uow.shops.credentials(payment.shop_id)
        result = deps.three_d_secure.decrypt(encrypt_value, credentials) if credentials else None
        if result is None:
            log.warning("payment.authentication_return_forged", order_id=order_id)
            return ReturnOutcome(status="refused", return_url=return_url, order_id=order_id,
                                 reason="authentication_return_invalid")
        if overdue(payment.authentication, deps.clock.now()):
            await _expire(deps, uow, payment)
            return ReturnOutcome(status="refused", return_url=return_url, order_id=order_id, reason=ABANDONED)
        auth = payment.authentication
        if auth is not None and auth.state is not AuthenticationState.AWAITING and auth.result and \
                result.get("ThreeDSServerTransactionId") == auth.result.get("ThreeDSServerTransactionId"):
            return ReturnOutcome(status="replayed", return_url=return_url, order_id=order_id)
        try:
            updated, events = record_authentication(payment, result)
        except AuthenticationClosed as closed:
            log.warning("payment.authentication_return_refused", order_id=order_id, reason=closed.reason)
            return ReturnOutcome(status="refused", return_url=return_url, order_id=order_id, reason=closed.reason)
        saved = await save_and_publish(uow, before=payment, after=updated, events=events, new_pass=None,
                                       inbound=None)
        if saved.state is PaymentState.PENDING:
            correlation = await uow.payments.correlation_id(order_id) or order_id
            await uow.emit(translate.charge_authenticated(order_id, saved.shop_id), correlation_id=correlation)
        else:
            await uow.payments.keep_token(order_id, None)
    assert saved.authentication is not None
    log.info("payment.authentication_recorded", order_id=order_id, shop_id=saved.shop_id,
             state=saved.authentication.state.value, codes=list(saved.authentication.codes))
    return ReturnOutcome(status="recorded", return_url=return_url, order_id=order_id)


async def expire_overdue(deps: Deps, *, limit: int = 100) -> int:
    """Decline every payment whose buyer did not come back from 3-D Secure by the deadline (replica-safe)."""
    async with deps.uow() as uow:
        due = await uow.payments.authentication_overdue(deps.clock.now(), limit=limit)
        for order_id in due:
            payment = await uow.payments.get(order_id, lock=True)
            if payment is not None and overdue(payment.authentication, deps.clock.now()):
                await _expire(deps, uow, payment)
    return len(due)


async def _expire(deps: Deps, uow: UnitOfWork, payment: Payment) -> None:
    updated, events = expire_authentication(payment)
    await save_and_publish(uow, before=payment, after=updated, events=events, new_pass=None, inbound=None)
    await uow.payments.keep_token(payment.order_id, None)
    log.info("payment.authentication_abandoned", order_id=payment.order_id, shop_id=payment.shop_id)


async def kept_token(deps: Deps, uow: UnitOfWork, order_id: str) -> SecretStr | None:
    """The order's card token kept while 3-D Secure ran (None once the charge was sent)."""
    sealed = await uow.payments.kept_token(order_id)
    return SecretStr(deps.sealer.open(sealed)) if sealed is not None else None
