package kernel

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"webrepl-kernel/jupyter/jupytertest"
	"webrepl-kernel/sim"
	"webrepl-kernel/webrepl"
)

func TestRequestsAnsweredWithoutABoard(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t, withoutBoard())

	info := tk.send("kernel_info_request", nil)
	reply := tk.reply(info)
	if reply.Type != "kernel_info_reply" || reply.Str("status") != "ok" || reply.Str("protocol_version") != "5.5" {
		t.Errorf("kernel_info_reply = %v", reply.Content)
	}
	lang, _ := reply.Content["language_info"].(map[string]any)
	if lang["name"] != "python" || lang["file_extension"] != ".py" {
		t.Errorf("language_info = %v", lang)
	}
	if out := tk.outputs(info); len(out) != 0 {
		t.Errorf("kernel_info published %v", types(out))
	}

	reply = tk.request("is_complete_request", map[string]any{"code": "for i in range(3):"})
	if reply.Str("status") != "incomplete" || reply.Str("indent") != "    " {
		t.Errorf("is_complete_reply = %v", reply.Content)
	}
	reply = tk.request("is_complete_request", map[string]any{"code": "x = (1]"})
	if reply.Str("status") != "invalid" {
		t.Errorf("is_complete_reply for a bracket mismatch = %v", reply.Content)
	}

	reply = tk.request("complete_request", map[string]any{"code": "%dis", "cursor_pos": 4})
	matches, _ := reply.Content["matches"].([]any)
	if reply.Str("status") != "ok" || len(matches) != 1 || matches[0] != "%disconnect" || reply.Content["cursor_start"] != float64(0) {
		t.Errorf("complete_reply = %v", reply.Content)
	}
	reply = tk.request("complete_request", map[string]any{"code": "pri", "cursor_pos": 3})
	if matches, ok := reply.Content["matches"].([]any); !ok || len(matches) != 0 || reply.Content["cursor_end"] != float64(3) {
		t.Errorf("complete_reply for code = %v", reply.Content)
	}

	reply = tk.request("inspect_request", map[string]any{"code": "print", "cursor_pos": 5, "detail_level": 0})
	if reply.Str("status") != "ok" || reply.Content["found"] != false {
		t.Errorf("inspect_reply = %v", reply.Content)
	}
	reply = tk.request("comm_info_request", nil)
	if comms, ok := reply.Content["comms"].(map[string]any); !ok || len(comms) != 0 {
		t.Errorf("comm_info_reply = %v", reply.Content)
	}

	open := tk.send("comm_open", map[string]any{"comm_id": "c1", "target_name": "nothing", "data": map[string]any{}})
	closed := tk.waitFor(open, "comm_close", func(m msg) bool { return m.Type == "comm_close" })
	if closed.Str("comm_id") != "c1" {
		t.Errorf("comm_close = %v", closed.Content)
	}

	// An unknown request gets no reply, and the kernel keeps answering.
	// (That a badly signed request is dropped before any handler sees it
	// is jupyter's TestBadSignatureIsDroppedAndKernelKeepsAnswering.)
	unknown := tk.send("frobnicate_request", nil)
	tk.outputs(unknown)
	for _, m := range tk.srv.Recorder.Of(unknown.MsgID()) {
		if m.IsReply() || m.Type != "status" {
			t.Errorf("frobnicate_request was answered: %v", m)
		}
	}
	reply = tk.request("history_request", map[string]any{"hist_access_type": "tail", "n": 5, "output": false, "raw": true})
	if h, ok := reply.Content["history"].([]any); reply.Str("status") != "ok" || !ok || len(h) != 0 {
		t.Errorf("history_reply = %v", reply.Content)
	}

	// Without a board a cell fails with one readable line.
	reply, out := tk.execute("print(1)")
	if reply.Str("status") != "error" || reply.Str("ename") != "ConnectionError" || !strings.Contains(reply.Str("evalue"), "%connect") {
		t.Errorf("execute without a board: %v", reply.Content)
	}
	if got := types(out); len(got) != 2 || got[0] != "execute_input" || got[1] != "error" {
		t.Errorf("outputs = %v, want execute_input, error", got)
	}
	// Cells without code do not need the board.
	reply, out = tk.execute("%lsmagic")
	if reply.Str("status") != "ok" || !strings.Contains(streamText(out), "%connect URL") {
		t.Errorf("%%lsmagic: %v %q", reply.Content, streamText(out))
	}
	reply, _ = tk.execute("%frob")
	if reply.Str("ename") != "UsageError" {
		t.Errorf("unknown magic: %v", reply.Content)
	}
}

