"""TLS probes: certificate expiry, hostname match and chain validity of an https service.

The certificate is fetched without verification so that a broken certificate can still be
inspected and named; the chain is then verified in a separate handshake by OpenSSL itself.
Connections go through the probes' bounded connection layer: one deadline (the service's
``timeout``) covers every connect and handshake of a probe, so a peer that accepts and never
handshakes, or trickles its handshake, fails within it.
"""

import ipaddress
import math
import ssl
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509

from opsproof.config.models import HttpService, TlsCheck
from opsproof.errors import FetchError
from opsproof.probes._deadline import Deadline
from opsproof.probes._fetch import peer_certificate
from opsproof.probes.result import Figure, Observation
from opsproof.probes.timing import timed
from opsproof.support.failures import cause_of

# OpenSSL verify codes worth a plain-words name in front of OpenSSL's own message.
_VERIFY_CAUSES = {
    9: "not yet valid",
    10: "expired",
    18: "self-signed",
    19: "self-signed root not trusted",
    20: "unknown issuer",
    21: "unknown issuer",
}


class _Endpoint:
    """Where to connect and what name to ask for, from the service URL and its tls settings."""

    def __init__(self, service: HttpService) -> None:
        parts = urlsplit(service.url)
        self.tls = service.tls or TlsCheck.model_validate({})
        self.ca_file = self.tls.ca_file or service.ca_file
        """The chain's anchor: ``tls.ca_file``, else the CA the service's requests trust (one
        private CA is declared once), else None for the system store."""
        self.host = parts.hostname or ""
        self.port = parts.port or 443
        self.https = parts.scheme == "https"
        self.name = self.tls.hostname or self.host
        self.deadline = Deadline.after(service.timeout)
        self.target = f"https://{parts.netloc.rpartition('@')[2]}"

    def handshake(self, context: ssl.SSLContext) -> bytes:
        """Connect, complete a handshake and return the peer's DER certificate, within what is
        left of the probe's deadline; :class:`FetchError` says why not."""
        return peer_certificate(self.host, self.port, context, self.name, self.deadline)

    def certificate(self) -> x509.Certificate:
        """The peer certificate, fetched without verifying it."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return x509.load_der_x509_certificate(self.handshake(context))

    def fetch(self) -> "x509.Certificate | Observation":
        """The peer certificate, or the failed observation that explains why there is none."""
        if not self.https:
            return self.not_https()
        try:
            return self.certificate()
        except (FetchError, ValueError) as exc:
            return self.unreachable(exc)

    def not_https(self) -> Observation:
        reason = f"{self.target}: TLS checks need an https URL, the service URL is plain http"
        return Observation(False, self.target, reason)

    def unreachable(self, exc: Exception) -> Observation:
        why = str(exc)
        failed = "" if why.startswith("TLS") else "TLS handshake failed: "
        return Observation(False, self.target, f"{self.target}: {failed}{why}")


@timed
def days_to_expiry(service: HttpService) -> Observation:
    """Days until the certificate expires, which must be at least ``tls.min_days``."""
    end = _Endpoint(service)
    cert = end.fetch()
    if isinstance(cert, Observation):
        return cert
    expires = cert.not_valid_after_utc
    days = math.floor((expires - datetime.now(UTC)).total_seconds() / 86400)
    minimum = end.tls.min_days
    figures = {"days_to_expiry": Figure(days, "days", f">= {minimum}")}
    when = "expired" if days < 0 else f"expires in {days} days"
    reason = f"{end.target}: certificate {_subject(cert)} {when} ({expires:%Y-%m-%d %H:%M} UTC)"
    if days < minimum:
        return Observation(
            False, end.target, f"{reason}; at least {minimum} days required", figures
        )
    return Observation(True, end.target, reason, figures)


@timed
def hostname_matches(service: HttpService) -> Observation:
    """The certificate's subjectAltName covers ``tls.hostname`` (default: the URL host)."""
    end = _Endpoint(service)
    cert = end.fetch()
    if isinstance(cert, Observation):
        return cert
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        reason = (
            f"{end.target}: certificate {_subject(cert)} has no subjectAltName; "
            f"clients no longer match {end.name!r} against the common name"
        )
        return Observation(False, end.target, reason)
    except ValueError as exc:  # cryptography parses extensions lazily
        reason = f"{end.target}: certificate {_subject(cert)} has a malformed extension: {exc}"
        return Observation(False, end.target, reason)
    dns_names = san.get_values_for_type(x509.DNSName)
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    listed = ", ".join(dns_names + ips) or "no DNS or IP names"
    figures = {"subject_alt_names": Figure(listed, target=f"covers {end.name}")}
    if _name_covered(end.name, dns_names, ips):
        return Observation(
            True, end.target, f"{end.target}: certificate covers {end.name}", figures
        )
    reason = f"{end.target}: certificate names {listed}, none matches {end.name!r}"
    return Observation(False, end.target, reason, figures)


@timed
def chain_valid(service: HttpService) -> Observation:
    """The chain verifies against ``tls.ca_file`` or the service's ``ca_file``, or the system
    trust store when neither is set."""
    end = _Endpoint(service)
    if not end.https:
        return end.not_https()
    anchor = str(end.ca_file) if end.ca_file else "the system trust store"
    try:
        context = _verifying_context(end.ca_file)
    except OSError as exc:
        reason = f"{end.target}: cannot load ca_file {end.ca_file}: {exc}"
        return Observation(False, end.target, reason)
    try:
        end.handshake(context)
    except FetchError as exc:
        refused = cause_of(exc, ssl.SSLCertVerificationError)
        if refused is not None:
            return Observation(False, end.target, _chain_failure(end, anchor, refused))
        return end.unreachable(exc)
    return Observation(True, end.target, f"{end.target}: chain verifies against {anchor}")


def _verifying_context(ca_file: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file)
    context.check_hostname = False  # the name is hostname_matches' job, not the chain's
    return context


def _chain_failure(end: _Endpoint, anchor: str, exc: ssl.SSLCertVerificationError) -> str:
    cause = _VERIFY_CAUSES.get(exc.verify_code)
    why = f"{cause} ({exc.verify_message})" if cause else str(exc.verify_message)
    reason = f"{end.target}: chain does not verify against {anchor}: {why}"
    try:
        cert = end.certificate()
    except (FetchError, ValueError):
        return reason
    return f"{reason}; certificate {_subject(cert)} issued by {cert.issuer.rfc4514_string()}"


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or "with an empty subject"


def _name_covered(name: str, dns_names: list[str], ips: list[str]) -> bool:
    """RFC 6125 name matching, by hand: ssl.match_hostname is gone, verifiers tie it to the chain.

    An IP address matches only IP entries; a wildcard covers exactly one left-most label.
    """
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        host = name.lower().rstrip(".")
        return any(_dns_match(pattern.lower().rstrip("."), host) for pattern in dns_names)
    return any(ipaddress.ip_address(ip) == address for ip in ips)


def _dns_match(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        label, _, rest = host.partition(".")
        return bool(label) and rest == pattern[2:]
    return pattern == host
