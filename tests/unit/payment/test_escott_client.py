"""The gateway client without a network: reply classification and secret hygiene."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from services.payment.adapters.escott import (
    CardSource,
    EscottGateway,
    Member,
    MerchantConfig,
    Outcome,
    ProcessRef,
    Request,
    TokenSource,
    TransportFailure,
    classify,
)
from services.payment.adapters.escott.client import OPERATIONS, form_fields
from services.payment.domain.gateway import GatewayOperation

MERCHANT = MerchantConfig("10000001", SecretStr("escottpass01"))
SECRETS = ("escottpass01", "kaiinpass123", "PROCESSPASS0000000000000000000000", "TOKENVALUE00000000000001",
           "4111111111111111")


def test_ok_reply_is_ok_and_process_pass_is_kept_secret() -> None:
    body = (b"TransactionId=1&TransactionDate=20250101&OperateId=1Auth&ProcessId=P1&ProcessPass=SECRETPP"
            b"&ResponseCd=OK")
    result = classify("1Auth", 200, body)
    assert result.outcome is Outcome.OK
    assert result.process is not None and result.process.process_pass.get_secret_value() == "SECRETPP"
    assert "SECRETPP" not in repr(result) and "ProcessPass" not in result.fields


def test_multiple_codes_come_back_as_declined_with_every_code() -> None:
    result = classify("1Auth", 200, b"TransactionId=1&OperateId=1Auth&ResponseCd=K20|K21|K24")
    assert (result.outcome, result.codes) == (Outcome.DECLINED, ("K20", "K21", "K24"))


def test_token_search_combines_response_and_token_codes() -> None:
    body = b"TransactionId=1&OperateId=1TokenSearch&ResponseCd=OK&TokenResponseCd=KI2"
    result = classify("1TokenSearch", 200, body)
    assert (result.outcome, result.codes) == (Outcome.DECLINED, ("KI2",))


@pytest.mark.parametrize(("status", "body"), [
    (503, b"Service Unavailable"),
    (200, b"<html>\r\n\r\nProxy Error\x00\xff"),
    (200, b""),
    (200, b"TransactionId=1&OperateId=1Auth"),
    (200, b"OperateId=1Auth&ResponseCd=OK"),
    (200, b"TransactionId=1&OperateId=1Capture&ResponseCd=OK"),
    (200, b"TransactionId=1&OperateId=1Auth&ResponseCd=NG oops"),
])
def test_anything_but_a_well_formed_reply_to_this_operation_is_unknown(status: int, body: bytes) -> None:
    assert classify("1Auth", status, body).outcome is Outcome.UNKNOWN


class TimingOut:
    """A gateway connection whose answers never come: every form is sent, then the read times out."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    async def post(self, url: str, form: dict[str, str]) -> tuple[int, bytes]:
        self.sent.append(urlencode(form).encode())
        raise TransportFailure("ReadTimeout", sent=True)


async def test_secrets_are_sent_but_never_logged_or_shown() -> None:
    http = TimingOut()
    gateway = EscottGateway(http, "http://gateway.test", today=lambda: date(2025, 1, 1))
    with capture_logs() as logs:
        card = CardSource(SecretStr(SECRETS[4]), SecretStr("3012"))
        results = [
            await gateway.authorize(MERCHANT, card, amount=100),
            await gateway.authorize(MERCHANT, TokenSource(SecretStr(SECRETS[3])), amount=100),
            await gateway.cancel(MERCHANT, ProcessRef("P" * 32, SecretStr(SECRETS[2])),
                                 member=Member("M1", SecretStr(SECRETS[1]))),
        ]
    sent = b"".join(http.sent).decode()
    shown = repr(results) + repr(logs) + "".join(r.reason for r in results)
    for secret in SECRETS:
        assert secret in sent
        assert secret not in shown
    assert {r.outcome for r in results} == {Outcome.UNKNOWN}
    assert logs[0]["event"] == "escott.call" and logs[0]["outcome"] == "unknown"


def test_credential_objects_do_not_reveal_secrets_in_repr() -> None:
    objects = [MERCHANT, Member("M1", SecretStr("kaiinpass123")), TokenSource(SecretStr("TOKENVALUE0001")),
               CardSource(SecretStr("4111111111111111"), SecretStr("3012"), SecretStr("123"))]
    text = repr(objects) + str(objects)
    hidden = ("escottpass01", "kaiinpass123", "TOKENVALUE", "4111111111111111", "3012")
    assert all(secret not in text for secret in hidden)


async def test_amounts_must_be_positive_integers() -> None:
    http = TimingOut()
    gateway = EscottGateway(http, "http://gateway.test")
    with pytest.raises(ValueError):
        await gateway.authorize(MERCHANT, TokenSource(SecretStr("T" * 40)), amount=0)
    assert http.sent == []


def test_every_gateway_operation_the_domain_names_is_a_row_of_the_clients_table() -> None:
    sent_by_us = {op.value for op in GatewayOperation if op is not GatewayOperation.SECURE}  # 3Secure: the browser's
    assert sent_by_us <= set(OPERATIONS)


@pytest.mark.parametrize(("operate_id", "given", "sent"), [
    ("1Capture", None, "20250101"), ("1Capture", date(2025, 2, 3), "20250203"),
    ("1ReAuth", None, None), ("1ReAuth", date(2025, 2, 3), "20250203"), ("1Delete", date(2025, 2, 3), None),
])
def test_the_sales_date_is_sent_as_each_operations_row_says(operate_id, given, sent) -> None:
    request = Request(process=ProcessRef("P1", SecretStr("PASS")), amount=100, sales_date=given)
    fields = form_fields(OPERATIONS[operate_id], MERCHANT, request, today=date(2025, 1, 1))
    assert fields.get("SalesDate") == sent


def test_a_master_pays_with_the_card_and_a_member_message_stores_it_on_the_member() -> None:
    token, member = TokenSource(SecretStr("T1")), Member("M1", SecretStr("KP"))
    charge = form_fields(OPERATIONS["1Auth"], MERCHANT, Request(card=token, amount=100), today=date(2025, 1, 1))
    link = form_fields(OPERATIONS["4MemAdd"], MERCHANT, Request(card=token, member=member), today=date(2025, 1, 1))
    assert (charge["Amount"], charge["PayType"], charge["Token"], "KaiinId" in charge) == ("100", "01", token.token,
                                                                                          False)
    assert (link["KaiinId"], link["Token"], "Amount" in link) == ("M1", token.token, False)
