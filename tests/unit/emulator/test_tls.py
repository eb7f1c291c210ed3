"""The emulator's local CA and server certificate: made once, kept, renewed only when they no longer fit."""

from __future__ import annotations

import ipaddress
import shutil
from pathlib import Path

from cryptography import x509

from emulator.tls import HOST_NAMES, ensure_certificates, server_context, trust_instructions


def test_the_ca_and_certificate_are_made_once_and_cover_the_real_host_names(tmp_path: Path) -> None:
    files = ensure_certificates(tmp_path)
    first = [p.read_bytes() for p in (files.ca_cert, files.server_cert, files.server_key)]
    again = ensure_certificates(tmp_path)
    assert [p.read_bytes() for p in (again.ca_cert, again.server_cert, again.server_key)] == first
    cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"www.e-scott.jp", "www.test.e-scott.jp", "localhost"}
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(files.ca_cert.read_bytes()))
    assert files.server_key.stat().st_mode & 0o077 == 0 and (tmp_path / "ca-key.pem").stat().st_mode & 0o077 == 0
    server_context(files)  # loads


def test_a_server_certificate_from_another_ca_is_replaced_and_the_ca_kept(tmp_path: Path) -> None:
    mine, other = ensure_certificates(tmp_path / "mine"), ensure_certificates(tmp_path / "other")
    ca = mine.ca_cert.read_bytes()
    shutil.copy(other.server_cert, mine.server_cert)
    renewed = ensure_certificates(tmp_path / "mine")
    assert renewed.ca_cert.read_bytes() == ca
    x509.load_pem_x509_certificate(renewed.server_cert.read_bytes()).verify_directly_issued_by(
        x509.load_pem_x509_certificate(ca))


def test_the_instructions_name_the_ca_the_mapping_and_a_curl_to_try(tmp_path: Path) -> None:
    files = ensure_certificates(tmp_path)
    text = trust_instructions(files, 8443)
    assert str(files.ca_cert) in text and all(name in text for name in HOST_NAMES)
    assert "--resolve www.test.e-scott.jp:8443:127.0.0.1 https://www.test.e-scott.jp:8443/" in text
    assert "https://www.test.e-scott.jp/_emulator/health" in trust_instructions(files, 443)
