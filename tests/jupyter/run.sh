#!/usr/bin/env bash
# Runs real Jupyter clients, pinned in tests/requirements.txt (jupyter_kernel_test
# 0.7.0, jupyter_client 8, jupyter console 6.6), against the kernel installed into
# a temporary Jupyter data dir and a simulated board; with --realmp DIR, the
# jupyter_kernel_test subclass and the output tests only, against real
# MicroPython (DIR/start.sh, ../shared/realmp).
# The Python is $WEBREPL_PYTHON (the Makefile sets it), else .venv/'s, made by
# scripts/pyenv.sh when missing or out of date.
#   usage: tests/jupyter/run.sh bin/webrepl-kernel [--realmp DIR]
set -euo pipefail

REALMP=""
if [ $# -eq 3 ] && [ "$2" = "--realmp" ]; then
	REALMP=$(realpath "$3")
elif [ $# -ne 1 ]; then
	echo "usage: $0 PATH/TO/webrepl-kernel [--realmp DIR]" >&2
	exit 2
fi
BIN=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${WEBREPL_PYTHON:-}
if [ -z "$PYTHON" ]; then
	PYTHON=$("$HERE/../../scripts/pyenv.sh")
fi
[ -x "$PYTHON" ] || { echo "$0: no Python at $PYTHON (WEBREPL_PYTHON; scripts/pyenv.sh makes .venv/)" >&2; exit 1; }
PASSWORD=jktest

WORK=$(mktemp -d "${TMPDIR:-/tmp}/webrepl-jupyter.XXXXXX")
SIM_PID=""

cleanup() {
	local status=$?
	# Kernels jupyter_client left behind (a failed test): they are the only
	# processes whose command line holds our private runtime dir.
	local pids
	pids=$(pgrep -f -- "$WORK/runtime/" || true)
	for pid in $pids; do kill "$pid" 2>/dev/null || true; done
	if [ -n "$SIM_PID" ]; then
		kill "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
	fi
	if [ $status -ne 0 ] && [ -s "$WORK/sim.log" ]; then
		echo "--- simulator log ---" >&2
		tail -n 40 "$WORK/sim.log" >&2
	fi
	rm -rf "$WORK"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "$REALMP" ]; then
	# Real MicroPython on a free port (start.sh takes a port number, not 0).
	PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir "$WORK/flash"
	"$REALMP/start.sh" "$PORT" "$PASSWORD" "$WORK/flash" >"$WORK/sim.log" 2>&1 &
	SIM_PID=$!
	for _ in $(seq 1 600); do
		grep -q "realboard listening" "$WORK/sim.log" 2>/dev/null && break
		kill -0 "$SIM_PID" 2>/dev/null || { echo "realmp exited:" >&2; cat "$WORK/sim.log" >&2; exit 1; }
		sleep 0.1
	done
	grep -q "realboard listening" "$WORK/sim.log" || { echo "realmp did not start within 60 s" >&2; exit 1; }
	URL="ws://127.0.0.1:$PORT/"
	export WEBREPL_TEST_BOARD=realmp
	echo "real MicroPython (unix port) at $URL"
else
	# The simulated board, on a free port; -v logs its connections and resets, whose last
	# lines are shown when a test fails (a board that lost its RAM says why).
	# shellcheck source=../../scripts/sim-lib.sh
	source "$HERE/../../scripts/sim-lib.sh"
	start_sim "$BIN" "$WORK" --password "$PASSWORD" --reset-after 3s -v || exit 1
	URL=$SIM_URL
	export WEBREPL_TEST_BOARD=sim
	echo "simulated board at $URL"
fi

export JUPYTER_DATA_DIR="$WORK/data"
# Searched first: in a virtual environment jupyter_core 5 looks in the environment's
# share/jupyter before JUPYTER_DATA_DIR, where a micropython-webrepl from `make notebook` may be.
export JUPYTER_PATH="$WORK/data"
export JUPYTER_RUNTIME_DIR="$WORK/runtime"
export JUPYTER_CONFIG_DIR="$WORK/config"
export JUPYTER_PLATFORM_DIRS=0
export PYDEVD_DISABLE_FILE_VALIDATION=1
export WEBREPL_TEST_URL="$URL"
export WEBREPL_TEST_PASSWORD="$PASSWORD"
mkdir -p "$JUPYTER_RUNTIME_DIR"

"$BIN" install --user --url "$URL" --password "$PASSWORD"
SPECS=$("$PYTHON" -m jupyter_client.kernelspecapp list)
grep -q "micropython-webrepl  *$JUPYTER_DATA_DIR/kernels/micropython-webrepl" <<<"$SPECS" || {
	echo "jupyter kernelspec list does not show micropython-webrepl:" >&2
	echo "$SPECS" >&2
	exit 1
}

cd "$HERE"
if [ -n "$REALMP" ]; then
	"$PYTHON" -m unittest -v test_kernel.py
	# Its unix port cannot be interrupted over WebREPL (its README): no flood test there.
	WEBREPL_TEST_NO_INTERRUPT=1 "$PYTHON" -m unittest -v test_output.py
	"$BIN" uninstall
	echo "jupyter tests against real MicroPython passed"
	exit 0
fi

# The same board (an ESP32 profile) through a kernel installed with --full-window.
"$BIN" install --user --name micropython-webrepl-full-window --url "$URL" --password "$PASSWORD" --full-window

"$PYTHON" -m unittest -v test_kernel.py
"$PYTHON" test_console.py
# Output exactly as printed, markers that cannot be forged, tracebacks that name cells.
"$PYTHON" -m unittest -v test_output.py
"$PYTHON" test_client.py
# The file magics, on the simulator and on ../shared/realmp (skipped with one line when absent).
"$PYTHON" test_files.py
# Hand-over between our processes, with a private runtime folder.
mkdir -m 700 "$WORK/xdg"
XDG_RUNTIME_DIR="$WORK/xdg" WEBREPL_BIN="$BIN" "$PYTHON" test_handover.py
# Connecting, board notices, reconnecting lines and password secrecy, on boards the test
# starts, stops and replaces itself: a kernel with no board until %connect.
"$BIN" install --user --name micropython-webrepl-noboard
WEBREPL_BIN="$BIN" "$PYTHON" test_connect.py
"$BIN" uninstall
"$BIN" uninstall --name micropython-webrepl-full-window
"$BIN" uninstall --name micropython-webrepl-noboard
echo "jupyter tests passed"
