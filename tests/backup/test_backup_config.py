"""The ``backup`` block of an environment: validated up front, references named with the fix."""

from pathlib import Path

import pytest

from opsproof.backup.targets import artifact_sets, drill, postgres_sources, redis_sources
from opsproof.config.loader import load_environment
from opsproof.errors import ConfigError

CONFIG = """\
version: 1
environments:
  prod:
    services:
      cache: {kind: redis, url: "redis://127.0.0.1:6379/0"}
      db: {kind: postgres, dsn: "postgresql://app:pw@127.0.0.1:5432/app"}
      api: {kind: http, url: "http://127.0.0.1:8000"}
    slo: {rto: 15m, rpo: 15m}
    backup:
      store: /backup/app
      sources:
        cache: {service: cache, rpo: 1h}
        db: {service: db}
      artifacts:
        nightly-rdb: {kind: redis-rdb, path: "/backup/app/*/redis-*.rdb", source: cache}
        dumps: {kind: pg-dump, path: "/backup/app/*.dump", max_age: 26h, fingerprints: required}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "opsproof.yaml"
    path.write_text(text)
    return path


def test_sources_and_artifacts_resolve_their_targets(tmp_path: Path) -> None:
    environment = load_environment(_write(tmp_path, CONFIG), "prod", environ={}).environment
    [cache] = redis_sources(environment)
    [db] = postgres_sources(environment)
    assert (cache.rto, cache.rpo) == (900.0, 3600.0)
    assert (db.rto, db.rpo) == (900.0, 900.0)
    assert db.database.target == "postgresql://app@127.0.0.1:5432/app"
    ages = {a.name: (a.max_age, a.required) for a in artifact_sets(environment)}
    assert ages == {"nightly-rdb": (3600.0, False), "dumps": (93600.0, True)}
    [plan] = drill(environment)
    assert not plan.allowed and not plan.reference
    assert plan.targets.redis == (900.0, 3600.0)


@pytest.mark.parametrize(
    ("replace", "key", "message"),
    [
        (
            "cache: {service: cache, rpo: 1h}",
            "environments.prod.backup.sources.cache.service",
            "'api' is not a redis or postgres service here (cache, db)",
        ),
        (
            "source: cache}",
            "environments.prod.backup.artifacts.nightly-rdb.source",
            "'cash' is not a backup source (cache, db)",
        ),
    ],
)
def test_a_wrong_reference_names_the_key_and_the_choices(
    tmp_path: Path, replace: str, key: str, message: str
) -> None:
    broken = replace.replace("service: cache", "service: api").replace(
        "source: cache", "source: cash"
    )
    with pytest.raises(ConfigError) as error:
        load_environment(_write(tmp_path, CONFIG.replace(replace, broken)), "prod", environ={})
    text = str(error.value)
    assert key in text and message in text


def test_an_unknown_backup_key_suggests_the_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"backup\.stor: unknown key; did you mean 'store'\?"):
        load_environment(_write(tmp_path, CONFIG.replace("store:", "stor:")), "prod", environ={})


ON_A_HOST = """\
version: 1
environments:
  prod:
    hosts:
      cache1: {url: "ssh://ops@cache1.example.com", ssh: {known_hosts: /etc/ssh/known, sudo: true}}
    services:
      cache:
        kind: redis
        url: "redis://127.0.0.1:6379/0"
        runtime: {systemd: {unit: redis-server.service, host: cache1}}
      here: {kind: redis, url: "redis://127.0.0.1:6380/0"}
      db:
        kind: postgres
        dsn: "postgresql://app:pw@127.0.0.1:5432/app"
        runtime: {systemd: {unit: postgresql@15-main.service, host: cache1}}
    backup:
      sources:
        cache: {service: cache, max_copy_size: 64MiB}
        here: {service: here, rdb_file: dump.rdb}
        db: {service: db, pg_dump: host}
"""


def test_a_redis_unit_on_a_host_has_its_rdb_copied_from_that_host(tmp_path: Path) -> None:
    environment = load_environment(_write(tmp_path, ON_A_HOST), "prod", environ={}).environment
    sources = {source.name: source for source in redis_sources(environment)}

    remote = sources["cache"].remote
    assert remote is not None
    assert (remote.host_name, remote.host.url, remote.max_size) == (
        "cache1",
        "ssh://ops@cache1.example.com",
        64 << 20,
    )
    assert sources["here"].remote is None and sources["here"].rdb_file == Path("dump.rdb")


def test_an_rdb_file_on_a_host_must_be_absolute(tmp_path: Path) -> None:
    text = ON_A_HOST.replace("max_copy_size: 64MiB", "rdb_file: redis/dump.rdb")
    with pytest.raises(ConfigError) as error:
        load_environment(_write(tmp_path, text), "prod", environ={})

    [line] = str(error.value).splitlines()
    assert "opsproof.yaml:18:" in line and "backup.sources.cache.rdb_file" in line
    assert "read on host 'cache1': write its absolute path there" in line


def test_a_size_limit_that_is_not_a_size_says_how_to_write_one(tmp_path: Path) -> None:
    text = ON_A_HOST.replace("64MiB", "big")
    with pytest.raises(ConfigError) as error:
        load_environment(_write(tmp_path, text), "prod", environ={})

    assert "backup.sources.cache.max_copy_size" in str(error.value)
    assert "write a number of bytes or one with a unit" in str(error.value)


def test_a_dump_on_the_host_is_made_there(tmp_path: Path) -> None:
    environment = load_environment(_write(tmp_path, ON_A_HOST), "prod", environ={}).environment

    [db] = postgres_sources(environment)
    assert db.on_host is not None
    assert (db.on_host.host_name, db.on_host.max_size) == ("cache1", 4 << 30)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("sudo: true", "sudo: false"), "give the service a runtime on a host (systemd: {unit, "
         "host} or process: {match, host}) and that host ssh.sudo: true, or write pg_dump: here"),
        (("here: {service: here, rdb_file: dump.rdb}", "here: {service: here, pg_dump: host}"),
         "pg_dump is for a postgres service; leave it out here"),
    ],
)  # fmt: skip
def test_a_dump_on_the_host_that_cannot_run_there_names_the_fix(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_environment(_write(tmp_path, ON_A_HOST.replace(*change)), "prod", environ={})

    [line] = str(error.value).splitlines()
    assert ".pg_dump: " in line and message in line


def test_a_redis_process_on_a_host_has_its_rdb_copied_from_that_host(tmp_path: Path) -> None:
    text = ON_A_HOST.replace(
        "runtime: {systemd: {unit: redis-server.service, host: cache1}}",
        "runtime: {process: {match: redis-server, host: cache1}}",
    )
    environment = load_environment(_write(tmp_path, text), "prod", environ={}).environment

    remote = {source.name: source.remote for source in redis_sources(environment)}["cache"]
    assert remote is not None and remote.host_name == "cache1"
