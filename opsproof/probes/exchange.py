"""The probes' bounded HTTP client for engines that send requests of their own (a flow's
steps): one deadline over connect, headers and body, the service's read limits, the failure
in words (``FetchError``), and the helpers that judge a body. The modules behind it stay
private to the probes."""

from opsproof.probes._body import MISSING, has_signature, lookup, quoted, same, sniff
from opsproof.probes._fetch import Answer, fetch, http_client

__all__ = [
    "MISSING",
    "Answer",
    "fetch",
    "has_signature",
    "http_client",
    "lookup",
    "quoted",
    "same",
    "sniff",
]
