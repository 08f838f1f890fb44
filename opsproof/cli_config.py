"""``opsproof config check`` and ``opsproof init``: validate a config, or write a first one."""

import os
import re
import sys
from pathlib import Path

import click

from opsproof.errors import OpsproofError

VALID, INVALID = 0, 2
ENVIRONMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

state_dir_option = click.option(
    "--state-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The reference stack's state (for ${stack.…} values and the chaos ledger); "
    "default: $OPSPROOF_STATE_DIR or ~/.local/state/opsproof.",
)


@click.group()
def config() -> None:
    """Check an opsproof.yaml."""


@config.command("check")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Config file (default: $OPSPROOF_CONFIG, ./opsproof.yaml, or the shipped one).",
)
@click.option(
    "--env",
    "environment",
    default=None,
    help="Check this environment as a run loads it (variables set, reference stack recorded); "
    "default: every environment as written, no variable read.",
)
@click.option(
    "--plan/--no-plan",
    default=None,
    help="Check the chaos plan can be run and undone on this machine (needs --env); default: "
    "when the environment allows chaos.",
)
@state_dir_option
def check(
    config_path: Path | None, environment: str | None, plan: bool | None, state_dir: Path | None
) -> None:
    """Validate the config and print every problem, one line each: file:line:col: key: the fix.

    \b
    Exit status 0 when valid, 2 when not. As a pre-commit hook or CI lint:
      opsproof config check --config opsproof.yaml
    Before a run, on the machine that runs it (variables exported):
      opsproof config check --env staging
    """
    from opsproof.config_check import check_config
    from opsproof.paths import find_config
    from opsproof.runtimes.launched import default_state_dir

    path = find_config(config_path, Path.cwd(), os.environ.get("OPSPROOF_CONFIG"))
    result = check_config(path, environment, state_dir or default_state_dir(), plan)
    for line in dict.fromkeys(result.problems):
        click.echo(line)
    for note in result.notes:
        click.echo(f"opsproof: note: {note}", err=True)
    if result.problems:
        count = len(dict.fromkeys(result.problems))
        click.echo(f"opsproof: {path}: invalid ({count} problem line(s))", err=True)
        sys.exit(INVALID)
    scope = f"environment {environment!r}" if environment else "every environment as written"
    click.echo(f"opsproof: {path}: valid ({scope})", err=True)


def _environment_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not ENVIRONMENT_NAME.fullmatch(value):
        raise click.BadParameter("use letters, digits, '_', '.' and '-', e.g. staging")
    return value


def _url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from opsproof.config.values import http_url

    if value is None or "${" in value:
        return value
    try:
        return http_url(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@click.command()
@click.option(
    "--from",
    "compose",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="A compose file to read the services, health checks, containers and a starter chaos "
    "plan from; every guess is marked '# GUESS: confirm …'.",
)
@click.option(
    "--env",
    "environment",
    default="staging",
    show_default=True,
    callback=_environment_name,
    help="Name of the environment written.",
)
@click.option(
    "--url",
    default=None,
    callback=_url,
    help="Without --from: the service's URL (default ${APP_URL}).",
)
@click.option(
    "--output",
    "-o",
    default="opsproof.yaml",
    show_default=True,
    help="File to write; - prints it.",
)
@click.option("--force", is_flag=True, help="Replace the output file if it exists.")
def init(compose: Path | None, environment: str, url: str | None, output: str, force: bool) -> None:
    """Write a commented opsproof.yaml for one deployment, asking nothing.

    \b
    opsproof init --url https://staging.example.com     a template to fill in
    opsproof init --from docker-compose.yml             read off a compose file
    Then: opsproof config check --env staging; opsproof run gate --env staging
    """
    from opsproof.scaffold.output import write_config
    from opsproof.scaffold.template import DEFAULT_URL, template

    try:
        if compose is not None:
            if url is not None:
                raise click.UsageError("--url is for the template; --from reads the URLs")
            from opsproof.scaffold.compose import read_compose
            from opsproof.scaffold.from_compose import scaffold_from_compose

            shown = "FILE" if output == "-" else output
            text = scaffold_from_compose(read_compose(compose), environment, str(compose), shown)
        else:
            text = template(environment, url or DEFAULT_URL)
        written = write_config(text, output, force=force)
    except OpsproofError as error:
        click.echo(f"opsproof: {error}", err=True)
        sys.exit(INVALID)
    if written is not None:
        click.echo(
            f"wrote {written}: confirm the lines marked GUESS, then "
            f"opsproof config check --config {written} --env {environment}",
            err=True,
        )
