package kernel

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"webrepl-kernel/jupyter"
	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
)

// These tests drive the kernel over real ZMQ sockets with a Go client, the
// way jupyter_client does, against a simulated board (real MicroPython).

// runningKernel is a kernel served in-process on ipc sockets.
type runningKernel struct {
	k      *Kernel
	info   jupyter.ConnectionInfo
	cancel context.CancelFunc
	served chan error
	once   sync.Once
}

func startKernel(t testing.TB, cfg Config) *runningKernel {
	t.Helper()
	if cfg.Logf == nil {
		cfg.Logf = t.Logf
	}
	rk := &runningKernel{k: New(cfg), info: newConnectionInfo(t), served: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	rk.cancel = cancel
	go func() { rk.served <- jupyter.Serve(ctx, rk.info, rk.k, cfg.Logf) }()
	t.Cleanup(func() { rk.stop(t) })
	return rk
}

// stop ends Serve and closes the kernel as the kernel subcommand does.
func (rk *runningKernel) stop(t testing.TB) {
	rk.once.Do(func() {
		rk.cancel()
		select {
		case err := <-rk.served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(waitLong):
			t.Errorf("Serve did not return within %v", waitLong)
		}
		rk.k.Close()
	})
}

// startBoard boots a simulated board for one test.
func startBoard(t testing.TB) *sim.Board {
	t.Helper()
	return simtest.Start(t, sim.Options{Password: "secret", DrainPeriod: 10 * time.Millisecond, ResetAfter: 20 * time.Second})
}

func TestRequestsAnsweredWithoutABoard(t *testing.T) {
	t.Parallel()
	rk := startKernel(t, Config{})
	c := newTestClient(t, rk.info)
	c.waitReady()

	reply, id := c.request("kernel_info_request", map[string]any{})
	if reply.Type() != "kernel_info_reply" || reply.str("status") != "ok" || reply.str("protocol_version") != "5.3" {
		t.Errorf("kernel_info_reply = %v", reply.Content)
	}
	lang, _ := reply.Content["language_info"].(map[string]any)
	if lang["name"] != "python" || lang["file_extension"] != ".py" {
		t.Errorf("language_info = %v", lang)
	}
	if out := c.outputs(id); len(out) != 0 {
		t.Errorf("kernel_info published %v", types(out))
	}

	reply, _ = c.request("is_complete_request", map[string]any{"code": "for i in range(3):"})
	if reply.str("status") != "incomplete" || reply.str("indent") != "    " {
		t.Errorf("is_complete_reply = %v", reply.Content)
	}
	reply, _ = c.request("is_complete_request", map[string]any{"code": "x = (1]"})
	if reply.str("status") != "invalid" {
		t.Errorf("is_complete_reply for a bracket mismatch = %v", reply.Content)
	}

	reply, _ = c.request("complete_request", map[string]any{"code": "%dis", "cursor_pos": 4})
	matches, _ := reply.Content["matches"].([]any)
	if reply.str("status") != "ok" || len(matches) != 1 || matches[0] != "%disconnect" || reply.Content["cursor_start"] != float64(0) {
		t.Errorf("complete_reply = %v", reply.Content)
	}
	reply, _ = c.request("complete_request", map[string]any{"code": "pri", "cursor_pos": 3})
	if matches, ok := reply.Content["matches"].([]any); !ok || len(matches) != 0 || reply.Content["cursor_end"] != float64(3) {
		t.Errorf("complete_reply for code = %v", reply.Content)
	}

	reply, _ = c.request("inspect_request", map[string]any{"code": "print", "cursor_pos": 5, "detail_level": 0})
	if reply.str("status") != "ok" || reply.Content["found"] != false {
		t.Errorf("inspect_reply = %v", reply.Content)
	}
	reply, _ = c.request("comm_info_request", map[string]any{})
	if comms, ok := reply.Content["comms"].(map[string]any); !ok || len(comms) != 0 {
		t.Errorf("comm_info_reply = %v", reply.Content)
	}

	id = c.send(c.shell, "comm_open", map[string]any{"comm_id": "c1", "target_name": "nothing", "data": map[string]any{}})
	closed := c.waitFor(id, func(m msg) bool { return m.Type() == "comm_close" })
	if closed.str("comm_id") != "c1" {
		t.Errorf("comm_close = %v", closed.Content)
	}

	// An unknown request gets no reply; a badly signed one is dropped; the
	// kernel keeps answering.
	c.send(c.shell, "frobnicate_request", map[string]any{})
	// (Any reply other than the history_reply below fails c.reply.)
	frames, _ := c.encode("is_complete_request", map[string]any{"code": "1"})
	frames[1] = []byte(strings.Repeat("0", 64))
	if err := c.shell.Send(zmqMsg(frames)); err != nil {
		t.Fatal(err)
	}
	reply, _ = c.request("history_request", map[string]any{"hist_access_type": "tail", "n": 5, "output": false, "raw": true})
	if h, ok := reply.Content["history"].([]any); reply.str("status") != "ok" || !ok || len(h) != 0 {
		t.Errorf("history_reply = %v", reply.Content)
	}

	// Without a board a cell fails with one readable line.
	reply, out := c.execute("print(1)", nil)
	if reply.str("status") != "error" || reply.str("ename") != "ConnectionError" || !strings.Contains(reply.str("evalue"), "%connect") {
		t.Errorf("execute without a board: %v", reply.Content)
	}
	if got := types(out); len(got) != 2 || got[0] != "execute_input" || got[1] != "error" {
		t.Errorf("outputs = %v, want execute_input, error", got)
	}
	// Cells without code do not need the board.
	reply, out = c.execute("%lsmagic", nil)
	if reply.str("status") != "ok" || !strings.Contains(streamText(out), "%connect URL") {
		t.Errorf("%%lsmagic: %v %q", reply.Content, streamText(out))
	}
	reply, _ = c.execute("%frob", nil)
	if reply.str("ename") != "UsageError" {
		t.Errorf("unknown magic: %v", reply.Content)
	}
}

func TestCellsRunOnTheBoard(t *testing.T) {
	t.Parallel()
	board := startBoard(t)
	rk := startKernel(t, Config{URL: board.URL(), Password: board.Password()})
	c := newTestClient(t, rk.info)
	c.waitReady()

	reply, out := c.execute("print('hello, world')", nil)
	if reply.str("status") != "ok" || reply.Content["execution_count"] != float64(1) {
		t.Fatalf("first cell: %v", reply.Content)
	}
	text := streamText(out)
	// Connecting is silent: the first cell shows exactly what it printed.
	if got := types(out); text != "hello, world\n" || len(got) != 2 || got[1] != "stream" {
		t.Errorf("first cell printed %q (%v), want only its own line", text, got)
	}

	// An exception: exactly one error message, the cell's line numbers.
	reply, out = c.execute("a = 1\n\ndef f():\n    return a / 0\nf()", nil)
	if reply.str("status") != "error" || reply.str("ename") != "ZeroDivisionError" || reply.str("evalue") != "divide by zero" {
		t.Errorf("error reply: %v", reply.Content)
	}
	if got := types(out); len(got) != 2 || got[1] != "error" {
		t.Fatalf("error cell outputs = %v", got)
	}
	tb := out[1].Content["traceback"].([]any)
	var lines []string
	for _, l := range tb {
		lines = append(lines, l.(string))
	}
	joined := strings.Join(lines, "\n")
	if !strings.Contains(joined, "  Cell In[2], line 5\n    f()\n") || !strings.Contains(joined, "  Cell In[2], line 4, in f\n    return a / 0\n") ||
		strings.Count(joined, "Cell In[") != 2 || strings.Contains(joined, `File "`) {
		t.Errorf("traceback:\n%s", joined)
	}

	// Out[n] from the last expression, the cell's state kept on the board.
	reply, out = c.execute("xs = [1, 2]\nxs + [3]", nil)
	count := reply.Content["execution_count"]
	var result msg
	for _, m := range out {
		if m.Type() == "execute_result" {
			result = m
		}
	}
	data, _ := result.Content["data"].(map[string]any)
	if data["text/plain"] != "[1, 2, 3]" || result.Content["execution_count"] != count {
		t.Errorf("execute_result = %v (count %v)", result.Content, count)
	}
	reply, out = c.execute("print(xs)\nNone", nil)
	if streamText(out) != "[1, 2]\n" || len(out) != 2 {
		t.Errorf("state between cells / None result: %q %v", streamText(out), types(out))
	}

	// Completion from the live board (and keywords from the host).
	for _, sample := range []struct {
		code string
		want []string
	}{
		{"xs.app", []string{"xs.append"}},
		{"y = x", []string{"xs"}},
		{"pri", []string{"print"}},
		{"whi", []string{"while"}},
	} {
		reply, _ := c.request("complete_request", map[string]any{"code": sample.code, "cursor_pos": len(sample.code)})
		var got []string
		for _, m := range reply.Content["matches"].([]any) {
			got = append(got, m.(string))
		}
		if strings.Join(got, ",") != strings.Join(sample.want, ",") {
			t.Errorf("complete %q = %q, want %q", sample.code, got, sample.want)
		}
	}

	// silent: no output at all, count unchanged; store_history=false: count unchanged.
	before := reply.Content["execution_count"].(float64)
	reply, out = c.execute("print('quiet')\n42", map[string]any{"silent": true})
	if reply.str("status") != "ok" || len(out) != 0 || reply.Content["execution_count"] != before {
		t.Errorf("silent: %v %v", reply.Content, types(out))
	}
	reply, out = c.execute("print('unstored')", map[string]any{"store_history": false})
	if reply.Content["execution_count"] != before || streamText(out) != "unstored\n" {
		t.Errorf("store_history=false: %v %q", reply.Content, streamText(out))
	}

	// stop_on_error: a request queued behind a failing cell is aborted.
	failing := c.send(c.shell, "execute_request", map[string]any{"code": "import time\ntime.sleep(0.3)\n1/0", "silent": false,
		"store_history": true, "user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true})
	queued := c.send(c.shell, "execute_request", map[string]any{"code": "print('queued')", "silent": false,
		"store_history": true, "user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true})
	if r := c.reply(c.shell, failing); r.str("status") != "error" {
		t.Errorf("failing cell: %v", r.Content)
	}
	if r := c.reply(c.shell, queued); r.str("status") != "aborted" {
		t.Errorf("queued cell after a failure: %v, want aborted", r.Content)
	}
	if out := c.outputs(queued); streamText(out) != "" {
		t.Errorf("aborted cell printed %q", streamText(out))
	}
	reply, out = c.execute("print('after')", nil)
	if reply.str("status") != "ok" || streamText(out) != "after\n" {
		t.Errorf("cell after abort: %v %q", reply.Content, streamText(out))
	}

	reply, _ = c.request("history_request", map[string]any{"hist_access_type": "search", "pattern": "print(*", "output": false, "raw": true, "unique": true})
	hist, _ := reply.Content["history"].([]any)
	var inputs []string
	for _, h := range hist {
		inputs = append(inputs, h.([]any)[2].(string))
	}
	if strings.Join(inputs, "|") != "print('hello, world')|print(xs)\nNone|print('after')" {
		t.Errorf("history search = %q", inputs)
	}
}

func TestInterruptStopsARunningCell(t *testing.T) {
	t.Parallel()
	board := startBoard(t)
	rk := startKernel(t, Config{URL: board.URL(), Password: board.Password()})
	c := newTestClient(t, rk.info)
	c.waitReady()

	id := c.send(c.shell, "execute_request", map[string]any{"code": "import time\nprint('started')\nwhile True: time.sleep(0.1)",
		"silent": false, "store_history": true, "user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true})
	// The output shows while the loop runs.
	c.waitFor(id, func(m msg) bool { return m.Type() == "stream" && strings.Contains(m.str("text"), "started") })
	ir := c.send(c.control, "interrupt_request", map[string]any{})
	if r := c.reply(c.control, ir); r.Type() != "interrupt_reply" || r.str("status") != "ok" {
		t.Errorf("interrupt_reply = %v", r.Content)
	}
	reply := c.reply(c.shell, id)
	if reply.str("status") != "error" || reply.str("ename") != "KeyboardInterrupt" {
		t.Errorf("interrupted cell: %v", reply.Content)
	}
	var errs int
	for _, m := range c.outputs(id) {
		if m.Type() == "error" {
			errs++
		}
		if m.Type() == "stream" && m.str("name") == "stderr" {
			t.Errorf("stray stderr: %q", m.str("text"))
		}
	}
	if errs != 1 {
		t.Errorf("%d error messages, want 1", errs)
	}
	reply, out := c.execute("print('alive')", nil)
	if reply.str("status") != "ok" || streamText(out) != "alive\n" {
		t.Errorf("cell after interrupt: %v %q", reply.Content, streamText(out))
	}
}

func TestPasswordAskedThroughStdin(t *testing.T) {
	t.Parallel()
	board := startBoard(t)
	rk := startKernel(t, Config{URL: board.URL()})
	c := newTestClient(t, rk.info)
	c.waitReady()

	reply, _ := c.execute("print(1)", map[string]any{"allow_stdin": false})
	if reply.str("status") != "error" || !strings.Contains(reply.str("evalue"), "--password") {
		t.Errorf("no stdin, no password: %v", reply.Content)
	}

	// SIGINT while the kernel waits for the password: the cell stops.
	id := c.send(c.shell, "execute_request", map[string]any{"code": "print(2)", "silent": false, "store_history": true,
		"user_expressions": map[string]any{}, "allow_stdin": true, "stop_on_error": true})
	ask := c.recv(c.stdin)
	if ask.Type() != "input_request" || ask.Content["password"] != true || !strings.Contains(ask.str("prompt"), board.URL()) {
		t.Fatalf("input_request = %v", ask.Content)
	}
	rk.k.Interrupt()
	if r := c.reply(c.shell, id); r.str("ename") != "KeyboardInterrupt" {
		t.Errorf("interrupted password prompt: %v", r.Content)
	}

	id = c.send(c.shell, "execute_request", map[string]any{"code": "print(3)", "silent": false, "store_history": true,
		"user_expressions": map[string]any{}, "allow_stdin": true, "stop_on_error": true})
	ask = c.recv(c.stdin)
	if ask.Type() != "input_request" {
		t.Fatalf("got %s, want input_request", ask.Type())
	}
	c.sendWithParent(c.stdin, "input_reply", map[string]any{"value": board.Password()}, ask.Header)
	reply = c.reply(c.shell, id)
	out := c.outputs(id)
	if reply.str("status") != "ok" || streamText(out) != "3\n" {
		t.Errorf("after typing the password: %v %q", reply.Content, streamText(out))
	}
}

// A cell sent once the client has seen the previous cell's error reply is
// not "queued behind" that failure and must run, however soon it follows:
// the abort cut-off is taken before the reply leaves (it once was taken
// after it, and a loaded machine aborted the next cell now and then).
func TestCellSentAfterAnErrorReplyRuns(t *testing.T) {
	t.Parallel()
	rk := startKernel(t, Config{}) // no board: every cell fails at once
	c := newTestClient(t, rk.info)
	c.waitReady()
	for i := range 50 {
		reply, _ := c.request("execute_request", map[string]any{"code": "print(1)", "silent": false, "store_history": true,
			"user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true})
		if got := reply.str("status"); got != "error" {
			t.Fatalf("cell %d: status %q, want error (it was sent after the previous error reply): %v", i, got, reply.Content)
		}
	}
}

func TestConnectMagicAndUnreachableBoard(t *testing.T) {
	t.Parallel()
	board := startBoard(t)
	rk := startKernel(t, Config{})
	c := newTestClient(t, rk.info)
	c.waitReady()

	reply, out := c.execute("%connect ws://127.0.0.1:1/ --password x\nprint(1)", nil)
	if reply.str("status") != "error" || reply.str("ename") != "ConnectionError" || strings.Contains(reply.str("evalue"), "\n") {
		t.Errorf("unreachable board: %v", reply.Content)
	}
	if streamText(out) != "" {
		t.Errorf("failed connect printed %q", streamText(out))
	}
	reply, out = c.execute("%connect "+board.URL()+" --password "+board.Password()+"\nprint(7 * 6)", nil)
	if reply.str("status") != "ok" || streamText(out) != "42\n" {
		t.Errorf("%%connect: %v %q", reply.Content, streamText(out))
	}
	reply, out = c.execute("%disconnect", nil)
	if reply.str("status") != "ok" || !strings.Contains(streamText(out), "Disconnected from "+board.URL()) {
		t.Errorf("%%disconnect: %v %q", reply.Content, streamText(out))
	}
	reply, out = c.execute("print('back')", nil)
	if reply.str("status") != "ok" || streamText(out) != "back\n" {
		t.Errorf("reconnect after %%disconnect: %v %q", reply.Content, streamText(out))
	}
}

func TestShutdownAndRestartFreeTheBoard(t *testing.T) {
	t.Parallel()
	board := startBoard(t)
	for round, restart := range []bool{true, false} {
		rk := startKernel(t, Config{URL: board.URL(), Password: board.Password()})
		c := newTestClient(t, rk.info)
		c.waitReady()
		reply, out := c.execute("print('round', "+map[bool]string{true: "1", false: "2"}[restart]+")", nil)
		if reply.str("status") != "ok" || !strings.Contains(streamText(out), "round") {
			t.Fatalf("round %d: the board did not accept the kernel: %v %q", round, reply.Content, streamText(out))
		}
		id := c.send(c.control, "shutdown_request", map[string]any{"restart": restart})
		r := c.reply(c.control, id)
		if r.Type() != "shutdown_reply" || r.str("status") != "ok" || r.Content["restart"] != restart {
			t.Errorf("shutdown_reply = %v", r.Content)
		}
		select {
		case <-rk.k.Done():
		case <-time.After(waitLong):
			t.Fatal("kernel did not signal Done after shutdown_request")
		}
		rk.stop(t)
		c.close()
	}
	soft, hard := board.Resets()
	if soft != 0 || hard != 0 {
		t.Errorf("the board was reset (%d soft, %d hard) — the kernels should just log out", soft, hard)
	}
}

func TestBoardResetThenNextCellReconnects(t *testing.T) {
	t.Parallel()
	board := startBoard(t)
	rk := startKernel(t, Config{URL: board.URL(), Password: board.Password()})
	c := newTestClient(t, rk.info)
	c.waitReady()

	if reply, _ := c.execute("kept = 1", nil); reply.str("status") != "ok" {
		t.Fatalf("first cell: %v", reply.Content)
	}
	reply, out := c.execute("import machine\nmachine.reset()", nil)
	if reply.str("status") != "error" || reply.str("ename") != "ConnectionResetError" ||
		!strings.Contains(reply.str("evalue"), "RAM state") || !strings.Contains(reply.str("evalue"), "reconnected") {
		t.Errorf("reset cell: %v", reply.Content)
	}
	// While the board reboots the cell says what it waits for, one line per
	// attempt, and ends with one error.
	if got := types(out); got[len(got)-1] != "error" || strings.Count(strings.Join(got, " "), "error") != 1 {
		t.Errorf("reset cell outputs = %v", got)
	}
	for _, line := range strings.SplitAfter(streamsOf(out, "stderr"), "\n") {
		if line != "" && !regexp.MustCompile(`^reconnecting to `+regexp.QuoteMeta(board.URL())+` \(attempt \d+\)\n$`).MatchString(line) {
			t.Errorf("reset cell: stderr line %q", line)
		}
	}
	if got := streamText(out); got != "" {
		t.Errorf("reset cell stdout %q", got)
	}
	// The kernel's helper went with the board's RAM; the cell still gets its Out.
	reply, out = c.execute("print('kept' in globals())", nil)
	if reply.str("status") != "ok" || streamText(out) != "False\n" {
		t.Errorf("cell after the reset: %v %q", reply.Content, streamText(out))
	}
	if _, hard := board.Resets(); hard != 1 {
		t.Errorf("board saw %d hard resets, want 1", hard)
	}

	for _, magic := range []string{"%softreset", "%hardreset"} {
		if reply, _ := c.execute("kept = 2", nil); reply.str("status") != "ok" {
			t.Fatalf("cell before %s: %v", magic, reply.Content)
		}
		reply, out = c.execute(magic+"\nprint('kept' in globals())", nil)
		if reply.str("status") != "ok" || !strings.HasSuffix(streamText(out), "files stay.\nFalse\n") {
			t.Errorf("%s: %v %q", magic, reply.Content, streamText(out))
		}
	}
	if soft, hard := board.Resets(); soft != 1 || hard != 2 {
		t.Errorf("board saw %d soft and %d hard resets, want 1 and 2", soft, hard)
	}
}

func TestSysExitReportsTheSoftReset(t *testing.T) {
	t.Parallel()
	board := startBoard(t)
	rk := startKernel(t, Config{URL: board.URL(), Password: board.Password()})
	c := newTestClient(t, rk.info)
	c.waitReady()
	reply, _ := c.execute("import sys\nsys.exit()", nil)
	if reply.str("ename") != "SystemExit" {
		t.Errorf("sys.exit(): %v", reply.Content)
	}
	reply, out := c.execute("globals().clear()\n6 * 7", nil)
	var results []string
	for _, m := range out {
		if m.Type() == "execute_result" {
			results = append(results, m.Content["data"].(map[string]any)["text/plain"].(string))
		}
	}
	if reply.str("status") != "ok" || len(results) != 1 || results[0] != "42" {
		t.Errorf("cell after sys.exit: %v %v", reply.Content, types(out))
	}
	reply, out = c.execute("7 * 6", nil)
	if reply.str("status") != "ok" || len(out) != 2 || out[1].Type() != "execute_result" {
		t.Errorf("cell after globals().clear(): %v %v", reply.Content, types(out))
	}
}

func TestInterruptOfUninterruptibleLoopExplainsRecovery(t *testing.T) {
	t.Parallel()
	// A program that swallows KeyboardInterrupt never stops, like an ESP32
	// loop that never looks at its socket; the simulated board's "user"
	// presses reset only much later.
	board := simtest.Start(t, sim.Options{Password: "secret", DrainPeriod: 10 * time.Millisecond, ResetAfter: time.Minute})
	rk := startKernel(t, Config{URL: board.URL(), Password: board.Password(), InterruptGrace: time.Second})
	c := newTestClient(t, rk.info)
	c.waitReady()

	id := c.send(c.shell, "execute_request", map[string]any{"code": "import time\nprint('spin')\nwhile True:\n    try:\n        time.sleep(0.05)\n    except KeyboardInterrupt:\n        pass",
		"silent": false, "store_history": true, "user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true})
	c.waitFor(id, func(m msg) bool { return m.Type() == "stream" && strings.Contains(m.str("text"), "spin") })
	interrupted := time.Now()
	c.reply(c.control, c.send(c.control, "interrupt_request", map[string]any{}))
	reply := c.reply(c.shell, id)
	took := time.Since(interrupted)
	if reply.str("ename") != "KeyboardInterrupt" || !strings.Contains(reply.str("evalue"), "cannot be interrupted") ||
		!strings.Contains(reply.str("evalue"), "reset button") || !strings.Contains(reply.str("evalue"), "within 1s of Ctrl-C") {
		t.Errorf("reply = %v", reply.Content)
	}
	// The message's time is the time it took: one budget (the grace), not
	// the grace and then webrepl's own wait (which added 5 s). A generous
	// bound for a loaded machine.
	if took < time.Second || took > 4*time.Second {
		t.Errorf("the cell ended %v after the interrupt; the message says 1s", took)
	}
	out := c.outputs(id)
	if got := types(out); got[len(got)-1] != "error" || strings.Count(strings.Join(got, " "), "error") != 1 || streamText(out) != "spin\n" {
		t.Errorf("outputs = %v (%q), want the output then one error", got, streamText(out))
	}
}

func TestInputReadsALineFromTheFrontend(t *testing.T) {
	t.Parallel()
	board := startBoard(t)
	rk := startKernel(t, Config{URL: board.URL(), Password: board.Password()})
	c := newTestClient(t, rk.info)
	c.waitReady()
	if reply, _ := c.execute("pass", nil); reply.str("status") != "ok" {
		t.Fatalf("connect: %v", reply.Content)
	}

	id := c.send(c.shell, "execute_request", map[string]any{"code": "print('asking')\nname = input('name? ')\nprint('hi', name)\nname",
		"silent": false, "store_history": true, "user_expressions": map[string]any{}, "allow_stdin": true, "stop_on_error": true})
	ask := c.recv(c.stdin)
	if ask.Type() != "input_request" || ask.str("prompt") != "name? " || ask.Content["password"] != false {
		t.Fatalf("input_request = %v", ask.Content)
	}
	c.sendWithParent(c.stdin, "input_reply", map[string]any{"value": "Ada Lovelace"}, ask.Header)
	reply := c.reply(c.shell, id)
	out := c.outputs(id)
	if reply.str("status") != "ok" || streamText(out) != "asking\nhi Ada Lovelace\n" {
		t.Errorf("after input: %v %q", reply.Content, streamText(out))
	}
	if last := out[len(out)-1]; last.Type() != "execute_result" || last.Content["data"].(map[string]any)["text/plain"] != "'Ada Lovelace'" {
		t.Errorf("Out = %v", last.Content)
	}

	// A frontend without stdin: input() fails at once instead of hanging.
	reply, _ = c.execute("input('x? ')", map[string]any{"allow_stdin": false})
	if reply.str("ename") != "OSError" || !strings.Contains(reply.str("evalue"), "accepts input") {
		t.Errorf("input() without stdin: %v", reply.Content)
	}

	// An interrupt while input() waits: KeyboardInterrupt, and the board is usable.
	id = c.send(c.shell, "execute_request", map[string]any{"code": "input('never answered: ')",
		"silent": false, "store_history": true, "user_expressions": map[string]any{}, "allow_stdin": true, "stop_on_error": true})
	if ask := c.recv(c.stdin); ask.Type() != "input_request" {
		t.Fatalf("got %s, want input_request", ask.Type())
	}
	c.reply(c.control, c.send(c.control, "interrupt_request", map[string]any{}))
	if reply := c.reply(c.shell, id); reply.str("ename") != "KeyboardInterrupt" {
		t.Errorf("interrupted input(): %v", reply.Content)
	}
	reply, out = c.execute("print('still here')", nil)
	if reply.str("status") != "ok" || streamText(out) != "still here\n" {
		t.Errorf("after the interrupted input(): %v %q", reply.Content, streamText(out))
	}
}

func TestMultiLineAnswerFeedsTheNextInputCalls(t *testing.T) {
	t.Parallel()
	board := startBoard(t)
	rk := startKernel(t, Config{URL: board.URL(), Password: board.Password()})
	c := newTestClient(t, rk.info)
	c.waitReady()
	if reply, _ := c.execute("pass", nil); reply.str("status") != "ok" {
		t.Fatalf("connect: %v", reply.Content)
	}

	// Three lines pasted into the first input(): the next two input() calls
	// of the cell read them without asking again, as a console would.
	id := c.send(c.shell, "execute_request", map[string]any{
		"code":   "a = input('a? ')\nb = input('b? ')\nc = input('c? ')\nprint([a, b, c])",
		"silent": false, "store_history": true, "user_expressions": map[string]any{}, "allow_stdin": true, "stop_on_error": true})
	ask := c.recv(c.stdin)
	if ask.Type() != "input_request" || ask.str("prompt") != "a? " {
		t.Fatalf("input_request = %v", ask.Content)
	}
	c.sendWithParent(c.stdin, "input_reply", map[string]any{"value": "one\r\ntwo\nthree\n"}, ask.Header)
	if reply := c.reply(c.shell, id); reply.str("status") != "ok" {
		t.Fatalf("reply: %v", reply.Content)
	}
	if got, want := streamText(c.outputs(id)), "b? two\nc? three\n['one', 'two', 'three']\n"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}

	// Lines left when the cell ends are shown, in one line, as not read.
	id = c.send(c.shell, "execute_request", map[string]any{"code": "x = input('x? ')\nprint('got', x)",
		"silent": false, "store_history": true, "user_expressions": map[string]any{}, "allow_stdin": true, "stop_on_error": true})
	ask = c.recv(c.stdin)
	c.sendWithParent(c.stdin, "input_reply", map[string]any{"value": "first\nsecond\nthird"}, ask.Header)
	if reply := c.reply(c.shell, id); reply.str("status") != "ok" {
		t.Fatalf("reply: %v", reply.Content)
	}
	out := c.outputs(id)
	if got := streamText(out); got != "got first\n" {
		t.Errorf("output = %q, want %q", got, "got first\n")
	}
	var notices []string
	for _, m := range out {
		if m.Type() == "stream" && m.str("name") == "stderr" {
			notices = append(notices, m.str("text"))
		}
	}
	if len(notices) != 1 || strings.Count(notices[0], "\n") != 1 || !strings.Contains(notices[0], "not read") ||
		!strings.Contains(notices[0], `"second", "third"`) {
		t.Errorf("stderr = %q, want one line naming the unread lines", notices)
	}

	// The unread lines belonged to that cell: the next input() asks again.
	id = c.send(c.shell, "execute_request", map[string]any{"code": "print(input('again? '))",
		"silent": false, "store_history": true, "user_expressions": map[string]any{}, "allow_stdin": true, "stop_on_error": true})
	if ask = c.recv(c.stdin); ask.Type() != "input_request" || ask.str("prompt") != "again? " {
		t.Fatalf("input_request = %v", ask.Content)
	}
	c.sendWithParent(c.stdin, "input_reply", map[string]any{"value": "fresh"}, ask.Header)
	c.reply(c.shell, id)
	if got := streamText(c.outputs(id)); got != "fresh\n" {
		t.Errorf("output = %q, want %q", got, "fresh\n")
	}
}

func TestForgedMessageIgnoredByTheKernel(t *testing.T) {
	t.Parallel()
	board := startBoard(t)
	rk := startKernel(t, Config{URL: board.URL(), Password: board.Password()})
	c := newTestClient(t, rk.info)
	c.waitReady()
	if reply, _ := c.execute("pass", nil); reply.str("status") != "ok" {
		t.Fatalf("connect: %v", reply.Content)
	}

	// An execute_request signed with another key must not run; the kernel
	// keeps answering properly signed requests on the same socket.
	frames, forgedID := c.encode("execute_request", map[string]any{"code": "forged = 1",
		"silent": false, "store_history": true, "user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true})
	mac := hmac.New(sha256.New, []byte("not-the-kernel-key"))
	for _, part := range frames[2:] {
		mac.Write(part)
	}
	frames[1] = []byte(hex.EncodeToString(mac.Sum(nil)))
	if err := c.shell.Send(zmqMsg(frames)); err != nil {
		t.Fatal(err)
	}

	// c.reply fails on any other message than the awaited reply, so an
	// answer to the forged request would fail here.
	info, _ := c.request("kernel_info_request", map[string]any{})
	if info.Type() != "kernel_info_reply" || info.str("status") != "ok" {
		t.Fatalf("kernel_info after a forged message: %s %v", info.Type(), info.Content)
	}
	reply, out := c.execute("print('forged' in globals())", nil)
	if reply.str("status") != "ok" || streamText(out) != "False\n" {
		t.Errorf("cell after a forged message: %v %q", reply.Content, streamText(out))
	}
	c.mu.Lock()
	for _, m := range c.iopubQ {
		if m.ParentID() == forgedID {
			t.Errorf("iopub message for the forged request: %s %v", m.Type(), m.Content)
		}
	}
	c.mu.Unlock()
}

func TestFullRawPasteWindowUploadsALargeCellOnESP32(t *testing.T) {
	t.Parallel()
	board := simtest.Start(t, sim.Options{Profile: "esp32", Password: "secret", DrainPeriod: 5 * time.Millisecond, ResetAfter: 20 * time.Second})
	rk := startKernel(t, Config{URL: board.URL(), Password: board.Password(), FullRawPasteWindow: true})
	c := newTestClient(t, rk.info)
	c.waitReady()
	if reply, _ := c.execute("pass", nil); reply.str("status") != "ok" {
		t.Fatalf("connect: %v", reply.Content)
	}

	var code strings.Builder
	n := 0
	for code.Len() < 3000 {
		n++
		fmt.Fprintf(&code, "total = %d  # line %d of a cell larger than the raw-paste windows\n", n, n)
	}
	code.WriteString("print('total', total)\n")
	reply, out := c.execute(code.String(), nil)
	if want := fmt.Sprintf("total %d\n", n); reply.str("status") != "ok" || streamText(out) != want {
		t.Errorf("large cell: %v %q, want %q", reply.Content, streamText(out), want)
	}
	if dropped := board.DroppedBytes(); dropped != 0 {
		t.Errorf("the board dropped %d input bytes with the full window", dropped)
	}
}
