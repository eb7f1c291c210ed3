"""The emulator's HTTPS on the real host names: a third-party client that speaks TLS 1.2 to
www.test.e-scott.jp works unchanged with only a host mapping and the emulator's CA (a raw TLS socket written the
way the WooCommerce/Welcart plugins write theirs, and curl --resolve); verification really is on (no CA, or a
name the certificate does not cover, fails); and ``python -m emulator --tls`` prints how to trust and map."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from pydantic import SecretStr

from emulator.testing import RunningEmulator, serve_emulator
from emulator.tls import TlsFiles
from services.payment.adapters.escott import EscottGateway, Outcome, TokenSource, create_http_client
from tests.integration.escott.conftest import DEMO

ROOT = Path(__file__).resolve().parents[3]
TEST_HOST = "www.test.e-scott.jp"
CHECK = ("MerchantId=10000001&MerchantPass=escottpass01&TransactionDate=20250101&OperateId=1Check"
         "&TenantId=0001&CardNo=4111111111111111&CardExp=3012&MerchantFree1=wc-order-1")
needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


def https_port(emulator: RunningEmulator) -> int:
    assert emulator.https_url is not None
    port = urlsplit(emulator.https_url).port
    assert port is not None
    return port


def plugin_style_post(port: int, ca_file: Path, *, server_hostname: str = TEST_HOST) -> dict[str, str]:
    """What WOO CONN / WEL-M do: open `tlsv1.2://host:443` (here: the host name mapped to 127.0.0.1), send
    HTTP/1.1 with `Connection: close`, read to EOF, split on the blank line and parse_str the body."""
    context = ssl.create_default_context(cafile=str(ca_file))
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    request = (f"POST /online/aut/OAUT002.do HTTP/1.1\r\nHost: {server_hostname}\r\n"
               "User-Agent: SLN_PAYMENT_CLIENT_PG_PHP_VERSION_1_0\r\n"
               "Content-Type: application/x-www-form-urlencoded\r\n"
               f"Content-Length: {len(CHECK)}\r\nConnection: close\r\n\r\n{CHECK}").encode()
    with (socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
          context.wrap_socket(raw, server_hostname=server_hostname) as tls):
        assert tls.version() == "TLSv1.2"
        tls.sendall(request)
        reply = b""
        while chunk := tls.recv(65536):
            reply += chunk
    head, body = reply.decode().split("\r\n\r\n", 1)
    assert head.startswith("HTTP/1.1 200")
    return dict(parse_qsl(body))


async def test_an_unmodified_tls12_client_on_the_real_host_name_works_with_the_ca_and_a_mapping(
        tls_files: TlsFiles) -> None:
    async with serve_emulator(seed=3, tls=tls_files) as emulator:
        port = https_port(emulator)
        fields = await asyncio.to_thread(plugin_style_post, port, tls_files.ca_cert)
        assert (fields["ResponseCd"], fields["MerchantFree1"], len(fields["ProcessId"])) == ("OK", "wc-order-1", 32)
        also = await asyncio.to_thread(plugin_style_post, port, tls_files.ca_cert, server_hostname="www.e-scott.jp")
        assert also["ResponseCd"] == "OK"
        with pytest.raises(ssl.SSLCertVerificationError):
            await asyncio.to_thread(plugin_style_post, port, tls_files.ca_cert, server_hostname="www.example.com")


async def curl(args: list[str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec("curl", "-sS", "--max-time", "20", *args,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    return process.returncode or 0, (out or err).decode()


@needs_curl
async def test_curl_with_resolve_and_the_ca_verifies_the_real_host_name(tls_files: TlsFiles) -> None:
    async with serve_emulator(seed=3, tls=tls_files) as emulator:
        port = https_port(emulator)
        url = f"https://{TEST_HOST}:{port}/online/aut/OAUT002.do"
        resolve = ["--resolve", f"{TEST_HOST}:{port}:127.0.0.1", "--tlsv1.2", "--tls-max", "1.2"]
        code, body = await curl([*resolve, "--cacert", str(tls_files.ca_cert), "--data", CHECK, url])
        assert code == 0 and dict(parse_qsl(body))["ResponseCd"] == "OK"
        code, body = await curl([*resolve, "--data", CHECK, url])  # without the CA: refused
        assert code == 60, body


async def test_our_client_refuses_the_emulator_when_it_does_not_trust_its_ca(tls_files: TlsFiles) -> None:
    """Verification is on: without the CA the call fails before anything is sent (not_sent: never charged)."""
    async with serve_emulator(seed=3, tls=tls_files) as emulator, create_http_client() as http:
        assert emulator.https_url is not None
        token = TokenSource(SecretStr("0" * 40))
        result = await EscottGateway(http, emulator.https_url).authorize(DEMO, token, amount=100)
        assert (result.outcome, result.reason) == (Outcome.NOT_SENT, "ConnectError")
        assert emulator.engine.ledger.counters["1Auth"].requests == 0


@needs_curl
def test_command_line_tls_serves_https_and_prints_how_to_trust_and_map(tls_files: TlsFiles) -> None:
    directory = tls_files.ca_cert.parent
    before = tls_files.ca_cert.read_bytes()
    proc = subprocess.Popen([sys.executable, "-m", "emulator", "--port", "0", "--tls", "--https-port", "0",
                             "--tls-dir", str(directory)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(6)]  # bounded by the test timeout; printed once listening
        assert lines[0].startswith("e-SCOTT emulator listening on http://")
        https_url = lines[1].strip().rsplit(" ", 1)[1]
        port = urlsplit(https_url).port
        text = "".join(lines)
        assert f"--resolve {TEST_HOST}:{port}:127.0.0.1" in text and str(tls_files.ca_cert) in text
        assert "127.0.0.1 www.e-scott.jp www.test.e-scott.jp" in text and "/etc/hosts" in text
        done = subprocess.run(["curl", "-sS", "--max-time", "20", "--cacert", str(tls_files.ca_cert), "--resolve",
                               f"{TEST_HOST}:{port}:127.0.0.1", f"https://{TEST_HOST}:{port}/_emulator/health"],
                              capture_output=True, text=True, check=False)
        assert (done.returncode, done.stdout) == (0, '{"status": "ok"}')
        assert tls_files.ca_cert.read_bytes() == before  # created once, reused
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
