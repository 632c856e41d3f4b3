#!/usr/bin/env bash
# Usage: scripts/hub.sh BIN   (what `make hub` runs; bench/hub.go and tests/browser/hub.test.mjs too)
# A workshop on one machine, for a try: N simulated boards, a board map giving learner01…learnerN
# one board each (password files 0600), the kernel installed into the hub's environment
# (examples/jupyterhub/.venv, `install --sys-prefix`), and JupyterHub 6 on 127.0.0.1 with
# examples/jupyterhub/jupyterhub_config.py. Prints the URL, the learners and the password.
# Ctrl-C (or SIGTERM) stops the hub, the learners' servers and kernels, and the boards, and
# removes the kernelspec.
# Environment:
#   HUB_LEARNERS     how many learners and boards (default 3)
#   HUB_PORT         the hub's port on 127.0.0.1 (default 8000)
#   HUB_PASSWORD     the learners' shared login password, 8 characters or more (default: a random one, printed)
#   HUB_WORK         the hub's folder (database, homes, boards' flash, logs); default: a temporary
#                    folder removed on exit. One given here is kept.
#   HUB_ADMIN_TOKEN  an API token for an admin service (the load test); none by default
#   HUB_READY_FILE   once the hub answers, a JSON file written here says url, learners, password
#   HUB_CULL_AFTER   seconds before the idle culler stops an unused server (default 3600)
#   SIM_PROFILE      simulated board: esp32 (default), esp8266 or ideal
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "$1")
n=${HUB_LEARNERS:-3}
port=${HUB_PORT:-8000}
case "$n" in '' | *[!0-9]* | 0) echo "make hub: HUB_LEARNERS=$n: want a number from 1" >&2; exit 2 ;; esac
python=$("$root/scripts/hubenv.sh")
venv=$(dirname "$(dirname "$python")")
# One hub per environment at a time: its kernelspec is this run's.
if ! exec 9>"$venv/.webrepl-hub.lock"; then
  echo "make hub: cannot write into $venv" >&2; exit 1
fi
if ! flock -n 9; then
  echo "make hub: another hub runs from $venv; stop it first" >&2; exit 1
fi
if [ -n "${HUB_WORK:-}" ]; then
  work=$HUB_WORK keep_work=1
  mkdir -p "$work"
else
  work=$(mktemp -d -t webrepl-hub-XXXXXX) keep_work=0
