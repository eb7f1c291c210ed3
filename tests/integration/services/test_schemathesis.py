"""Each service's OpenAPI document, fuzzed (issue 14): schemathesis generates valid and invalid requests for every
operation, a bounded number per operation and seeded, against the service running on real PostgreSQL and Kafka
over a real socket, with every role's key; no answer may be a 5xx and every answer must match what the document
says (status, content type, schema: the problem details of errors included)."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from tests.integration.checkout.payment_stub import INTERNAL_TOKEN, serve_payment_stub
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
MAX_EXAMPLES = 8
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
OPERATOR_KEY = "operator-key-for-fuzzing-0123456789"
STOREFRONT_KEY = "storefront-key-for-fuzzing-0123456789"
ADMIN_TOKEN = "admin-token-for-fuzzing-0123456789"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


@asynccontextmanager
async def serving(name: str, database_url: str, kafka: Any, *, stub_url: str) -> AsyncIterator[str]:
    """The service on a free port of 127.0.0.1 (its lifespan run by uvicorn), with the shop `shop-1` known."""
    module = importlib.import_module(f"services.{name}.settings")
    extra: dict[str, Any] = {}
    if name == "checkout":
        extra = {"admin_token": ADMIN_TOKEN, **{f"{other}_{part}": value for other in
                 ("payment", "notification", "subscription") for part, value in
                 (("url", stub_url), ("internal_token", INTERNAL_TOKEN))}}
    else:
        extra = {"internal_token": INTERNAL_TOKEN}
    settings = getattr(module, f"{name.capitalize()}Settings")(database_url=database_url, kafka=kafka, db_pool_size=4,
                                                               **extra)
    app = importlib.import_module(f"services.{name}.app").create_app(settings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: _started(server, task), timeout=60, message=f"{name} listening")
        await _register_shop(name, url)
        yield url
    finally:
        server.should_exit = True
        async with asyncio.timeout(30):
            await task
        sock.close()


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> bool:
    if task.done():
        task.result()  # a start-up failure fails the test with its cause
    return server.started


async def _register_shop(name: str, url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=20) as client:
        if name == "checkout":
            body = {"shop_id": "shop-1", "shop_name": "本店", "operator_key": OPERATOR_KEY,
                    "storefront_key": STOREFRONT_KEY,
                    "mail": {"sender_address": "info@shop.example.jp", "shop_copy_address": "orders@shop.example.jp"}}
            response = await client.post("/admin/v1/shops", json=body, headers={"X-Admin-Token": ADMIN_TOKEN})
            assert response.status_code == 201, response.text
            return
        for role, key in (("operator", OPERATOR_KEY), ("storefront", STOREFRONT_KEY)):
            response = await client.put(f"/internal/v1/shops/shop-1/{role}-key",
                                        json={"sha256": hashlib.sha256(key.encode()).hexdigest()},
                                        headers={"X-Internal-Token": INTERNAL_TOKEN})
            assert response.status_code in (204, 404), response.text  # 404: the service has no such role


async def fuzz(url: str, report: Path) -> tuple[int, str]:
    """One bounded, seeded schemathesis run over the whole document; its exit code and what it printed."""
    headers = [f"X-Operator-Key: {OPERATOR_KEY}", f"X-Storefront-Key: {STOREFRONT_KEY}",
               f"X-Admin-Token: {ADMIN_TOKEN}", f"X-Internal-Token: {INTERNAL_TOKEN}"]
    config = report / "schemathesis.toml"
    config.write_text('[parameters]\n"path.shop_id" = "shop-1"\n')  # reach the shop the keys open, not only 404s
    args = [str(SCHEMATHESIS), "--config-file", str(config), "run", f"{url}/openapi.json", "--checks", CHECKS,
            "--max-examples", str(MAX_EXAMPLES), "--phases", "examples,fuzzing", "--seed", "14", "--workers", "1",
            "--generation-database", "none", "--request-timeout", "20", "--no-color",
            "--report", "junit", "--report-dir", str(report)]
    for header in headers:
        args += ["-H", header]
    process = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
    async with asyncio.timeout(600):
        output, _ = await process.communicate()
    return process.returncode or 0, output.decode(errors="replace")


@pytest.mark.timeout(900)  # the fuzzing run is bounded at 600 s: on a busy machine it outlasted pytest's 300 s
@pytest.mark.parametrize("name", ["checkout", "payment", "subscription", "notification"])
async def test_fuzzing_a_service_s_openapi_document_finds_no_5xx_and_no_answer_off_the_document(
        name: str, database_url: str, isolated_kafka: Any, tmp_path: Path) -> None:
    async with serve_payment_stub() as stub, serving(name, database_url, isolated_kafka, stub_url=stub.url) as url:
        code, output = await fuzz(url, tmp_path)
    assert code == 0, output[-12000:]