func TestCellsRunOnTheBoard(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t)

	reply, out := tk.execute("print('hello, world')")
	if reply.Str("status") != "ok" || reply.Content["execution_count"] != float64(1) {
		t.Fatalf("first cell: %v", reply.Content)
	}
	text := streamText(out)
	// Connecting is silent: the first cell shows exactly what it printed.
	if got := types(out); text != "hello, world\n" || len(got) != 2 || got[1] != "stream" {
		t.Errorf("first cell printed %q (%v), want only its own line", text, got)
	}

	// An exception: exactly one error message, the cell's line numbers.
	reply, out = tk.execute("a = 1\n\ndef f():\n    return a / 0\nf()")
	if reply.Str("status") != "error" || reply.Str("ename") != "ZeroDivisionError" || reply.Str("evalue") != "divide by zero" {
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
	reply, out = tk.execute("xs = [1, 2]\nxs + [3]")
	count := reply.Content["execution_count"]
	var result msg
	for _, m := range out {
		if m.Type == "execute_result" {
			result = m
		}
	}
	data, _ := result.Content["data"].(map[string]any)
	if data["text/plain"] != "[1, 2, 3]" || result.Content["execution_count"] != count {
		t.Errorf("execute_result = %v (count %v)", result.Content, count)
	}
	reply, out = tk.execute("print(xs)\nNone")
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
		reply := tk.request("complete_request", map[string]any{"code": sample.code, "cursor_pos": len(sample.code)})
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
	reply, out = tk.execute("print('quiet')\n42", silent)
	if reply.Str("status") != "ok" || len(out) != 0 || reply.Content["execution_count"] != before {
		t.Errorf("silent: %v %v", reply.Content, types(out))
	}
	reply, out = tk.execute("print('unstored')", noHistory)
	if reply.Content["execution_count"] != before || streamText(out) != "unstored\n" {
		t.Errorf("store_history=false: %v %q", reply.Content, streamText(out))
	}

	// stop_on_error: a request queued behind a failing cell is aborted.
	// Both are received (made) before the first runs, so the failing cell
	// needs no time on the board to have the other queued behind it.
	failing := jupytertest.NewRequest("execute_request", executeRequest("1/0"))
	queued := jupytertest.NewRequest("execute_request", executeRequest("print('queued')"))
	tk.srv.Send(failing)
	tk.srv.Send(queued)
	if r := tk.reply(failing); r.Str("status") != "error" {
		t.Errorf("failing cell: %v", r.Content)
	}
	if r := tk.reply(queued); r.Str("status") != "aborted" {
		t.Errorf("queued cell after a failure: %v, want aborted", r.Content)
	}
	if out := tk.outputs(queued); streamText(out) != "" {
		t.Errorf("aborted cell printed %q", streamText(out))
	}
	reply, out = tk.execute("print('after')")
	if reply.Str("status") != "ok" || streamText(out) != "after\n" {
		t.Errorf("cell after abort: %v %q", reply.Content, streamText(out))
	}

	reply = tk.request("history_request", map[string]any{"hist_access_type": "search", "pattern": "print(*", "output": false, "raw": true, "unique": true})
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
	tk := newTestKernel(t)

	id := tk.submit("import time\nprint('started')\nwhile True: time.sleep(0.1)")
	// The output shows while the loop runs.
	tk.waitFor(id, "'started'", func(m msg) bool { return m.Type == "stream" && strings.Contains(m.Str("text"), "started") })
	tk.interrupt()
	reply := tk.reply(id)
	if reply.Str("status") != "error" || reply.Str("ename") != "KeyboardInterrupt" {
		t.Errorf("interrupted cell: %v", reply.Content)
	}
	var errs int
	for _, m := range tk.outputs(id) {
		if m.Type == "error" {
			errs++
		}
		if m.Type == "stream" && m.Str("name") == "stderr" {
			t.Errorf("stray stderr: %q", m.Str("text"))
		}
	}
	if errs != 1 {
		t.Errorf("%d error messages, want 1", errs)
	}
	reply, out := tk.execute("print('alive')")
	if reply.Str("status") != "ok" || streamText(out) != "alive\n" {
		t.Errorf("cell after interrupt: %v %q", reply.Content, streamText(out))
	}
}

