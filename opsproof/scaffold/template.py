"""``opsproof init``: a commented opsproof.yaml for one deployment, asking nothing.

One http service is declared (its URL from ``--url``, else ``${APP_URL}``); everything else
opsproof can check is there as commented examples to fill in. It validates as written.
"""

import json

import yaml

DEFAULT_URL = "${APP_URL}"

_TEMPLATE = """\
# opsproof config: what to verify on a deployment, one environment per deployment.
# Written by `opsproof init`; every key is documented in the errors `opsproof config check`
# prints, and examples/compose-stack.yaml shows a whole stack.
#
#   opsproof config check --env {name_text}      validate (exit 0 valid, 2 invalid)
#   opsproof run gate --env {name_text}          verify the deployment now
#
# ${{NAME}} reads a variable when the file is loaded (${{NAME:-default}} with a default): keep
# secrets in the environment, never in this file.
version: 1
environments:
  {name}:
    description: describe the deployment (host, how it is deployed)
    services:
      app:
        kind: http
        url: {url}
        health: {{path: /health}}                # answers 200 when the service is up
        # health: {{path: /health, expect_json: {{status: ok}}}}
        # deep_health: {{path: /health/deep}}      # a check that also asks the dependencies
        # metrics: {{path: /metrics, names: [http_requests_total]}}
        # tls: {{min_days: 21}}                    # https: the certificate is not about to expire
        # headers: {{Authorization: "Bearer ${{APP_TOKEN}}"}}
        # runtime: {{docker: {{container: app-web-1}}}}   # what chaos experiments act through
      # redis:
      #   kind: redis
      #   url: redis://:${{REDIS_PASSWORD}}@127.0.0.1:6379/0
      #   expect_eviction_policy: noeviction     # a queue must not lose keys
      # postgres:
      #   kind: postgres
      #   dsn: postgresql://app:${{DB_PASSWORD}}@127.0.0.1:5432/app
      # host:
      #   kind: host
      #   backend: ssh://deploy@${{APP_HOST}}        # or local://
      #   private_ports: [6379, 5432]            # must not listen on every interface
    smoke:
      # post-deploy requests, each its own test
      - name: health answers
        service: app
        request: {{method: GET, path: /health}}
        expect: {{status: 200, max_latency: 1s}}
    # convergence: {{timeout: 60s, interval: 2s}}  # retry failing checks while a deploy settles
    # slo: {{availability: 0.999, latency_p95: 500ms, error_rate: 0.01, rto: 15m, rpo: 15m}}
    # Chaos experiments and load run only where you allow them: never on production by default.
    chaos: forbidden
    # chaos_plan:
    #   may_hit: [redis]
    #   steady_state: [app]
    #   experiments:
    #     - name: redis killed, app fails fast and recovers
    #       fault: {{action: kill, service: redis}}
    #       expect:
    #         - service: app
    #           request: {{path: /health/deep}}
    #           expect: {{status: 503, max_latency: 1s}}
    load: forbidden
    # backup:                                    # opsproof run dr: back up, restore, compare
    #   sources:
    #     postgres: {{service: postgres, rto: 15m, rpo: 15m}}
"""


def template(environment: str, url: str = DEFAULT_URL) -> str:
    """The commented config text for one environment named ``environment``."""
    return _TEMPLATE.format(name=scalar(environment), name_text=environment, url=scalar(url))


def scalar(value: str) -> str:
    """``value`` as a YAML scalar that reads back as exactly that text."""
    try:
        plain = yaml.safe_load(f"key: {value}") == {"key": value} and "#" not in value
    except yaml.YAMLError:
        plain = False
    return value if plain and value.strip() == value else json.dumps(value)
