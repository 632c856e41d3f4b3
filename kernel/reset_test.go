package kernel

import (
	"context"
	"strings"
	"testing"

	"webrepl-kernel/sim/simtest"
	"webrepl-kernel/webrepl"
)

const resetNotice = "The board was reset since the last cell"

// waitUntilServing dials the board until it logs in a client again (it
// accepts and closes connections while it reboots); the board gives no other
// sign that it is up.
func waitUntilServing(t *testing.T, url, password string) {
	t.Helper()
	s := simtest.UntilServed(t, func(ctx context.Context) (*webrepl.Session, error) {
		return webrepl.Dial(ctx, url, webrepl.Options{Password: password})
	})
	if err := s.Close(); err != nil {
		t.Fatalf("closing the probe session: %v", err)
	}
}

func TestResetBetweenCellsIsExplained(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t)
	board := tk.board
	if reply, _ := tk.execute("x = 41"); reply.Str("status") != "ok" {
		t.Fatalf("first cell: %v", reply.Content)
	}

	board.PressReset()
	waitUntilServing(t, board.URL(), board.Password())

	reply, out := tk.execute("print('fresh')")
	if reply.Str("status") != "ok" {
		t.Fatalf("cell after the reset: %v", reply.Content)
	}
	notice := streamsOf(out, "stderr")
	if !strings.HasPrefix(notice, resetNotice) || !strings.Contains(notice, board.URL()) ||
		strings.Count(notice, "\n") != 1 || !strings.Contains(notice, "files stay") {
		t.Errorf("notice = %q", notice)
	}
	if got := streamText(out); got != "fresh\n" {
		t.Errorf("stdout = %q", got)
	}
	for _, m := range out {
		if m.Type == "stream" {
			if m.Str("name") != "stderr" {
				t.Errorf("the notice is not the cell's first output: %q first", m.Str("text"))
			}
			break
		}
	}

	// Told once: the next cells run quietly, and the variable is really gone.
	reply, out = tk.execute("print('x' in globals())")
	if reply.Str("status") != "ok" || streamText(out) != "False\n" || streamsOf(out, "stderr") != "" {
		t.Errorf("second cell after the reset: %v %v", reply.Content, types(out))
	}
	if _, hard := board.Resets(); hard != 1 {
		t.Errorf("board saw %d hard resets, want 1", hard)
	}
}

func TestLinkDropWithoutResetIsNotCalledAReset(t *testing.T) {
	t.Parallel()
	board := startBoard(t)
	proxy := simtest.NewCutProxy(t, strings.TrimSuffix(strings.TrimPrefix(board.URL(), "ws://"), "/"))
	tk := newTestKernel(t, onBoard(board), configure(func(c *Config) { c.URL = proxy.URL() }))
	if reply, _ := tk.execute("x = 41"); reply.Str("status") != "ok" {
		t.Fatalf("first cell: %v", reply.Content)
	}
	accepted := proxy.Connections()

	proxy.Cut()

	reply, out := tk.execute("print(x + 1)")
	if reply.Str("status") != "ok" || streamText(out) != "42\n" {
		t.Errorf("cell after the link drop: %v %q", reply.Content, streamText(out))
	}
	if got := streamsOf(out, "stderr"); got != "" {
		t.Errorf("stderr after a link drop without reset: %q", got)
	}
	if proxy.Connections() == accepted {
		t.Errorf("the kernel did not reconnect: the cut did not drop its link")
	}
	if soft, hard := board.Resets(); soft+hard != 0 {
		t.Errorf("the board reset (%d soft, %d hard)", soft, hard)
	}
}

func TestPrintToStderrIsTheStderrStream(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t)

	if reply, _ := tk.execute("import sys"); reply.Str("status") != "ok" { // connects
		t.Fatalf("first cell: %v", reply.Content)
	}
	reply, out := tk.execute("print('ok')\nprint('oops', 2, sep='-', file=sys.stderr)\nprint('end')")
	if reply.Str("status") != "ok" || streamText(out) != "ok\nend\n" || streamsOf(out, "stderr") != "oops-2\n" {
		t.Errorf("print to stderr: %v stdout %q stderr %q", reply.Content, streamText(out), streamsOf(out, "stderr"))
	}

	// An uncaught exception is one error message, not stderr text.
	reply, out = tk.execute("import sys\nprint('before', file=sys.stderr)\n1/0")
	if reply.Str("status") != "error" || reply.Str("ename") != "ZeroDivisionError" {
		t.Errorf("failing cell: %v", reply.Content)
	}
	errors := 0
	for _, m := range out {
		if m.Type == "error" {
			errors++
		}
	}
	if errors != 1 || streamsOf(out, "stderr") != "before\n" || streamText(out) != "" {
		t.Errorf("failing cell outputs %v, stderr %q, stdout %q", types(out), streamsOf(out, "stderr"), streamText(out))
	}

	// A print the user defined is theirs, also for stderr.
	reply, out = tk.execute("import sys\ndef print(*a, **k): sys.stdout.write('mine\\n')\nprint('x', file=sys.stderr)")
	if reply.Str("status") != "ok" || streamText(out) != "mine\n" || streamsOf(out, "stderr") != "" {
		t.Errorf("user's print: %v stdout %q stderr %q", reply.Content, streamText(out), streamsOf(out, "stderr"))
	}
	// Once the user's print is gone, print(file=sys.stderr) is stderr again.
	if reply, _ := tk.execute("del print"); reply.Str("status") != "ok" {
		t.Errorf("del print: %v", reply.Content)
	}
	reply, out = tk.execute("print('back', file=sys.stderr)")
	if reply.Str("status") != "ok" || streamsOf(out, "stderr") != "back\n" {
		t.Errorf("after del print: %v stderr %q", reply.Content, streamsOf(out, "stderr"))
	}
}