func TestPasswordAskedThroughStdin(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t, configure(func(c *Config) { c.Password = "" }))
	board := tk.board

	reply, _ := tk.execute("print(1)")
	if reply.Str("status") != "error" || !strings.Contains(reply.Str("evalue"), "--password") {
		t.Errorf("no stdin, no password: %v", reply.Content)
	}

	// SIGINT while the kernel waits for the password: the cell stops.
	id := tk.submit("print(2)", withStdin)
	ask := tk.inputRequest(id)
	if ask.Type != "input_request" || ask.Content["password"] != true || !strings.Contains(ask.Str("prompt"), board.URL()) {
		t.Fatalf("input_request = %v", ask.Content)
	}
	tk.k.Interrupt()
	if r := tk.reply(id); r.Str("ename") != "KeyboardInterrupt" {
		t.Errorf("interrupted password prompt: %v", r.Content)
	}

	id = tk.submit("print(3)", withStdin)
	ask = tk.inputRequest(id)
	if ask.Type != "input_request" {
		t.Fatalf("got %s, want input_request", ask.Type)
	}
	id.Answer(board.Password())
	reply = tk.reply(id)
	out := tk.outputs(id)
	if reply.Str("status") != "ok" || streamText(out) != "3\n" {
		t.Errorf("after typing the password: %v %q", reply.Content, streamText(out))
	}
}

// A cell sent once the client has seen the previous cell's error reply is
// not "queued behind" that failure and must run, however soon it follows:
// the abort cut-off is taken before the reply leaves (it once was taken
// after it, and a loaded machine aborted the next cell now and then).
func TestCellSentAfterAnErrorReplyRuns(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t, withoutBoard()) // no board: every cell fails at once
	for i := range 50 {
		reply := tk.reply(tk.submit("print(1)"))
		if got := reply.Str("status"); got != "error" {
			t.Fatalf("cell %d: status %q, want error (it was sent after the previous error reply): %v", i, got, reply.Content)
		}
	}
}

func TestConnectMagicAndUnreachableBoard(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t, configure(func(c *Config) { c.URL, c.Password = "", "" }))
	board := tk.board

	reply, out := tk.execute("%connect ws://127.0.0.1:1/ --password x\nprint(1)")
	if reply.Str("status") != "error" || reply.Str("ename") != "ConnectionError" || strings.Contains(reply.Str("evalue"), "\n") {
		t.Errorf("unreachable board: %v", reply.Content)
	}
	if streamText(out) != "" {
		t.Errorf("failed connect printed %q", streamText(out))
	}
	reply, out = tk.execute("%connect " + board.URL() + " --password " + board.Password() + "\nprint(7 * 6)")
	if reply.Str("status") != "ok" || streamText(out) != "42\n" {
		t.Errorf("%%connect: %v %q", reply.Content, streamText(out))
	}
	reply, out = tk.execute("%disconnect")
	if reply.Str("status") != "ok" || !strings.Contains(streamText(out), "Disconnected from "+board.URL()) {
		t.Errorf("%%disconnect: %v %q", reply.Content, streamText(out))
	}
	reply, out = tk.execute("print('back')")
	if reply.Str("status") != "ok" || streamText(out) != "back\n" {
		t.Errorf("reconnect after %%disconnect: %v %q", reply.Content, streamText(out))
	}
}

