"""OTDS010 over HTTP, as a third-party plugin's auto-submitted form reaches it: the challenge page, the
auto-submitted return to RedirectUrl, and the 1Auth that carries the result (reference §5.4)."""

from __future__ import annotations

import re

from emulator.tds_crypto import decrypt_fields, encrypt_fields
from emulator.tds_state import THREE_D_FIELDS
from tests.integration.escott.conftest import Harness

KEY, IV = "DEMO3DSKEY000001", "DEMO3DSIV0000001"
RETURN = "https://shop.example.jp/?wc-api=wc_sonypayment"


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, page
    return found.group(1).replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&")


async def test_plugin_form_goes_through_the_challenge_and_the_result_authorizes_once(harness: Harness) -> None:
    token = (await harness.token("4000000000003220")).token.get_secret_value()
    inner = {"MerchantId": "10000001", "MerchantPass": "escottpass01", "TransactionDate": "20250101",
             "TenantId": "0001", "OperateId": "3Secure", "Token": token, "Amount": "1980", "PayType": "01",
             "ProcNo": "7654321", "RedirectUrl": RETURN, "MerchantFree1": "P77", "BillingFullName": "TARO YAMADA",
             "BillingEmail": "taro@example.jp"}
    form = {"MerchantId": "10000001", "EncryptValue": encrypt_fields(inner, key=KEY, iv=IV)}
    challenge = await harness.admin.post("/online/tds/OTDS010.do", data=form)
    assert challenge.status_code == 200 and "text/html" in challenge.headers["content-type"]
    assert "<script src" not in challenge.text and "http" not in challenge.text.split("<body>")[1]
    code = re.search(r'id="one-time-code">(\d{6})<', challenge.text)
    assert code is not None
    answered = await harness.admin.post("/online/tds/challenge.do",
                                        data={"session": _hidden(challenge.text, "session"), "code": code.group(1)})
    assert f'action="{RETURN.replace("&", "&amp;")}"' in answered.text and "submit()" in answered.text
    fields = decrypt_fields(_hidden(answered.text, "EncryptValue"), key=KEY, iv=IV)
    assert (fields["ResponseCd"], fields["SecureResultCode"], fields["MerchantFree1"]) == ("OK", "0", "P77")
    reply = await harness.admin.post("/online/aut/OAUT002.do", data={
        **{k: inner[k] for k in ("MerchantId", "MerchantPass", "TransactionDate", "TenantId", "Token", "Amount",
                                 "PayType")}, "OperateId": "1Auth", **{n: fields[n] for n in THREE_D_FIELDS}})
    assert "ResponseCd=OK" in reply.text
    (tx,) = await harness.ledger()
    assert tx["three_d_secure"]["ThreeDSServerTransactionId"] == fields["ThreeDSServerTransactionId"]
    sessions = (await harness.admin.get("/_emulator/tds")).json()
    assert [s["state"] for s in sessions] == ["used"] and token not in str(sessions)
    again = await harness.admin.post("/online/tds/OTDS010.do", data=form)
    assert 'id="response-cd">U08<' in again.text
