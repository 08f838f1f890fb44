"""NIST OSCAL 1.1.3 documents of a run, for auditors' and GRC tools.

Every run directory gets ``oscal/``: ``assessment-results.json`` (one result: an observation per
check, a finding per control, a risk per waiver), the ``assessment-plan.json`` it imports, the
minimal ``system-security-plan.json`` that imports (components are the environment's services),
and the ``profile.json`` + ``catalog.json`` that resolve its control ids. Each document pins the
files it references by sha256; the manifest then covers them all.

The documents are built as JSON here and validated with compliance-trestle's OSCAL models by
``validate.py`` (``opsproof report verify``, the tests): trestle's models take ~1.5 s to import,
more than writing a whole run's evidence, so a run does not pay for them.
"""
