"""The OSCAL system description names where each service runs, a worker run by systemd on
another host included (found on foreign ground: a chaos run of such a worker ended in an
AssertionError while its evidence was written)."""

from pathlib import Path

from opsproof.config.loader import load_environment
from opsproof.evidence.oscal.system import describe_environment

CONFIG = """\
version: 1
environments:
  box:
    hosts:
      vm: {url: "ssh://deploy@10.0.0.5:22"}
    services:
      worker:
        kind: process
        runtime: {systemd: {unit: shop-worker.service, host: vm}}
"""


def test_a_worker_run_by_systemd_is_described_by_its_host_and_unit(tmp_path: Path) -> None:
    config = tmp_path / "opsproof.yaml"
    config.write_text(CONFIG)

    described = describe_environment(load_environment(config, "box"))

    [worker] = described.components
    assert worker.endpoint == "systemd://vm/shop-worker.service"
