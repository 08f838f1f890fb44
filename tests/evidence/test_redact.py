"""Secrets never reach a report: known values, URL passwords and credential headers are masked."""

from hypothesis import given
from hypothesis import strategies as st

from opsproof.support.redact import MASK, Redactor, environment_secrets


def test_known_secret_values_are_masked_everywhere() -> None:
    redactor = Redactor(["s3cr3t-pw", "tok"])
    text = redactor.text("login with s3cr3t-pw failed; s3cr3t-pw again; token tok")
    assert "s3cr3t-pw" not in text
    assert text.count(MASK) >= 2
    assert "tok" in text  # too short to be a secret: masking it would mangle "token"


def test_url_password_is_masked_but_user_and_host_stay() -> None:
    text = Redactor().text("cannot reach postgresql://app:hunter22@db:5432/app")
    assert text == f"cannot reach postgresql://app:{MASK}@db:5432/app"


def test_credential_headers_and_assignments_are_masked() -> None:
    text = Redactor().text("Authorization: Bearer abc.def.ghi, X-Api-Key=k123 password=pw1")
    for secret in ("abc.def.ghi", "k123", "pw1"):
        assert secret not in text


def test_data_redaction_reaches_nested_values_and_keys() -> None:
    data = Redactor(["topsecret"]).data({"a": ["x topsecret"], "topsecret": {"b": ("topsecret",)}})
    assert "topsecret" not in repr(data)


@given(
    secret=st.text(alphabet=st.characters(codec="utf-8"), min_size=4, max_size=40),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
)
def test_a_registered_secret_never_survives(secret: str, before: str, after: str) -> None:
    assert secret not in Redactor([secret]).text(before + secret + after)


def test_environment_values_that_look_secret_are_collected() -> None:
    environ = {
        "GITHUB_TOKEN": "ghp_abcdefgh12345",
        "DB_PASSWORD": "correct-horse",
        "SKIP_AUTH": "true",  # a flag, too short to be a credential
        "HOME": "/root/not-secret",
    }
    assert environment_secrets(environ) == {"ghp_abcdefgh12345", "correct-horse"}