func TestShutdownAndRestartFreeTheBoard(t *testing.T) {
	t.Parallel()
	board := startBoard(t)
	for round, restart := range []bool{true, false} {
		tk := newTestKernel(t, onBoard(board))
		reply, out := tk.execute("print('round', " + map[bool]string{true: "1", false: "2"}[restart] + ")")
		if reply.Str("status") != "ok" || !strings.Contains(streamText(out), "round") {
			t.Fatalf("round %d: the board did not accept the kernel: %v %q", round, reply.Content, streamText(out))
		}
		r := tk.request("shutdown_request", map[string]any{"restart": restart}, jupytertest.OnControl())
		if r.Type != "shutdown_reply" || r.Str("status") != "ok" || r.Content["restart"] != restart {
			t.Errorf("shutdown_reply = %v", r.Content)
		}
		select {
		case <-tk.k.Done():
		case <-time.After(waitLong):
			t.Fatal("kernel did not signal Done after shutdown_request")
		}
		tk.stop()
	}
	// Restart soft-resets the board (restart_test.go); a plain shutdown
	// just logs out.
	soft, hard := board.Resets()
	if soft != 1 || hard != 0 {
		t.Errorf("the board was reset %d times soft, %d hard; want one soft reset (the restart's) and no other", soft, hard)
	}
}

func TestBoardResetThenNextCellReconnects(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t)
	board := tk.board

	if reply, _ := tk.execute("kept = 1"); reply.Str("status") != "ok" {
		t.Fatalf("first cell: %v", reply.Content)
	}
	reply, out := tk.execute("import machine\nmachine.reset()")
	if reply.Str("status") != "error" || reply.Str("ename") != "ConnectionResetError" ||
		!strings.Contains(reply.Str("evalue"), "RAM state") || !strings.Contains(reply.Str("evalue"), "reconnected") {
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
	reply, out = tk.execute("print('kept' in globals())")
	if reply.Str("status") != "ok" || streamText(out) != "False\n" {
		t.Errorf("cell after the reset: %v %q", reply.Content, streamText(out))
	}
	if _, hard := board.Resets(); hard != 1 {
		t.Errorf("board saw %d hard resets, want 1", hard)
	}

	for _, magic := range []string{"%softreset", "%hardreset"} {
		if reply, _ := tk.execute("kept = 2"); reply.Str("status") != "ok" {
			t.Fatalf("cell before %s: %v", magic, reply.Content)
		}
		reply, out = tk.execute(magic + "\nprint('kept' in globals())")
		if reply.Str("status") != "ok" || !strings.HasSuffix(streamText(out), "files stay.\nFalse\n") {
			t.Errorf("%s: %v %q", magic, reply.Content, streamText(out))
		}
	}
	if soft, hard := board.Resets(); soft != 1 || hard != 2 {
		t.Errorf("board saw %d soft and %d hard resets, want 1 and 2", soft, hard)
	}
}

func TestSysExitReportsTheSoftReset(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t)
	reply, _ := tk.execute("import sys\nsys.exit()")
	if reply.Str("ename") != "SystemExit" {
		t.Errorf("sys.exit(): %v", reply.Content)
	}
	reply, out := tk.execute("globals().clear()\n6 * 7")
	var results []string
	for _, m := range out {
		if m.Type == "execute_result" {
			results = append(results, m.Content["data"].(map[string]any)["text/plain"].(string))
		}
	}
	if reply.Str("status") != "ok" || len(results) != 1 || results[0] != "42" {
		t.Errorf("cell after sys.exit: %v %v", reply.Content, types(out))
	}
	reply, out = tk.execute("7 * 6")
	if reply.Str("status") != "ok" || len(out) != 2 || out[1].Type != "execute_result" {
		t.Errorf("cell after globals().clear(): %v %v", reply.Content, types(out))
	}
}

