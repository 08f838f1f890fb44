"""The way back for faults on a container: an engine that answers and a container it can
start again (one started with ``--rm`` is deleted by the engine once it stops)."""

from pathlib import Path, PurePosixPath

import docker
import requests
from docker.errors import DockerException, NotFound

from opsproof.config import models as cfg
from opsproof.config.problems import KeyPath
from opsproof.errors import EngineUnavailable
from opsproof.faults import nft
from opsproof.faults.container_disk import place
from opsproof.faults.container_network import host_network_refusal
from opsproof.faults.feasibility import machine
from opsproof.faults.feasibility.problem import Infeasible
from opsproof.faults.feasibility.process import needs_start
from opsproof.runtimes.docker_engine import connect, engine_address

ENGINE_TIMEOUT = 5.0


class Engine:
    """One connection for all experiments of a check, made only when a container is planned."""

    def __init__(self) -> None:
        self._client: docker.DockerClient | None = None
        self._error: str | None = None

    def client(self) -> docker.DockerClient | str:
        """The client, or why there is none."""
        if self._client is None and self._error is None:
            try:
                self._client = connect(timeout=ENGINE_TIMEOUT)
            except EngineUnavailable as error:
                self._error = str(error)
        return self._client if self._client is not None else str(self._error)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def container_problems(
    service: str,
    spec: cfg.DockerRuntimeSpec,
    fault: cfg.FaultSpec,
    experiment: str,
    fault_path: KeyPath,
    engine: Engine,
) -> list[Infeasible]:
    where: KeyPath = ("services", service, "runtime", "docker")
    label = f"experiment {experiment!r}"
    if isinstance(fault, cfg.NetworkFaultSpec):
        if fault.mode not in nft.VERDICTS:
            message = (
                f"services.{service} runs in a container, and {fault.mode} is not done in its "
                f"network namespace; use mode: {', '.join(nft.VERDICTS)}"
            )
            return [Infeasible((*fault_path, "mode"), message)]
        needs = f"{label} loads and deletes its rules in the container's network namespace"
        problems = machine.program((*fault_path, "action"), "nft", "nftables", needs)
        problems += machine.program((*fault_path, "action"), "nsenter", "util-linux", needs)
        problems += machine.root((*fault_path, "action"), needs)
        if problems:
            return problems
    client = engine.client()
    if isinstance(client, str):
        return [Infeasible(where, f"experiment {experiment!r} acts through the engine: {client}")]
    try:
        attrs = client.api.inspect_container(spec.container)
    except NotFound:
        message = (
            f"no container {spec.container!r} on the engine at {engine_address()}, so experiment "
            f"{experiment!r} could neither act on it nor start it again; fix the name "
            "(docker ps -a lists them)"
        )
        return [Infeasible((*where, "container"), message)]
    except (DockerException, requests.RequestException) as error:
        message = f"the engine could not inspect container {spec.container!r}: {error}"
        return [Infeasible((*where, "container"), message)]
    if isinstance(fault, cfg.NetworkFaultSpec) and attrs["HostConfig"].get("NetworkMode") == "host":
        return [Infeasible((*where, "container"), host_network_refusal(spec.container))]
    if isinstance(fault, cfg.DiskFaultSpec):
        found = place(attrs, PurePosixPath(fault.path))
        if isinstance(found, str):
            return [Infeasible((*fault_path, "path"), f"{label} fills {fault.path}: {found}")]
        needed_for = f"{label} fills {fault.path} in {found.where} (its undo removes the file)"
        return machine.writable_dir((*fault_path, "path"), Path(found.fill), needed_for)
    verb = needs_start(fault)
    if verb in ("kills", "stops", "lets the OOM killer kill") and attrs.get("HostConfig", {}).get(
        "AutoRemove"
    ):
        message = (
            f"experiment {experiment!r} {verb} container {spec.container!r}, which was started "
            "with --rm: the engine deletes it once it stops, so nothing could start it again; "
            "run it without --rm (with a restart policy, as in production)"
        )
        return [Infeasible((*where, "container"), message)]
    return []
