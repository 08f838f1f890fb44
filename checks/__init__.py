"""The deploy gate: one item per health, dependency, smoke, TLS, metrics and host check."""
