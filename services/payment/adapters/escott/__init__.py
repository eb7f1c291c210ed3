"""The e-SCOTT client: `client.py` (operations keyed by OperateId, `EscottGateway`), `wire.py` (values and reply
classification), `transport.py` (the pooled HTTP client). The names below are its public surface."""

from services.payment.adapters.escott.client import OPERATIONS, EscottGateway, OperationSpec, Request
from services.payment.adapters.escott.transport import EscottTimeouts, GatewayHttp, TransportFailure, create_http_client
from services.payment.adapters.escott.wire import (
    SECRET_REPLY_FIELDS,
    CardInput,
    CardSource,
    EscottResult,
    Member,
    MerchantConfig,
    MerchantRefs,
    Outcome,
    ProcessRef,
    Source,
    TokenSource,
    classify,
    parse_reply,
)

__all__ = [
    "OPERATIONS", "SECRET_REPLY_FIELDS", "CardInput", "CardSource", "EscottGateway", "EscottResult",
    "EscottTimeouts", "GatewayHttp", "Member", "MerchantConfig", "MerchantRefs", "OperationSpec", "Outcome",
    "ProcessRef", "Request", "Source", "TokenSource", "TransportFailure", "classify", "create_http_client",
    "parse_reply",
]
