"""Which PostgreSQL took a dump: a restore that fails after a dump by a pg_dump older than its
server says so, with the fix."""

import pytest

from opsproof.backup.postgres.versions import older_tool_hint, parse, tool_version


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("15.20 (Debian 15.20-0+deb12u1)", (15, 20)),
        ("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n", (15, 18)),
        ("17.2", (17, 2)),
        ("18devel", (18, 0)),
        ("unknown", None),
    ],
)
def test_versions_are_read_as_servers_and_tools_print_them(
    text: str, version: tuple[int, int] | None
) -> None:
    assert parse(text) == version


def test_a_server_newer_than_this_machines_pg_dump_is_named_with_the_fix() -> None:
    tool = tool_version()
    assert tool is not None
    newer = f"{tool[0]}.{tool[1] + 1} (Debian)"

    hint = older_tool_hint(newer)

    assert f"pg_dump {tool[0]}.{tool[1]}, older than the server's PostgreSQL" in hint
    assert f"{tool[0]}.{tool[1] + 1}" in hint and f"postgresql-client-{tool[0]}" in hint
    assert older_tool_hint(f"{tool[0]}.{tool[1]}") == ""
    assert older_tool_hint(f"{tool[0] - 1}.99") == ""
