"""Bad config for every key of an API contract probe: one line naming file:line:key and the fix."""

import pytest

from opsproof.config.loader import load_environment
from tests.config.conftest import VALID, ConfigFiles

CONTRACT = """\
        api_contract:
          openapi: /openapi.json
          include: {paths: ["/api/*"], methods: [GET, POST], tags: [jobs]}
          exclude: {paths: [/api/admin]}
          checks: [server_error, response_schema, status_code, content_type, auth_required]
          examples: 25
          budget: 30s
          rate: 10
          response_time: 800ms
          allow_methods: [POST]
          auth:
            steps:
              - name: log in
                request: {method: POST, path: /login, json: {user: sre}}
                capture: {token: {json: access_token}}
            headers: {Authorization: "Bearer ${token}"}
"""
WITH_CONTRACT = VALID.replace("        tls:\n          min_days: 14\n",
                              "        tls:\n          min_days: 14\n" + CONTRACT, 1)  # fmt: skip
AT = "environments.staging.services.api.api_contract"


def test_a_contract_with_every_key_loads(cfg: ConfigFiles) -> None:
    environment = load_environment(cfg.write(WITH_CONTRACT), "staging", environ=cfg.environ)
    contract = environment.environment.services["api"].api_contract  # type: ignore[union-attr]
    assert contract is not None
    assert contract.methods == ("GET", "HEAD", "OPTIONS", "POST")
    assert contract.response_time == 0.8
    assert contract.auth is not None
    # the token the login step captures is left for the probe to fill in
    assert contract.auth.headers == {"Authorization": "Bearer ${token}"}


CASES = {
    "two sources": ("openapi: /openapi.json",
                    "openapi: /openapi.json\n          openapi_file: a.json",
                    AT, "one OpenAPI source: keep openapi (a path on the service) or openapi_file"),
    "openapi path": ("openapi: /openapi.json", "openapi: openapi.json", f"{AT}.openapi",
                     "a request path starts with '/'"),
    "include path": ('paths: ["/api/*"]', "paths: [api]", f"{AT}.include.paths",
                     "'api' is not a path: write it as documented, from its /"),
    "include key": ("tags: [jobs]}", "tag: [jobs]}", f"{AT}.include.tag",
                    "unknown key; did you mean 'tags'?"),
    "include method": ("methods: [GET, POST]", "methods: [GET, FETCH]", f"{AT}.include.methods[1]",
                       "expected one of: GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE; got 'FE"),
    "empty filter": ("exclude: {paths: [/api/admin]}", "exclude: {}", f"{AT}.exclude",
                     "name paths, methods or tags to match, or remove the key"),
    "check name": ("auth_required]", "auth]", f"{AT}.checks[4]",
                   "got 'auth'; did you mean 'auth_required'?"),
    "no checks": ("checks: [server_error, response_schema, status_code, content_type, "
                  "auth_required]", "checks: []", AT, "checks: name at least one of server_error"),
    "examples": ("examples: 25", "examples: 0", f"{AT}.examples", "greater than or equal to 1"),
    "budget": ("budget: 30s", "budget: 2h", f"{AT}.budget", "less than or equal to 3600"),
    "rate": ("rate: 10", "rate: 0", f"{AT}.rate", "greater than 0"),
    "response time": ("response_time: 800ms", "response_time: fast", f"{AT}.response_time",
                      "'fast' is not a duration"),
    "allow methods": ("allow_methods: [POST]", "allow_methods: [GET]", f"{AT}.allow_methods",
                      "GET is always probed; list only methods that may change state: POST"),
    "allow method": ("allow_methods: [POST]", "allow_methods: [POSTS]",
                     f"{AT}.allow_methods[0]", "got 'POSTS'; did you mean 'POST'?"),
    "auth key": ("headers: {Authorization", "header: {Authorization", f"{AT}.auth.header",
                 "unknown key; did you mean 'headers'?"),
    "auth headers": ('            headers: {Authorization: "Bearer ${token}"}\n', "",
                     f"{AT}.auth", "auth needs headers to send"),
    "auth capture": ("Bearer ${token}", "Bearer ${tok}", f"{AT}.auth.headers",
                     "${tok} is captured by no step of this flow (captured: token)"),
    "auth step": ("request: {method: POST, path: /login", "request: {method: POST, path: login",
                  f"{AT}.auth.steps[0].request.path", "a request path starts with '/'"),
    "contract key": ("examples: 25", "example: 25", f"{AT}.example",
                     "unknown key; did you mean 'examples'?"),
}  # fmt: skip


@pytest.mark.parametrize(("old", "new", "key", "message"), CASES.values(), ids=list(CASES))
def test_a_bad_contract_key_is_one_line_with_the_fix(
    cfg: ConfigFiles, old: str, new: str, key: str, message: str
) -> None:
    assert old in WITH_CONTRACT
    text = WITH_CONTRACT.replace(old, new, 1)
    [problem] = cfg.problems(text)
    assert problem.key == key
    assert message in problem.message
    assert cfg.line_of(text, "api_contract:") <= problem.line < cfg.line_of(text, "cache:")


def test_production_refuses_methods_that_change_state(cfg: ConfigFiles) -> None:
    text = WITH_CONTRACT.replace(
        "    chaos: allowed\n", "    chaos: allowed\n    production: true\n"
    )
    [problem] = cfg.problems(text)
    assert problem.key == f"{AT}.allow_methods"
    assert problem.line == cfg.line_of(text, "allow_methods: [POST]")
    assert "this environment is production: the probe stays read-only" in problem.message
    assert "remove allow_methods" in problem.message
    read_only = text.replace("          allow_methods: [POST]\n", "")
    assert load_environment(cfg.write(read_only), "staging", environ=cfg.environ)


def test_production_must_be_true_or_false(cfg: ConfigFiles) -> None:
    text = WITH_CONTRACT.replace(
        "    chaos: allowed\n", "    chaos: allowed\n    production: yes please\n"
    )
    [problem] = cfg.problems(text)
    assert problem.key == "environments.staging.production"
    assert "true or false" in problem.message
