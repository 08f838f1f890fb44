"""General helpers every layer may use, and that use no other part of opsproof but its errors:
processes, free ports, installed programs, waiting, redaction, text and file locks."""