fi
work=$(realpath "$work")
chmod 700 "$work"
SIM_PIDS=() HUB_PID="" installed=0
stop() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  timeout 30 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  trap - EXIT INT TERM
  # The hub first: with cleanup_servers it stops every learner's server, whose kernels log out.
  stop "$HUB_PID"
  local pid
  for pid in "${SIM_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${SIM_PIDS[@]}"; do stop "$pid"; done
  if [ "$installed" = 1 ]; then
    VIRTUAL_ENV=$venv "$bin" uninstall --sys-prefix >/dev/null 2>&1 || true
  fi
  if [ "$keep_work" = 0 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'echo; echo "make hub: stopping"; exit 130' INT
trap 'exit 143' TERM

mkdir -p "$work/boards" "$work/passwords" "$work/home"
chmod 700 "$work/passwords"
profile=${SIM_PROFILE:-esp32}
learners=()
for i in $(seq 1 "$n"); do learners+=("$(printf 'learner%02d' "$i")"); done

# The boards: one `sim --boards N` process where the simulator has it, else one process a board.
# Each board's password goes into its learner's file, 0600, as the board map requires.
urls=()
detach=()
if command -v setsid >/dev/null 2>&1; then detach=(setsid); fi
wait_urls() { # FILE COUNT PID: waits for COUNT ws:// lines in FILE (up to 5 minutes)
  local file=$1 count=$2 pid=$3
  for _ in $(seq 1 3000); do
    [ "$(grep -c 'ws://' "$file" 2>/dev/null || true)" -ge "$count" ] && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "make hub: a simulator exited:" >&2; cat "$file" "${file%.out}.log" >&2; return 1
    fi
    sleep 0.1
  done
  echo "make hub: the simulated boards did not start within 5 minutes ($file)" >&2
  return 1
}
if [ "$n" -gt 1 ] && "$bin" sim -h 2>&1 | grep -q -- '-boards'; then
  password=$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')
  "${detach[@]}" "$bin" sim --boards "$n" --addr 127.0.0.1:0 --password "$password" --profile "$profile" \
    --flash "$work/boards" >"$work/boards/sim.out" 2>"$work/boards/sim.log" </dev/null &
  SIM_PIDS+=($!)
  wait_urls "$work/boards/sim.out" "$n" "${SIM_PIDS[0]}"
  mapfile -t urls < <(grep -o 'ws://[^ ]*/' "$work/boards/sim.out")
  for i in "${!learners[@]}"; do
    install -m 600 /dev/null "$work/passwords/${learners[$i]}"
    echo "$password" >"$work/passwords/${learners[$i]}"
  done
else
  for i in "${!learners[@]}"; do
    d="$work/boards/${learners[$i]}"
    mkdir -p "$d/flash"
    password=$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')
    install -m 600 /dev/null "$work/passwords/${learners[$i]}"
    echo "$password" >"$work/passwords/${learners[$i]}"
    "${detach[@]}" "$bin" sim --addr 127.0.0.1:0 --password "$password" --profile "$profile" \
      --flash "$d/flash" >"$d/sim.out" 2>"$d/sim.log" </dev/null &
    SIM_PIDS+=($!)
  done
  for i in "${!learners[@]}"; do
    d="$work/boards/${learners[$i]}"
    wait_urls "$d/sim.out" 1 "${SIM_PIDS[$i]}"
    urls+=("$(grep -o 'ws://[^ ]*/' "$d/sim.out" | head -n 1)")
  done
fi

# The board map: one line a learner, pointing at their password file.
map="$work/boards.conf"
{
  echo "# Written by scripts/hub.sh: one simulated $profile board per learner."
  for i in "${!learners[@]}"; do
    echo "${learners[$i]} = ${urls[$i]} password_file=$work/passwords/${learners[$i]}"
  done
} >"$map"
chmod 644 "$map"

# The kernel, system-wide for the hub's environment (no --url: the board map decides).
installed=1
VIRTUAL_ENV=$venv "$bin" install --sys-prefix >/dev/null
# JupyterLab in the learners' servers: no news feed or update check from jupyter.org.
mkdir -p "$venv/share/jupyter/lab/settings"
echo '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' \
  >"$venv/share/jupyter/lab/settings/overrides.json"

hub_password=${HUB_PASSWORD:-$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')}
free_port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export WEBREPL_HUB_WORK=$work WEBREPL_HUB_PORT=$port WEBREPL_HUB_PASSWORD=$hub_password
export WEBREPL_HUB_LEARNERS=$(IFS=,; echo "${learners[*]}")
export WEBREPL_HUB_LESSONS=$root/notebooks WEBREPL_BOARDS=$map
export WEBREPL_HUB_CULL_AFTER=${HUB_CULL_AFTER:-3600}
export WEBREPL_HUB_PROXY=$root/examples/jupyterhub/node_modules/.bin/configurable-http-proxy
export WEBREPL_HUB_PROXY_API_PORT=$(free_port) WEBREPL_HUB_API_PORT=$(free_port)
export WEBREPL_HUB_ADMIN_TOKEN=${HUB_ADMIN_TOKEN:-}
# The proxy is a Node script; the servers find jupyterhub-singleuser and the kernel's Jupyter here.
export PATH="$venv/bin:$PATH"
unset JUPYTER_PATH JUPYTER_CONFIG_DIR JUPYTER_DATA_DIR JUPYTER_RUNTIME_DIR
(cd "$work" && exec "${detach[@]}" "$venv/bin/jupyterhub" -f "$root/examples/jupyterhub/jupyterhub_config.py" \
  >"$work/jupyterhub.log" 2>&1 </dev/null) &
HUB_PID=$!
url="http://127.0.0.1:$port"
for _ in $(seq 1 1200); do
  if "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$url/hub/api/" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$HUB_PID" 2>/dev/null; then
    echo "make hub: JupyterHub exited:" >&2; tail -n 40 "$work/jupyterhub.log" >&2; exit 1
  fi
  sleep 0.1
done
if ! kill -0 "$HUB_PID" 2>/dev/null; then
  echo "make hub: JupyterHub exited:" >&2; tail -n 40 "$work/jupyterhub.log" >&2; exit 1
fi
if [ -n "${HUB_READY_FILE:-}" ]; then
  "$python" -c 'import json, sys; json.dump({"url": sys.argv[1], "password": sys.argv[2], "work": sys.argv[3], "pid": int(sys.argv[4]), "learners": sys.argv[5].split(",")}, open(sys.argv[6] + ".tmp", "w"))' \
    "$url" "$hub_password" "$work" "$HUB_PID" "$WEBREPL_HUB_LEARNERS" "$HUB_READY_FILE"
  mv "$HUB_READY_FILE.tmp" "$HUB_READY_FILE"
fi
version=$("$venv/bin/jupyterhub" --version)
cat <<EOF

JupyterHub $version with the kernel "MicroPython (WebREPL)", $n learners, each on a simulated $profile board.
Open this URL in your browser and log in as ${learners[0]}…${learners[$((n - 1))]} with password $hub_password:

    $url/hub/login

Board map: $map (WEBREPL_BOARDS for every server). Each learner's first visit copies notebooks/*.ipynb to their home.
Hub folder (log: jupyterhub.log): $work
Ctrl-C stops the hub, the learners' servers and kernels, and the boards.
EOF
wait "$HUB_PID" || true
HUB_PID=""
echo "make hub: JupyterHub exited (log: $work/jupyterhub.log)" >&2
exit 1
