#!/usr/bin/env bash
# Creates .venv from uv.lock (idempotent). The only thing taken from outside the lock file is uv
# itself, pinned here and installed from PyPI into the user cache.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.8
cache="${AMF1_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/amf1}"
uv_home="$cache/uv-$UV_VERSION"
if [ ! -x "$uv_home/bin/uv" ]; then
  echo "bootstrap: installing uv $UV_VERSION into $uv_home" >&2
  python3 -m pip install --quiet --disable-pip-version-check --target "$uv_home" "uv==$UV_VERSION"
fi
export UV_PYTHON_DOWNLOADS=never
"$uv_home/bin/uv" sync --frozen --quiet
