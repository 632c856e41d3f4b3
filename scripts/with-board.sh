#!/usr/bin/env bash
# Usage: scripts/with-board.sh BIN COMMAND [ARGS...]
# Starts a simulated board (ideal link unless SIM_PROFILE is set), installs the kernelspec
# into a temporary JUPYTER_DATA_DIR pointing at it, runs COMMAND with JUPYTER_DATA_DIR,
# JUPYTER_PATH, WEBREPL_URL and WEBREPL_PASSWORD exported, and stops everything on exit.
set -euo pipefail
bin=$(realpath "$1"); shift
work=$(mktemp -d)
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ]; then kill -TERM "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
password=demo1234
"$bin" sim --addr 127.0.0.1:0 --password "$password" --profile "${SIM_PROFILE:-esp32}" \
  --flash "$work/flash" >"$work/sim.log" 2>&1 &
sim_pid=$!
url=""
for _ in $(seq 1 600); do
  url=$(grep -o 'ws://[^ ]*/' "$work/sim.log" | head -n 1 || true)
  [ -n "$url" ] && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.log" >&2; echo "with-board: the simulator did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/sim.log" >&2; echo "with-board: no ws:// line from the simulator" >&2; exit 1; }
mkdir -p "$work/flash"
export JUPYTER_DATA_DIR="$work/jupyter" JUPYTER_PATH="$work/jupyter" WEBREPL_URL="$url" WEBREPL_PASSWORD="$password"
"$bin" install --user --url "$url" --password "$password" >/dev/null
echo "with-board: simulated board at $url, kernelspec in $JUPYTER_DATA_DIR" >&2
"$@"
