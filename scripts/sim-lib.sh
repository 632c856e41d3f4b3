# Sourced by scripts that need a simulated board (bash).
# start_sim BIN DIR [SIM FLAGS...]: starts `BIN sim --addr 127.0.0.1:0 FLAGS` in the background
# (in a session of its own) with its stdout in DIR/sim.out and stderr in DIR/sim.log, waits (up to 60 s: a first run may
# install the npm package) for the ws:// line, and sets SIM_PID and SIM_URL. Returns 1, with
# the simulator's output on stderr, if it exits or never says where it listens.
start_sim() {
	local bin=$1 dir=$2
	shift 2
	# In a session of its own: a Ctrl-C in the terminal reaches the calling script, whose trap
	# stops the board after what runs on it, not the board first.
	local detach=()
	if command -v setsid >/dev/null 2>&1; then detach=(setsid); fi
	"${detach[@]}" "$bin" sim --addr 127.0.0.1:0 "$@" >"$dir/sim.out" 2>"$dir/sim.log" &
	SIM_PID=$!
	SIM_URL=""
	for _ in $(seq 1 600); do
		SIM_URL=$(grep -o 'ws://[^ ]*/' "$dir/sim.out" 2>/dev/null | head -n 1 || true)
		[ -n "$SIM_URL" ] && return 0
		if ! kill -0 "$SIM_PID" 2>/dev/null; then
			echo "the simulator exited:" >&2
			cat "$dir/sim.out" "$dir/sim.log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "the simulator did not start within 60 s" >&2
	return 1
}
