#!/usr/bin/env bash
# Sets up everything this project needs on a fresh machine, idempotently:
#   scripts/setup.sh          the locked Python environment in .venv (uv, from uv.lock)
#   scripts/setup.sh --test   the same, plus the Chinese fonts the document generator renders with
set -euo pipefail
cd "$(dirname "$0")/.."

UV=(uv)
if ! command -v uv >/dev/null 2>&1; then
    if ! python3 -m uv --version >/dev/null 2>&1; then
        echo "setup: installing uv (the Python package manager that reads uv.lock)" >&2
        python3 -m pip install --quiet --disable-pip-version-check uv
    fi
    UV=(python3 -m uv)
fi

if [[ "${1:-}" == "--test" ]] && ! fc-list :lang=zh 2>/dev/null | grep -qi -e wqy -e "AR PL"; then
    echo "setup: installing Chinese fonts from Debian (fonts-wqy-zenhei, fonts-arphic-ukai)" >&2
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq fonts-wqy-zenhei fonts-arphic-ukai >/dev/null
fi

"${UV[@]}" sync --frozen --quiet
