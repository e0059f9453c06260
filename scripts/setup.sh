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

# The font files fixtures/generator/fonts.py renders with, and the Debian package of each.
FONTS=(
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc fonts-wqy-zenhei"
    "/usr/share/fonts/truetype/arphic/ukai.ttc fonts-arphic-ukai"
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc fonts-noto-cjk"
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc fonts-noto-cjk"
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc fonts-noto-cjk"
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc fonts-noto-cjk"
)
if [[ "${1:-}" == "--test" ]]; then
    missing=()
    for entry in "${FONTS[@]}"; do
        read -r file package <<<"$entry"
        [[ -f "$file" ]] || missing+=("$package")
    done
    if ((${#missing[@]})); then
        packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
        echo "setup: installing the Chinese fonts the document generator renders with, from Debian: $packages" >&2
        SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
        $SUDO apt-get update -qq
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $packages >/dev/null
    fi
fi

"${UV[@]}" sync --frozen --quiet
