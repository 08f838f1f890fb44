#!/usr/bin/env bash
# A Docker engine for opsproof's docker runtime and tests: installs Debian's docker.io (as root,
# when missing) and starts dockerd when no engine answers. Images need no debootstrap: they are
# assembled from the Debian packages setup.sh installs (opsproof/stack/docker/rootfs.py).
#
# dockerd is started with --bridge=none --iptables=false --ip6tables=false --ip-masq=false: no
# docker0 bridge, no iptables rules, no NAT. Containers can only use host networking (bound to
# 127.0.0.1 by their own configuration) or --network none; nothing ever reaches 172.x.
#
# Never fails the set-up: without root or with an engine that will not start it says why, and
# the docker tests report it (and fail under CI=true).
set -uo pipefail

LOG=${OPSPROOF_DOCKERD_LOG:-/var/log/opsproof-dockerd.log}
START_TIMEOUT=${OPSPROOF_DOCKERD_TIMEOUT:-60}

engine_answers() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if command -v docker >/dev/null && engine_answers; then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "docker-engine: no Docker engine answers and not root: cannot install or start one" >&2
  exit 0
fi

if ! command -v dockerd >/dev/null; then
  echo "docker-engine: installing docker.io" >&2
  guard_created=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    # The package would start the system dockerd with its default bridge; ours starts below.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    guard_created=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! timeout 1200 apt-get install -y -qq --no-install-recommends docker.io >/dev/null; then
    timeout 600 apt-get update -qq
    timeout 1200 apt-get install -y -qq --no-install-recommends docker.io >/dev/null \
      || echo "docker-engine: apt-get install docker.io failed" >&2
  fi
  [[ $guard_created == 1 ]] && rm -f /usr/sbin/policy-rc.d
fi

if ! command -v dockerd >/dev/null; then
  echo "docker-engine: dockerd not installed; the docker tests will say why they cannot run" >&2
  exit 0
fi

echo "docker-engine: starting dockerd (no bridge, no iptables), log in $LOG" >&2
setsid dockerd --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
  --userland-proxy=false </dev/null >>"$LOG" 2>&1 &

deadline=$((SECONDS + START_TIMEOUT))
until engine_answers; do
  if ((SECONDS >= deadline)); then
    echo "docker-engine: dockerd did not answer within ${START_TIMEOUT} s; last lines of $LOG:" >&2
    tail -n 20 "$LOG" >&2
    exit 0
  fi
  sleep 0.5
done
echo "docker-engine: dockerd ready" >&2
