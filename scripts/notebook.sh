#!/usr/bin/env bash
# Usage: scripts/notebook.sh BIN   (what `make notebook` runs)
# Starts a simulated board, installs the kernel for it into the project's Python environment
# .venv/ (`install --sys-prefix`, as a user installs it into theirs), and runs JupyterLab 4 from
# .venv/ on loopback over the lessons, printing the one URL to open (with its token).
# Ctrl-C (or SIGTERM) stops the server, its kernels and the board, and removes the kernelspec.
# Environment:
#   NOTEBOOK_UI    lab (default: JupyterLab 4) or notebook (Notebook 7)
#   NOTEBOOK_DIR   folder the server shows (default: the repository's notebooks/)
#   NOTEBOOK_PORT  first port to try (default 8888; the next free one is taken)
#   NOTEBOOK_WORK  the private folder (JUPYTER_* dirs, board flash, logs); default: a temporary
#                  folder removed on exit. One given here is kept.
#   SIM_PROFILE    simulated board: esp32 (default), esp8266 or ideal
#   WEBREPL_PYTHON the environment's python (default: .venv/bin/python, made by scripts/pyenv.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "$1")
notebook_dir=$(realpath "${NOTEBOOK_DIR:-$root/notebooks}")
port=${NOTEBOOK_PORT:-8888}
ui=${NOTEBOOK_UI:-lab}
case "$ui" in
  lab) app=jupyterlab title="JupyterLab" path=lab ;;
  notebook) app=notebook title="Jupyter Notebook" path=tree ;;
  *) echo "make notebook: NOTEBOOK_UI=$ui: want lab (JupyterLab 4) or notebook (Notebook 7)" >&2; exit 2 ;;
esac
python=${WEBREPL_PYTHON:-}
if [ -z "$python" ]; then python=$("$root/scripts/pyenv.sh"); fi
if ! "$python" -c "import $app" 2>/dev/null; then
  echo "make notebook: $python cannot import $app (scripts/pyenv.sh installs tests/requirements.txt)" >&2
  exit 1
fi
# The environment the server runs from: the kernel goes into its share/jupyter/kernels.
prefix=$("$python" -c 'import sys; print(sys.prefix)')
# One server per environment at a time: the kernelspec in it names this run's board.
if ! exec 9>"$prefix/.webrepl-notebook.lock"; then
  echo "make notebook: cannot write into $prefix, where the kernel would be installed" >&2
  exit 1
fi
if ! flock -n 9; then
  echo "make notebook: another one runs from $prefix (its kernelspec names its board); stop it first" >&2
  exit 1
fi
if [ -n "${NOTEBOOK_WORK:-}" ]; then
  work=$NOTEBOOK_WORK keep_work=1
  mkdir -p "$work"
else
  work=$(mktemp -d -t webrepl-notebook-XXXXXX) keep_work=0
fi
work=$(realpath "$work")
SIM_PID="" NB_PID="" installed=0
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
  if [ "$installed" = 1 ]; then
    VIRTUAL_ENV=$prefix "$bin" uninstall --sys-prefix >/dev/null 2>&1 || true
  fi
  if [ "$keep_work" = 0 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'echo; echo "make notebook: stopping"; exit 130' INT
trap 'exit 143' TERM

# Private per-user Jupyter folders: a micropython-webrepl kernelspec in ~/.local/share/jupyter
# (which Jupyter searches before the environment) does not shadow this run's, and the server's
# settings, workspaces and runtime files stay in $work.
export JUPYTER_CONFIG_DIR="$work/config" JUPYTER_DATA_DIR="$work/data"
export JUPYTER_RUNTIME_DIR="$work/runtime" IPYTHONDIR="$work/ipython"
unset JUPYTER_PATH
mkdir -p "$JUPYTER_CONFIG_DIR" "$JUPYTER_DATA_DIR" "$JUPYTER_RUNTIME_DIR" "$work/flash"
# No news feed or update check from jupyter.org (this project's servers talk to loopback only).
settings="$JUPYTER_CONFIG_DIR/lab/user-settings/@jupyterlab/apputils-extension"
mkdir -p "$settings"
echo '{"fetchNews": "false", "checkForUpdates": false}' >"$settings/notification.jupyterlab-settings"

profile=${SIM_PROFILE:-esp32}
password=$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')
# shellcheck source=sim-lib.sh
source "$root/scripts/sim-lib.sh"
start_sim "$bin" "$work" --password "$password" --profile "$profile" --flash "$work/flash" || exit 1
installed=1
spec=$(VIRTUAL_ENV=$prefix "$bin" install --sys-prefix --url "$SIM_URL" --password "$password")

token=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
as_root=()
if [ "$(id -u)" -eq 0 ]; then as_root=(--allow-root); fi # CI and this project's machines are root
# A session of its own, so a Ctrl-C in the terminal reaches only this script (the server would
# otherwise stop to ask "Shutdown this Jupyter server?"); the trap then stops it with SIGTERM.
setsid "$python" -m "$app" --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port="$port" \
  --ServerApp.port_retries=50 --ServerApp.root_dir="$notebook_dir" \
  --IdentityProvider.token="$token" --MappingKernelManager.default_kernel_name=micropython-webrepl \
  "${as_root[@]}" >"$work/server.log" 2>&1 </dev/null &
NB_PID=$!
# jupyter_server writes jpserver-PID.json into its runtime folder once it listens.
info="$JUPYTER_RUNTIME_DIR/jpserver-$NB_PID.json"
for _ in $(seq 1 1200); do
  [ -s "$info" ] && break
  if ! kill -0 "$NB_PID" 2>/dev/null; then
    echo "make notebook: $title exited:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ ! -s "$info" ]; then
  echo "make notebook: $title did not start within 120 s (log: $work/server.log)" >&2
  exit 1
fi
url=$("$python" -c 'import json, sys; i = json.load(open(sys.argv[1])); print("%s%s?token=%s" % (i["url"], sys.argv[2], i["token"]))' "$info" "$path")
version=$("$python" -c "import $app; print($app.__version__)")
cat <<EOF

$title $version with the kernel "MicroPython (WebREPL)" on a simulated $profile board ($SIM_URL).
Open this URL in your browser:

    $url

Lessons: $notebook_dir (what you save there stays). Kernelspec: ${spec##* }
Private Jupyter folder: $work
Ctrl-C stops the server, its kernels and the board.
EOF
wait "$NB_PID" || true
NB_PID=""
echo "make notebook: $title exited (log: $work/server.log)" >&2
exit 1
