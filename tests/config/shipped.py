"""The shipped opsproof.yaml with every ``${stack.KEY}`` written out, so that it loads (and its
suites collect) without a running reference stack: the base the fuzz and exit tests mutate."""

import re
from functools import cache

from opsproof.paths import SHIPPED_CONFIG

_STACK_REF = re.compile(r"\$\{stack\.([\w.-]+)\}")
_URLS = {
    "api.url": "https://127.0.0.1:8443",
    "redis.url": "redis://:stack-pw@127.0.0.1:6390/0",
    "postgres.dsn": "postgresql://opsproof:stack-pw@127.0.0.1:5439/opsproof",
    "prometheus.url": "http://127.0.0.1:9090",
    "alertmanager.url": "http://127.0.0.1:9093",
}


def stack_value(key: str) -> str:
    """A plausible value of a reference stack key (``redis.port`` → ``6390``)."""
    if key in _URLS:
        return _URLS[key]
    if key.endswith("port"):
        return str(6000 + sum(map(ord, key)) % 3000)
    if key.endswith("hostname"):
        return "localhost"
    if key.endswith("container"):
        return "opsproof-" + key.partition(".")[0]
    return "/var/lib/opsproof-fuzz/" + key.replace(".", "/")  # files and directories


@cache
def literal_shipped_config() -> str:
    """The shipped config's text, stack references replaced by literal values."""
    return _STACK_REF.sub(lambda m: stack_value(m.group(1)), SHIPPED_CONFIG.read_text())
