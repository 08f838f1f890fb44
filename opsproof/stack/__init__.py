"""The embedded reference stack: nginx (TLS) → API → Redis + PostgreSQL, and a worker."""
