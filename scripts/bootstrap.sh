#!/usr/bin/env bash
# Sets up everything yuexiu-desk needs on a fresh Debian/Ubuntu machine, then either opens the desk app on
# the demo station (`bootstrap.sh demo`) or runs the whole test suite (`bootstrap.sh test`).
# Safe to run again: it installs only what is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mode="${1:-demo}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# --- system libraries (shared/docs/environment.md): Qt even offscreen, zbar for pyzbar, Xvfb, poppler ----
zbar_pkg=libzbar0
if command -v apt-cache >/dev/null 2>&1 && apt-cache show libzbar0t64 >/dev/null 2>&1; then
  zbar_pkg=libzbar0t64   # Debian 13 / Ubuntu 24.04 renamed it
fi
packages=(ca-certificates python3 python3-venv
  libegl1 libgl1 libxkbcommon0 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0
  "$zbar_pkg"
  xvfb xauth libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
  libxcb-image0 libxcb-randr0 libxcb-render-util0 libxcb-xfixes0 libxcb-xkb1 libx11-xcb1
  poppler-utils)
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "Installing system packages: ${missing[*]}"
    sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
else
  say "Not a Debian/Ubuntu system: install the libraries listed in this script by hand."
fi

# --- uv (fast, locked Python environment) ---------------------------------------------------------------
if command -v uv >/dev/null 2>&1; then
  uv=uv
else
  tools="${XDG_CACHE_HOME:-$HOME/.cache}/yuexiu-desk/uv-tool"
  if [ ! -x "$tools/bin/uv" ]; then
    say "Installing uv into $tools"
    python3 -m venv "$tools"
    "$tools/bin/pip" install -q --disable-pip-version-check uv
  fi
  uv="$tools/bin/uv"
fi

say "Preparing the Python environment (.venv)"
"$uv" sync --frozen --compile-bytecode --python python3 -q

case "$mode" in
  demo)
    data="${YUEXIU_DATA_DIR:-$here/.demo-station}"
    if [ ! -f "$data/station.sqlite3" ]; then
      "$uv" run --frozen yuexiu-desk --data-dir "$data" demo
    fi
    say "Opening the desk app on the demo station ($data)"
    exec "$uv" run --frozen yuexiu-desk --data-dir "$data"
    ;;
  test)
    export QT_QPA_PLATFORM=offscreen
    say "ruff"
    "$uv" run --frozen ruff check src tests benchmarks
    "$uv" run --frozen ruff format --check src tests benchmarks
    say "mypy"
    "$uv" run --frozen mypy
    say "pytest"
    "$uv" run --frozen pytest -q
    ;;
  *)
    echo "usage: scripts/bootstrap.sh [demo|test]" >&2
    exit 2
    ;;
esac
