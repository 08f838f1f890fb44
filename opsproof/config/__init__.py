"""Configuration: the environment model and its loader."""

from opsproof.config.loader import DEFAULT_CONFIG_NAME, LoadedEnvironment, load_environment
from opsproof.config.models import (
    Environment,
    HostService,
    HttpService,
    PostgresService,
    PrometheusService,
    RedisService,
    Service,
    SmokeStep,
)

__all__ = [
    "DEFAULT_CONFIG_NAME",
    "Environment",
    "HostService",
    "HttpService",
    "LoadedEnvironment",
    "PostgresService",
    "PrometheusService",
    "RedisService",
    "Service",
    "SmokeStep",
    "load_environment",
]
