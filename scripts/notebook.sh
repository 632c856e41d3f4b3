#!/usr/bin/env bash
# Usage: scripts/notebook.sh BIN   (what `make notebook` runs)
# Starts a simulated board, installs the kernel for it into a private Jupyter folder, and runs
# Debian's Jupyter Notebook 6 on loopback over the lessons, printing the URL to open (with its
# token). Ctrl-C (or SIGTERM) stops the notebook server, its kernels and the board.
# Environment:
#   NOTEBOOK_DIR   folder the server shows (default: the repository's notebooks/)
#   NOTEBOOK_PORT  first port to try (default 8888; the next free one is taken)
#   NOTEBOOK_WORK  the private folder (JUPYTER_* dirs, board flash, logs); default: a temporary
#                  folder removed on exit. One given here is kept.
#   SIM_PROFILE    simulated board: esp32 (default), esp8266 or ideal
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "$1")
notebook_dir=$(realpath "${NOTEBOOK_DIR:-$root/notebooks}")
port=${NOTEBOOK_PORT:-8888}
if ! command -v jupyter-notebook >/dev/null 2>&1; then
  echo "make notebook: jupyter-notebook is not installed (scripts/install-deps.sh notebook, as root)" >&2
  exit 1
fi
if [ -n "${NOTEBOOK_WORK:-}" ]; then
  work=$NOTEBOOK_WORK keep_work=1
  mkdir -p "$work"
else
  work=$(mktemp -d -t webrepl-notebook-XXXXXX) keep_work=0
fi
SIM_PID="" NB_PID=""
# stop PID: SIGTERM, then up to 20 s for it to exit, then SIGKILL.
stop() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  timeout 20 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  trap - EXIT INT TERM
  # The server first: it shuts its kernels down, and they log out of the board.
  stop "$NB_PID"
  stop "$SIM_PID"
  if [ "$keep_work" = 0 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'echo; echo "make notebook: stopping"; exit 130' INT
trap 'exit 143' TERM

export JUPYTER_CONFIG_DIR="$work/config" JUPYTER_DATA_DIR="$work/data" JUPYTER_PATH="$work/data"
export JUPYTER_RUNTIME_DIR="$work/runtime" IPYTHONDIR="$work/ipython"
mkdir -p "$JUPYTER_CONFIG_DIR" "$JUPYTER_DATA_DIR" "$JUPYTER_RUNTIME_DIR" "$work/flash"
profile=${SIM_PROFILE:-esp32}
password=$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')
# shellcheck source=sim-lib.sh
source "$root/scripts/sim-lib.sh"
start_sim "$bin" "$work" --password "$password" --profile "$profile" --flash "$work/flash" || exit 1
"$bin" install --user --url "$SIM_URL" --password "$password" >/dev/null

token=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
as_root=()
if [ "$(id -u)" -eq 0 ]; then as_root=(--allow-root); fi # CI and this project's machines are root
# A session of its own, so a Ctrl-C in the terminal reaches only this script (Notebook would
# otherwise stop to ask "Shutdown this notebook server?"); the trap then stops it with SIGTERM.
setsid jupyter-notebook --no-browser --ip=127.0.0.1 --port="$port" --port-retries=50 \
  --notebook-dir="$notebook_dir" --NotebookApp.token="$token" \
  --NotebookApp.open_browser=False "${as_root[@]}" >"$work/notebook.log" 2>&1 </dev/null &
NB_PID=$!
# The server writes nbserver-PID.json into its runtime folder once it listens.
info="$JUPYTER_RUNTIME_DIR/nbserver-$NB_PID.json"
for _ in $(seq 1 1200); do
  [ -s "$info" ] && break
  if ! kill -0 "$NB_PID" 2>/dev/null; then
    echo "make notebook: Jupyter Notebook exited:" >&2
    cat "$work/notebook.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ ! -s "$info" ]; then
  echo "make notebook: Jupyter Notebook did not start within 120 s (log: $work/notebook.log)" >&2
  exit 1
fi
url=$(/usr/bin/python3 -c 'import json, sys; i = json.load(open(sys.argv[1])); print("%stree?token=%s" % (i["url"], i["token"]))' "$info")
cat <<EOF

Jupyter Notebook with the kernel "MicroPython (WebREPL)" on a simulated $profile board ($SIM_URL).
Open this URL in your browser:

    $url

Lessons: $notebook_dir (what you save there stays). Private Jupyter folder: $work
Ctrl-C stops the notebook server, its kernels and the board.
EOF
wait "$NB_PID" || true
NB_PID=""
echo "make notebook: Jupyter Notebook exited (log: $work/notebook.log)" >&2
exit 1