func TestInterruptOfUninterruptibleLoopExplainsRecovery(t *testing.T) {
	t.Parallel()
	// A program that swallows KeyboardInterrupt never stops, like an ESP32
	// loop that never looks at its socket; the simulated board's "user"
	// presses reset only much later.
	board := defaultBoard()
	board.ResetAfter = time.Minute
	const grace = time.Second
	tk := newTestKernel(t, withBoard(board), configure(func(c *Config) { c.InterruptGrace = grace }))

	id := tk.submit("import time\nprint('spin')\nwhile True:\n    try:\n        time.sleep(0.05)\n    except KeyboardInterrupt:\n        pass")
	tk.waitFor(id, "'spin'", func(m msg) bool { return m.Type == "stream" && strings.Contains(m.Str("text"), "spin") })
	interrupted := time.Now()
	tk.interrupt()
	reply := tk.reply(id)
	took := time.Since(interrupted)
	if reply.Str("ename") != "KeyboardInterrupt" || !strings.Contains(reply.Str("evalue"), "cannot be interrupted") ||
		!strings.Contains(reply.Str("evalue"), "reset button") || !strings.Contains(reply.Str("evalue"), "within 1s of Ctrl-C") {
		t.Errorf("reply = %v", reply.Content)
	}
	// The message's time is the time it took: the kernel gives the board
	// the whole grace (a load can only make that later), and then one
	// budget, not the grace and then webrepl's own wait, which added 5 s:
	// anything short of that extra 5 s is load, not the fault.
	if took < grace {
		t.Errorf("the cell ended %v after the interrupt, before the grace of %v the message names", took, grace)
	}
	if webreplWait := 5 * time.Second; took >= grace+webreplWait {
		t.Errorf("the cell ended %v after the interrupt: the grace (%v) and then webrepl's own %v wait, one after the other", took, grace, webreplWait)
	}
	out := tk.outputs(id)
	if got := types(out); got[len(got)-1] != "error" || strings.Count(strings.Join(got, " "), "error") != 1 || streamText(out) != "spin\n" {
		t.Errorf("outputs = %v (%q), want the output then one error", got, streamText(out))
	}
}

func TestInputReadsALineFromTheFrontend(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t)
	if reply, _ := tk.execute("pass"); reply.Str("status") != "ok" {
		t.Fatalf("connect: %v", reply.Content)
	}

	id := tk.submit("print('asking')\nname = input('name? ')\nprint('hi', name)\nname", withStdin)
	ask := tk.inputRequest(id)
	if ask.Type != "input_request" || ask.Str("prompt") != "name? " || ask.Content["password"] != false {
		t.Fatalf("input_request = %v", ask.Content)
	}
	id.Answer("Ada Lovelace")
	reply := tk.reply(id)
	out := tk.outputs(id)
	if reply.Str("status") != "ok" || streamText(out) != "asking\nhi Ada Lovelace\n" {
		t.Errorf("after input: %v %q", reply.Content, streamText(out))
	}
	if last := out[len(out)-1]; last.Type != "execute_result" || last.Content["data"].(map[string]any)["text/plain"] != "'Ada Lovelace'" {
		t.Errorf("Out = %v", last.Content)
	}

	// A frontend without stdin: input() fails at once instead of hanging.
	reply, _ = tk.execute("input('x? ')")
	if reply.Str("ename") != "OSError" || !strings.Contains(reply.Str("evalue"), "accepts input") {
		t.Errorf("input() without stdin: %v", reply.Content)
	}

	// An interrupt while input() waits: KeyboardInterrupt, and the board is usable.
	id = tk.submit("input('never answered: ')", withStdin)
	if ask := tk.inputRequest(id); ask.Type != "input_request" {
		t.Fatalf("got %s, want input_request", ask.Type)
	}
	tk.interrupt()
	if reply := tk.reply(id); reply.Str("ename") != "KeyboardInterrupt" {
		t.Errorf("interrupted input(): %v", reply.Content)
	}
	reply, out = tk.execute("print('still here')")
	if reply.Str("status") != "ok" || streamText(out) != "still here\n" {
		t.Errorf("after the interrupted input(): %v %q", reply.Content, streamText(out))
	}
}

