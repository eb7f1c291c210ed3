"""What the PHP/Java clients depend on at the HTTP level, the token script, and ``python -m emulator``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.integration.escott.conftest import DEMO, Harness

ROOT = Path(__file__).resolve().parents[3]
QUERY = ("MerchantId=10000001&MerchantPass=escottpass01&TransactionDate=20250101&OperateId=1Check"
         "&TenantId=0001&CardNo=4111111111111111&CardExp=3012&MerchantFree1=abc")


async def test_reply_framing_content_length_no_chunking_no_trailing_newline(harness: Harness) -> None:
    response = await harness.admin.post("/online/aut/OAUT002.do", content=QUERY.encode(),
                                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.content)
    assert "Transfer-Encoding" not in response.headers
    assert not response.content.endswith(b"\n") and b"\r\n\r\n" not in response.content
    assert response.content.endswith(b"ResponseCd=OK")


async def test_parameters_in_the_query_string_of_a_post_are_accepted(harness: Harness) -> None:
    response = await harness.admin.post(f"/online/aut/OAUT002.do?{QUERY}")
    assert b"ResponseCd=OK" in response.content and b"MerchantFree1=abc" in response.content


async def test_business_errors_are_http_200(harness: Harness) -> None:
    response = await harness.admin.post("/online/crp/OCRP005.do", data={"OperateId": "1Auth"})
    assert response.status_code == 200 and b"ResponseCd=" in response.content and b"TransactionId=" in response.content


async def test_token_script_names_the_api_and_the_callback_attribute(harness: Harness) -> None:
    response = await harness.admin.get("/euser/stn/CdGetJavaScript.do", params={"k_TokenNinsyoCode": "DEMOTOKEN0001"})
    assert response.status_code == 200 and "javascript" in response.headers["Content-Type"]
    assert "spsvCreateToken" in response.text and "callBackFunc" in response.text and "DEMOTOKEN0001" in response.text


async def test_admin_api_reports_holds_stats_and_reset(harness: Harness) -> None:
    token = await harness.token()
    await harness.gateway.authorize(DEMO, token, amount=4321)
    holds = (await harness.admin.get("/_emulator/holds")).json()
    assert holds["per_merchant"]["10000001"]["authorized_amount"] == 4321
    stats = (await harness.admin.get("/_emulator/stats")).json()
    assert stats["operations"]["1Auth"] == {"requests": 1, "ok": 1, "errors": 0}
    assert (await harness.admin.put("/_emulator/faults", json={"default": {"garbage": 2}})).status_code == 400
    await harness.admin.post("/_emulator/reset")
    assert (await harness.admin.get("/_emulator/holds")).json()["per_merchant"] == {}


async def test_clock_advance_expires_tokens(harness: Harness) -> None:
    token = await harness.token()
    await harness.admin.post("/_emulator/clock", json={"advance_seconds": 3600})
    assert (await harness.gateway.authorize(DEMO, token, amount=100)).codes == ("KI3",)


def test_command_line_emulator_serves_configured_merchants(tmp_path: Path) -> None:
    merchants = tmp_path / "merchants.json"
    merchants.write_text(json.dumps([{"MerchantId": "30000003", "MerchantPass": "shop3pass",
                                      "TokenNinsyoCode": "SHOP3TOKEN", "TenantIds": ["0001", "0002"]}]))
    proc = subprocess.Popen([sys.executable, "-m", "emulator", "--port", "0", "--merchants", str(merchants)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()  # bounded by the test timeout; printed once listening
        url = banner.strip().rsplit(" ", 1)[1]
        form = {"MerchantId": "30000003", "MerchantPass": "shop3pass", "TransactionDate": "20250101",
                "OperateId": "1Check", "TenantId": "0002", "CardNo": "4111111111111111", "CardExp": "3012"}
        reply = httpx.post(f"{url}/online/aut/OAUT002.do", data=form, timeout=5)
        assert reply.text.endswith("ResponseCd=OK")
        demo = httpx.post(f"{url}/_emulator/tokens", data={"k_TokenNinsyoCode": "DEMOTOKEN0001",
                                                           "CardNo": "4111111111111111", "CardExp": "3012"})
        assert demo.text.startswith("token=")
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
