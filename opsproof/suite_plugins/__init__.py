"""The suites' machinery as pytest plugin modules (options, fixtures, parametrization),
registered by ``opsproof.plugin``: the shipped suites and a team's own test files next to its
opsproof.yaml use the same fixtures, from a checkout or from a wheel.

Each module acts only for the items that ask for its fixtures, so an unrelated suite in the same
virtualenv is never touched; a refusal that must come before the session starts (a chaos plan
that may not run, ``-n`` with the DR suite, a bad load profile) is made up front when the
shipped suite is on the command line (``scope.names_suite``), else while collecting.
"""
