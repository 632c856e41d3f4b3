#!/usr/bin/env bash
# Usage: scripts/with-board.sh BIN COMMAND [ARGS...]
# Starts a simulated board (the esp32 profile unless SIM_PROFILE is set), installs the kernelspec
# into a temporary JUPYTER_DATA_DIR pointing at it, runs COMMAND with JUPYTER_DATA_DIR,
# JUPYTER_PATH, WEBREPL_URL and WEBREPL_PASSWORD exported, and stops everything on exit.
# Example (make test-notebooks): scripts/with-board.sh bin/webrepl-kernel .venv/bin/python scripts/run-notebook.py notebooks/*.ipynb
set -euo pipefail
bin=$(realpath "$1"); shift
work=$(mktemp -d)
SIM_PID=""
cleanup() {
  if [ -n "$SIM_PID" ]; then kill -TERM "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
password=demo1234
mkdir -p "$work/flash"
# shellcheck source=sim-lib.sh
source "$(dirname "$0")/sim-lib.sh"
start_sim "$bin" "$work" --password "$password" --profile "${SIM_PROFILE:-esp32}" --flash "$work/flash" || exit 1
url=$SIM_URL
export JUPYTER_DATA_DIR="$work/jupyter" JUPYTER_PATH="$work/jupyter" WEBREPL_URL="$url" WEBREPL_PASSWORD="$password"
"$bin" install --user --url "$url" --password "$password" >/dev/null
echo "with-board: simulated board at $url, kernelspec in $JUPYTER_DATA_DIR" >&2
"$@"
