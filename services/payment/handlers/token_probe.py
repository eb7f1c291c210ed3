"""1TokenSearch after a token charge of unknown outcome (`domain/token_probe.py`): the probe is an attempt of its
own in the operation history (action `token_probe`, R15), recorded before it is sent like every call."""

from __future__ import annotations

from delivery.logs import get_logger
from services.payment.domain.attempts import start_attempt
from services.payment.domain.gateway import GatewayOperation, PlannedCall, Reply
from services.payment.domain.token_probe import PROBE_ACTION, probe_due, settled_by_probe
from services.payment.handlers.deps import Deps
from services.payment.handlers.steps import RecordedCall, complete_attempt
from services.payment.ports import GatewayAnswer, GatewayCall

log = get_logger(__name__)


async def probe_token(deps: Deps, call: GatewayCall, *, shop_id: str, order_id: str) -> Reply:
    """Record, send and complete one 1TokenSearch for the token of `call`; its reply."""
    planned = PlannedCall(operation=GatewayOperation.TOKEN_SEARCH, shop_id=shop_id, order_id=order_id,
                          payment_number=call.free1, token=True, action=PROBE_ACTION)
    async with deps.uow() as uow:
        attempt = start_attempt(planned, attempt_id=deps.ids.attempt_id(), now=deps.clock.now())
        await uow.attempts.add(attempt)
    probe = GatewayCall(operation=GatewayOperation.TOKEN_SEARCH, credentials=call.credentials, token=call.token,
                        free1=call.free1, free2=call.free2)
    answer = await deps.gateway.send(probe)
    async with deps.uow() as uow:
        await complete_attempt(deps, uow, attempt, answer=answer)
    log.info("payment.token_probed", order_id=order_id, shop_id=shop_id, outcome=answer.reply.outcome.value,
             codes=list(answer.reply.codes))
    return answer.reply


async def settle_by_token(deps: Deps, recorded: RecordedCall, answer: GatewayAnswer) -> GatewayAnswer:
    """`take_step`'s hook: a token charge whose answer is unknown is probed at once (before the token expires);
    an unspent token turns the answer into `not_sent`."""
    attempt, call = recorded.attempt, recorded.call
    if attempt.order_id is None or not probe_due(attempt.operation, by_token=call.token is not None,
                                                 reply=answer.reply):
        return answer
    probe = await probe_token(deps, call, shop_id=attempt.shop_id, order_id=attempt.order_id)
    settled = settled_by_probe(answer.reply, probe)
    return answer if settled is answer.reply else GatewayAnswer(reply=settled)
