"""API contract probing: every operation of a service's OpenAPI document, called with inputs
Schemathesis generates (valid and invalid) and Hypothesis shrinks, judged against the document.

``document`` reads the document within bounds, ``operations`` chooses what is probed (read-only
unless allowed), ``credentials`` fetches a token through a flow's steps, ``pacing`` shares the
probe's time and request rate, ``wire`` sends each case through the probes' bounded client,
``judge`` names each failed check, ``explore`` runs Hypothesis for one operation, ``report``
words the outcome, and ``probe`` ties them together for the gate's items.

Schemathesis is imported by the modules that use it only: a gate without ``api_contract``
never pays for it.
"""
