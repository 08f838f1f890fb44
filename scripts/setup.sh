#!/usr/bin/env bash
# Installs everything opsproof needs on a fresh Debian machine: the system programs the reference
# stack runs (as root; apt), a virtualenv in .venv, and opsproof itself with its dependencies.
# Idempotent and quiet when there is nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(redis-server redis-tools nginx-light postgresql postgresql-client prometheus openssl
  procps iproute2 python3-venv chromium poppler-utils fonts-dejavu-core wrk stress-ng nftables
  prometheus-alertmanager prometheus-redis-exporter prometheus-postgres-exporter
  prometheus-node-exporter
  qemu-system-x86 qemu-utils mmdebstrap openssh-client e2fsprogs)  # the last line: opsproof testhost

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  # Packages like nginx and redis-server start a system service on install, listening on public
  # interfaces; opsproof runs its own instances on loopback, so service starts are refused here.
  guard_created=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    guard_created=1
  fi
  trap '[[ $guard_created == 1 ]] && rm -f /usr/sbin/policy-rc.d' EXIT
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get update -qq
  timeout 1200 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv" >&2
  "$PYTHON" -m venv .venv
fi

# Reinstall only when the package declaration (dependencies, packages) changed since the last
# install.
stamp=.venv/.opsproof-installed
wanted=$(cat pyproject.toml setup.py | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$wanted" ]]; then
  echo "setup: installing opsproof and its dependencies into .venv" >&2
  timeout 900 .venv/bin/python -m pip install -q --upgrade pip
  timeout 1800 .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$wanted" >"$stamp"
fi
# opsproof is installed editable, so its bytecode is never compiled at install; where
# PYTHONDONTWRITEBYTECODE is set, every process (each Locust worker, each CLI call) would
# compile it again. Compile it now; Python recompiles in memory whatever changed since.
timeout 120 .venv/bin/python -m compileall -q -j 0 opsproof >/dev/null
bash scripts/docker-engine.sh  # a Docker engine for the docker runtime: no bridge, no iptables rules
