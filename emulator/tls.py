"""HTTPS for the emulator on the real host names (``python -m emulator --tls``).

Real clients (the WooCommerce and Welcart plugins among them) talk TLS 1.2 to port 443 of ``www.e-scott.jp`` /
``www.test.e-scott.jp`` and verify the certificate. To point such a client here unchanged, the emulator creates,
once, a local certificate authority and a server certificate for those names, ``localhost`` and 127.0.0.1
(``cryptography``), kept under ``.cache/emulator-tls/``; the client trusts the CA and maps the names to
127.0.0.1 (a hosts entry, or ``curl --resolve``). The CA's key never leaves that directory; it is a test CA for
this machine only, valid for nothing but these names.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import ipaddress
import os
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOST_NAMES = ("www.e-scott.jp", "www.test.e-scott.jp", "localhost")
ADDRESSES = ("127.0.0.1",)
DEFAULT_DIR = Path(__file__).resolve().parent.parent / ".cache" / "emulator-tls"
CA_DAYS, SERVER_DAYS, RENEW_BEFORE = 3650, 825, dt.timedelta(days=30)


@dataclass(frozen=True)
class TlsFiles:
    """The PEM files: the CA certificate clients trust, and the server's certificate chain and key."""

    ca_cert: Path
    server_cert: Path
    server_key: Path


def files_in(directory: Path) -> TlsFiles:
    """Where the files of ``directory`` live (they may not exist yet)."""
    return TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")


def ensure_certificates(directory: Path = DEFAULT_DIR) -> TlsFiles:
    """The CA and server certificate in ``directory``, created on first use and kept (a new server certificate
    only when it is missing, does not cover the names or expires within 30 days). Safe across processes."""
    directory.mkdir(parents=True, exist_ok=True)
    files = files_in(directory)
    with _locked(directory / ".lock"):
        if not files.ca_cert.exists() or not (directory / "ca-key.pem").exists():
            _write_ca(directory)
        if not _server_cert_current(files):
            _write_server_cert(directory)
    return files


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """TLS 1.2 and 1.3 with the server certificate (the plugins speak TLS 1.2)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.server_cert, files.server_key)
    return context


def trust_instructions(files: TlsFiles, https_port: int) -> str:
    """What to tell a shop's developer: trust the CA, map the host names, try it."""
    port = "" if https_port == 443 else f":{https_port}"
    return "\n".join([
        f"TLS: CA certificate {files.ca_cert} (server certificate for {', '.join(HOST_NAMES + ADDRESSES)})",
        f"  try:   curl --cacert {files.ca_cert} --resolve www.test.e-scott.jp:{https_port}:127.0.0.1 "
        f"https://www.test.e-scott.jp{port}/_emulator/health",
        "  map:   add '127.0.0.1 www.e-scott.jp www.test.e-scott.jp' to /etc/hosts (the real clients use port "
        "443: run with --https-port 443, as root)",
        f"  trust: Debian/Ubuntu: cp {files.ca_cert} /usr/local/share/ca-certificates/escott-emulator.crt && "
        "update-ca-certificates; PHP: openssl.cafile; Python: SSL_CERT_FILE; curl: --cacert",
    ])


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_ca(directory: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "e-SCOTT emulator (local test CA)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "e-SCOTT emulator local CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    _write(directory / "ca-key.pem", _key_pem(key), private=True)
    _write(directory / "ca.pem", cert.public_bytes(serialization.Encoding.PEM))


def _write_server_cert(directory: Path) -> None:
    ca_key = serialization.load_pem_private_key((directory / "ca-key.pem").read_bytes(), password=None)
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    ca = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    names: list[x509.GeneralName] = [x509.DNSName(h) for h in HOST_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ADDRESSES]
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST_NAMES[0])]))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write(directory / "server-key.pem", _key_pem(key), private=True)
    chain = cert.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    _write(directory / "server.pem", chain)


def _server_cert_current(files: TlsFiles) -> bool:
    if not files.server_cert.exists() or not files.server_key.exists():
        return False
    cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    covered = set(san.get_values_for_type(x509.DNSName)) >= set(HOST_NAMES)
    fresh = cert.not_valid_after_utc - dt.datetime.now(dt.UTC) > RENEW_BEFORE
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return covered and fresh


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write atomically (a reader never sees half a file); keys readable by the owner only."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)
