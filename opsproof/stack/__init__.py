"""The embedded reference stack: nginx (TLS) → API → Redis + PostgreSQL, and a worker.

All programs run as process groups on free 127.0.0.1 ports with their data in a temporary
directory; the state file in a state directory records them for later commands.

Nothing is imported here, so that reading the state file (``opsproof.runtimes.launched``) stays
cheap. The public API lives in ``opsproof.stack.launcher`` (``start_stack``, ``stop_stack``,
``stack_status``, ``stop_component``, ``start_component``), ``opsproof.stack.outage``
(``component_down``) and ``opsproof.stack.readiness`` (``wait_healthy``).
"""