func TestMultiLineAnswerFeedsTheNextInputCalls(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t)
	if reply, _ := tk.execute("pass"); reply.Str("status") != "ok" {
		t.Fatalf("connect: %v", reply.Content)
	}

	// Three lines pasted into the first input(): the next two input() calls
	// of the cell read them without asking again, as a console would.
	id := tk.submit("a = input('a? ')\nb = input('b? ')\nc = input('c? ')\nprint([a, b, c])", withStdin)
	ask := tk.inputRequest(id)
	if ask.Type != "input_request" || ask.Str("prompt") != "a? " {
		t.Fatalf("input_request = %v", ask.Content)
	}
	id.Answer("one\r\ntwo\nthree\n")
	if reply := tk.reply(id); reply.Str("status") != "ok" {
		t.Fatalf("reply: %v", reply.Content)
	}
	if got, want := streamText(tk.outputs(id)), "b? two\nc? three\n['one', 'two', 'three']\n"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
	var asked int
	for _, m := range tk.srv.Recorder.Of(id.MsgID()) {
		if m.Type == "input_request" {
			asked++
		}
	}
	if asked != 1 {
		t.Errorf("%d input requests for one multi-line answer, want 1", asked)
	}

	// Lines left when the cell ends are shown, in one line, as not read.
	id = tk.submit("x = input('x? ')\nprint('got', x)", withStdin)
	ask = tk.inputRequest(id)
	id.Answer("first\nsecond\nthird")
	if reply := tk.reply(id); reply.Str("status") != "ok" {
		t.Fatalf("reply: %v", reply.Content)
	}
	out := tk.outputs(id)
	if got := streamText(out); got != "got first\n" {
		t.Errorf("output = %q, want %q", got, "got first\n")
	}
	var notices []string
	for _, m := range out {
		if m.Type == "stream" && m.Str("name") == "stderr" {
			notices = append(notices, m.Str("text"))
		}
	}
	if len(notices) != 1 || strings.Count(notices[0], "\n") != 1 || !strings.Contains(notices[0], "not read") ||
		!strings.Contains(notices[0], `"second", "third"`) {
		t.Errorf("stderr = %q, want one line naming the unread lines", notices)
	}

	// The unread lines belonged to that cell: the next input() asks again.
	id = tk.submit("print(input('again? '))", withStdin)
	if ask = tk.inputRequest(id); ask.Type != "input_request" || ask.Str("prompt") != "again? " {
		t.Fatalf("input_request = %v", ask.Content)
	}
	id.Answer("fresh")
	tk.reply(id)
	if got := streamText(tk.outputs(id)); got != "fresh\n" {
		t.Errorf("output = %q, want %q", got, "fresh\n")
	}
}

func TestFullWindowUploadsALargeCellOnESP32(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t, withBoard(sim.Options{Profile: "esp32", Password: "secret", DrainPeriod: 5 * time.Millisecond, ResetAfter: 20 * time.Second}),
		configure(func(c *Config) { c.Window = webrepl.WindowFull }))
	board := tk.board
	if reply, _ := tk.execute("pass"); reply.Str("status") != "ok" {
		t.Fatalf("connect: %v", reply.Content)
	}

	var code strings.Builder
	n := 0
	for code.Len() < 3000 {
		n++
		fmt.Fprintf(&code, "total = %d  # line %d of a cell larger than the raw-paste windows\n", n, n)
	}
	code.WriteString("print('total', total)\n")
	reply, out := tk.execute(code.String())
	if want := fmt.Sprintf("total %d\n", n); reply.Str("status") != "ok" || streamText(out) != want {
		t.Errorf("large cell: %v %q, want %q", reply.Content, streamText(out), want)
	}
	if dropped := board.DroppedBytes(); dropped != 0 {
		t.Errorf("the board dropped %d input bytes with the full window", dropped)
	}
}
