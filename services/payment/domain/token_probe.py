"""What a 1TokenSearch tells about a token charge of unknown outcome (design §6.2, issue 17).

The token is single use: the gateway spends it when it processes a charge, whatever the card company answers, and
1TokenSearch reads its status without spending it (protocol reference §5). So right after a charge by token ends
unknown (timeout, reset, 5xx, garbage, or a crash after recording it), the token's status decides:

- usable (both codes `OK`): the gateway never processed the charge. The call counts as not sent: the flow sends it
  again with the same token within its budget, or declines the order as not sent (`gateway_unreachable`);
- used (`KI2`): the charge was processed, approved or declined: it stays unknown, for an operator;
- expired (`KI3`), not usable (`KHZ`), or the probe's own outcome unknown: it proves nothing and stays unknown.

Never for a charge by member (KaiinId): no token was sent, and a member charge can be taken twice (§6.2).
"""

from __future__ import annotations

from services.payment.domain.gateway import CHARGES, GatewayOperation, Outcome, Reply

PROBE_ACTION = "token_probe"
"""The `action` of a probe's attempt in the operation history (the order flow's own calls have none)."""
TOKEN_UNUSED = "token_unused"  # noqa: S105 - a reason code, not a secret
"""The reason a charge counts as not sent: 1TokenSearch found its token unspent."""


def probe_due(operation: GatewayOperation, *, by_token: bool, reply: Reply) -> bool:
    """True when a 1TokenSearch can settle this call's outcome: a charge by token whose outcome is unknown."""
    return operation in CHARGES and by_token and reply.outcome is Outcome.UNKNOWN


def settled_by_probe(charge: Reply, probe: Reply) -> Reply:
    """The charge's reply once the probe answered: not sent when the token is unspent, else unchanged."""
    if probe.outcome is Outcome.OK:
        return Reply(outcome=Outcome.NOT_SENT, reason=TOKEN_UNUSED)
    return charge
