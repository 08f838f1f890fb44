"""TLS material and ports, without a stack."""

import datetime as dt
import ipaddress
import stat
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from opsproof.stack.certs import write_tls_material
from opsproof.support.ports import free_ports


def test_server_certificate_is_signed_by_the_ca_for_localhost_and_loopback(tmp_path: Path) -> None:
    files = write_tls_material(tmp_path, days=7)
    ca = x509.load_pem_x509_certificate(files.ca_file.read_bytes())
    cert = x509.load_pem_x509_certificate(files.cert_file.read_bytes())

    cert.verify_directly_issued_by(ca)  # raises unless the CA's key signed it
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in usage
    days_left = cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=6, hours=23) < days_left <= dt.timedelta(days=7)
    assert ca.not_valid_after_utc > cert.not_valid_after_utc
    assert stat.S_IMODE(files.key_file.stat().st_mode) == 0o600


def test_default_validity_is_90_days(tmp_path: Path) -> None:
    cert = x509.load_pem_x509_certificate(write_tls_material(tmp_path).cert_file.read_bytes())
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 90


def test_free_ports_are_distinct() -> None:
    ports = free_ports(8)
    assert len(set(ports)) == 8
    assert all(1024 < p < 65536 for p in ports)
