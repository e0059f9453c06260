#!/usr/bin/env bash
# Sets up everything this project needs on a fresh machine, idempotently:
#   scripts/setup.sh          the locked Python environment in .venv (uv, from uv.lock)
#   scripts/setup.sh --test   the same, plus the Chinese fonts the document generator renders with and
#                             Debian's chromium, which the browser tests drive through Playwright
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
    # fixtures/heldout/fonts.py (the kept-apart test family prints with other faces)
    "/usr/share/fonts/truetype/arphic/uming.ttc fonts-arphic-uming"
    "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf fonts-arphic-gbsn00lp"
    "/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf fonts-arphic-gkai00mp"
    "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf fonts-lxgw-wenkai"
    "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Bold.ttf fonts-lxgw-wenkai"
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc fonts-wqy-microhei"
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf fonts-droid-fallback"
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Light.ttc fonts-noto-cjk-extra"
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Medium.ttc fonts-noto-cjk-extra"
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Black.ttc fonts-noto-cjk-extra"
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Medium.ttc fonts-noto-cjk-extra"
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Black.ttc fonts-noto-cjk-extra"
)
if [[ "${1:-}" == "--test" ]]; then
    missing=()
    for entry in "${FONTS[@]}"; do
        read -r file package <<<"$entry"
        [[ -f "$file" ]] || missing+=("$package")
    done
    # The reviewer workspace's browser tests: Playwright drives Debian's chromium (no browser download).
    command -v chromium >/dev/null 2>&1 || missing+=("chromium")
    if ((${#missing[@]})); then
        packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
        echo "setup: installing from Debian (the generator's Chinese fonts, the browser tests' chromium): $packages" >&2
        SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
        $SUDO apt-get update -qq
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $packages >/dev/null
    fi
fi

"${UV[@]}" sync --frozen --quiet
