"""The locustfile opsproof passes to Locust beside the user's own (``-f entry.py,user.py``):
it declares the plan argument and attaches the master coordinator or the worker agent once
Locust has built its runner. Locust loads it by path: nothing may import it as a module.

The master sets the plan as a custom argument; Locust forwards custom arguments to every worker
inside the spawn message, before any user starts, so no worker can run ungated.
"""

from typing import Any

from locust import events
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner


def _declare(parser: LocustArgumentParser, **_: Any) -> None:
    parser.add_argument(
        "--opsproof-plan", default="", include_in_web_ui=False, help="set by opsproof; do not use"
    )


def _attach(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, MasterRunner):
        from opsproof.load.locust.master import MasterCoordinator

        MasterCoordinator(environment)
    elif isinstance(environment.runner, WorkerRunner):
        from opsproof.load.locust.worker import WorkerAgent

        WorkerAgent(environment)


events.init_command_line_parser.add_listener(_declare)  # type: ignore[no-untyped-call]
events.init.add_listener(_attach)  # type: ignore[no-untyped-call]
