#!/usr/bin/env bash
# The Windows build (amd64) under Debian's Wine: the simulator's Go side with a fake board process,
# then the CLI and the kernel against a simulated board (the Linux build) on loopback:
# generated programs exact through exec, 100 KB put/get/ls (the Go test TestWineCLI), the same
# over serial://COM9 to real MicroPython on a pseudo-terminal (TestWineSerial),
# install into the per-user (%APPDATA%\jupyter), a temporary JUPYTER_DATA_DIR and the
# --sys-prefix locations, and cells through jupyter_client (the pinned .venv) on a kernelspec
# that starts the Windows binary under Wine, an interrupt included (test_kernel.py).
#   usage: tests/wine/run.sh bin/webrepl-kernel     (the Linux binary runs the simulator)
# Skipped with one line when wine64 or mingw-w64 is missing. The Wine prefix is made once
# (about 10 s) in bin/wine-prefix and reused.
set -euo pipefail
if [ $# -ne 1 ]; then echo "usage: $0 PATH/TO/webrepl-kernel" >&2; exit 2; fi
BIN=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# Debian's wine64 package puts its loader in /usr/lib/wine (the `wine` package adds /usr/bin/wine).
WINE=$(command -v wine64 || true)
if [ -z "$WINE" ] && [ -x /usr/lib/wine/wine64 ]; then WINE=/usr/lib/wine/wine64; fi
CC=$(command -v x86_64-w64-mingw32-gcc x86_64-w64-mingw32-gcc-win32 x86_64-w64-mingw32-gcc-posix | head -n 1 || true)
if [ -z "$WINE" ] || [ -z "$CC" ]; then
	echo "wine tests skipped (the Windows build under Wine): needs Debian's wine64 and gcc-mingw-w64-x86-64-win32 (scripts/install-deps.sh)"
	exit 0
fi
WINESERVER=$(command -v wineserver || echo "$(dirname "$WINE")/wineserver")
PYTHON=$("$ROOT/scripts/pyenv.sh")
PASSWORD=winetest
WORK=$(mktemp -d "${TMPDIR:-/tmp}/webrepl-wine.XXXXXX")
export WINEPREFIX="$ROOT/bin/wine-prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
SIM_PID=""
cleanup() {
	local status=$?
	if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; fi
	# Ends this prefix's wineserver (and any Windows process of the test left in it).
	"$WINESERVER" -k 2>/dev/null || true
	if [ $status -ne 0 ] && [ -s "$WORK/sim.log" ]; then
		echo "--- simulator log ---" >&2
		tail -n 40 "$WORK/sim.log" >&2
	fi
	rm -rf "$WORK"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$(date +%s)
EXE="$WORK/webrepl-kernel.exe"
(cd "$ROOT" && GOOS=windows GOARCH=amd64 go build -o "$EXE" ./cmd/webrepl-kernel)
"$CC" -shared -O2 -Wl,--kill-at -o "$WORK/bcryptprimitives.dll" "$HERE/processprng.c" -ladvapi32
if [ ! -f "$WINEPREFIX/.webrepl-ready" ]; then
	rm -rf "$WINEPREFIX"
	mkdir -p "$WINEPREFIX"
	"$WINE" wineboot --init >"$WORK/wineboot.log" 2>&1 || { cat "$WORK/wineboot.log" >&2; exit 1; }
	# The server that --init started lingers for a few seconds; `wineserver -p` below would
	# find it running and exit 2 without a word, so wait for it to end first.
	"$WINESERVER" -w
	touch "$WINEPREFIX/.webrepl-ready"
fi
cp "$WORK/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
# One wineserver for the whole test (until cleanup's -k), instead of one started, with the
# prefix's services, for each command and stopped 3 s after it. The services start here, with
# their output nowhere: started by a later command they would inherit its stdout, and whatever
# reads that (a pipe, a Go test's buffer) would wait for them to end.
"$WINESERVER" -p || { echo "wine: wineserver -p failed (a server of this prefix already running?)" >&2; exit 1; }
"$WINE" wineboot >/dev/null 2>&1 </dev/null || { echo "wine: wineboot failed in $WINEPREFIX" >&2; exit 1; }
"$WINE" "$EXE" version | grep -q "windows/amd64" || { echo "the Windows binary does not start under Wine" >&2; exit 1; }
echo "wine: $("$WINE" --version 2>/dev/null || echo wine64), prefix ready after $(( $(date +%s) - started )) s"

# The simulator's Go side on Windows (its job object, pipes, resets, the cache lock, the WebSocket
# server) with the test binary as a fake board process: Wine has no Windows Node.js. The sim
# tests that use t.TempDir are left out: its RemoveAll fails under Wine 8 ("Invalid function").
# One test at a time: once in about ten parallel runs Wine's CreateProcess failed with "Internal
# error" while several tests started their board processes at once.
(cd "$ROOT" && GOOS=windows GOARCH=amd64 go test -c -o "$WORK/sim.test.exe" ./sim)
"$WINE" "$WORK/sim.test.exe" -test.v -test.parallel 1 -test.timeout 5m -test.run \
	'^(TestCacheLockExcludes|TestHandshake|TestPassword|TestSecondClientRejected|TestFraming|TestResetsAndBoardState|TestCloseLeavesNoProcess|TestLinkModel|TestOptionsValidated|TestFault(Silent|HTML|Garbage|NoPrompt|Mute|Floods)|TestUnknownFaultRefused|TestBoardFrameHeader)' \
	</dev/null >"$WORK/sim-wine.log" 2>&1 || { cat "$WORK/sim-wine.log" >&2; echo "sim tests under Wine failed" >&2; exit 1; }
grep -E '^(--- |ok|PASS)' "$WORK/sim-wine.log"
# jupyter.Launch on Windows (what `run` uses): loopback TCP, and the kernel dies with a launcher
# that is killed (its job object). TestLaunch itself is left out: it checks that the connection
# folder is removed, and os.RemoveAll fails under Wine 8.
(cd "$ROOT" && GOOS=windows GOARCH=amd64 go test -c -o "$WORK/jupyter.test.exe" ./jupyter)
"$WINE" "$WORK/jupyter.test.exe" -test.v -test.timeout 5m -test.run \
	'^(TestKernelDiesWithItsLauncher|TestLaunchKernelThatExits|TestKernelDiesDuringExecute)$' \
	</dev/null >"$WORK/jupyter-wine.log" 2>&1 || { cat "$WORK/jupyter-wine.log" >&2; echo "jupyter tests under Wine failed" >&2; exit 1; }
grep -E '^(--- |ok|PASS)' "$WORK/jupyter-wine.log"

# exec, put, get, ls, run (a Go test: it starts its own simulated board, the Linux one); then
# exec, put, get, ls over serial://COM9, the Windows serial port, which the test points at real
# MicroPython on a pseudo-terminal ($WINEPREFIX/dosdevices/com9; TestWineSerial).
(cd "$ROOT" && WEBREPL_WINE="$WINE" WEBREPL_WINE_EXE="$EXE" \
	go test -count=1 -timeout 10m -run '^(TestWineCLI|TestWineSerial)$' -v ./webrepl) | grep -E '^ *(--- |PASS|FAIL|ok|wine_test)'

# install: Jupyter's per-user folder on Windows, then a temporary data folder, then --sys-prefix.
source "$ROOT/scripts/sim-lib.sh"
start_sim "$BIN" "$WORK" --password "$PASSWORD" --reset-after 3s || exit 1
URL=$SIM_URL
"$WINE" "$EXE" install --user --url "$URL" --password "$PASSWORD" >"$WORK/install.out"
appdata=$(ls -d "$WINEPREFIX"/drive_c/users/*/AppData/Roaming/jupyter/kernels/micropython-webrepl)
grep -q '"interrupt_mode": "message"' "$appdata/kernel.json" || { echo "no interrupt_mode message in $appdata/kernel.json" >&2; exit 1; }
grep -q 'AppData\\Roaming\\jupyter\\kernels\\micropython-webrepl' "$WORK/install.out" || { echo "install --user did not name %APPDATA%\\jupyter: $(cat "$WORK/install.out")" >&2; exit 1; }
"$WINE" "$EXE" uninstall >/dev/null
[ ! -e "$appdata" ] || { echo "uninstall left $appdata" >&2; exit 1; }
echo "ok: install --user writes %APPDATA%\\jupyter\\kernels\\micropython-webrepl (and uninstall removes it)"
mkdir -p "$WORK/env"
VIRTUAL_ENV="$WORK/env" "$WINE" "$EXE" install --sys-prefix >/dev/null
[ -f "$WORK/env/share/jupyter/kernels/micropython-webrepl/kernel.json" ] || { echo "install --sys-prefix wrote nothing under sys.prefix\\share\\jupyter\\kernels" >&2; exit 1; }
echo "ok: install --sys-prefix writes sys.prefix\\share\\jupyter\\kernels\\micropython-webrepl"

export JUPYTER_DATA_DIR="$WORK/data" JUPYTER_PATH="$WORK/data" JUPYTER_RUNTIME_DIR="$WORK/runtime"
export JUPYTER_CONFIG_DIR="$WORK/config" JUPYTER_PLATFORM_DIRS=0
mkdir -p "$JUPYTER_RUNTIME_DIR"
"$WINE" "$EXE" install --user --url "$URL" --password "$PASSWORD" >/dev/null
WEBREPL_WINE="$WINE" WEBREPL_TEST_URL="$URL" "$PYTHON" "$HERE/test_kernel.py"
echo "wine tests passed in $(( $(date +%s) - started )) s"
