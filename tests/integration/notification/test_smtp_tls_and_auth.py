"""The SMTP client against a real aiosmtpd server on loopback with TLS: STARTTLS with AUTH (submission, 587),
implicit TLS (465), a certificate we must not trust, a wrong password. The certificate is made for the test and
trusted through `ca_file`, so certificate checking stays on."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from services.notification.adapters.smtp import SmtpTransport
from services.notification.settings import SmtpSettings
from tests.unit.notification.test_templates_and_mime import outgoing

USER, PASSWORD = "shop-mailer", "correct horse battery staple"


@dataclass
class Received:
    mails: list[dict[str, Any]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        self.mails.append({"tls": session.ssl is not None, "login": session.auth_data,
                           "rcpt": list(envelope.rcpt_tos), "bytes": len(envelope.content)})
        return "250 OK stored"


def _authenticate(server: SMTP, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=data.login if ok else None)  # handled=False: 535 reply


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA): (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("smtp-tls")
    cert_pem, key_pem = folder / "cert.pem", folder / "key.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return cert_pem, key_pem


@asynccontextmanager
async def smtp_server(certificate: tuple[Path, Path], *, implicit_tls: bool) -> AsyncIterator[tuple[int, Received]]:
    """Implicit TLS on connect, or plain with STARTTLS required before AUTH and mail; AUTH always required.
    (aiosmtpd 1.4 does not see an implicit-TLS transport as TLS, so AUTH-only-over-TLS is enforced for STARTTLS;
    an implicit-TLS listener speaks nothing but TLS anyway.)"""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    received = Received()

    def factory() -> SMTP:
        return SMTP(received, hostname="tls-sink", tls_context=None if implicit_tls else context,
                    require_starttls=not implicit_tls, auth_required=True, auth_require_tls=not implicit_tls,
                    authenticator=_authenticate)

    server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0,
                                                            ssl=context if implicit_tls else None)
    try:
        yield server.sockets[0].getsockname()[1], received
    finally:
        server.close()
        await server.wait_closed()


def transport(port: int, security: str, *, ca_file: Path | None, password: str = PASSWORD) -> SmtpTransport:
    return SmtpTransport(SmtpSettings(host="127.0.0.1", port=port, security=security, username=USER,
                                      password=SecretStr(password), ca_file=ca_file, timeout_s=5, send_timeout_s=10,
                                      local_hostname="notification.test"))


@pytest.mark.parametrize("security", ["starttls", "tls"])
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # the implicit-TLS listener, above
async def test_a_mail_is_sent_over_tls_after_logging_in(certificate, security):
    async with smtp_server(certificate, implicit_tls=security == "tls") as (port, received):
        result = await transport(port, security, ca_file=certificate[0]).send(outgoing())
    assert result.status == "accepted", result.detail
    [mail] = received.mails
    assert (mail["login"], mail["rcpt"]) == (USER.encode(), ["taro@example.jp"])
    assert mail["tls"] or security == "tls"  # STARTTLS: the server saw the upgraded session


async def test_a_wrong_password_is_a_temporary_failure_that_never_shows_the_password(certificate):
    async with smtp_server(certificate, implicit_tls=False) as (port, received):
        result = await transport(port, "starttls", ca_file=certificate[0], password="wrong-password-123").send(
            outgoing())
    assert (result.status, received.mails) == ("temporary", [])
    assert "login was refused" in result.detail and "535" in result.detail
    assert "wrong-password-123" not in result.detail and PASSWORD not in result.detail


async def test_a_certificate_we_do_not_trust_stops_the_mail_before_login(certificate):
    async with smtp_server(certificate, implicit_tls=False) as (port, received):
        result = await transport(port, "starttls", ca_file=None).send(outgoing())  # the system CAs only
    assert (result.status, received.mails) == ("temporary", [])
    assert "CERTIFICATE_VERIFY_FAILED" in result.detail or "certificate" in result.detail.lower(), result.detail


async def test_a_plain_connection_to_a_server_requiring_starttls_sends_nothing(certificate):
    async with smtp_server(certificate, implicit_tls=False) as (port, received):
        result = await transport(port, "none", ca_file=certificate[0]).send(outgoing())
    assert result.status != "accepted" and received.mails == []
    assert PASSWORD not in result.detail
