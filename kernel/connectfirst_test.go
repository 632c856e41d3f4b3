package kernel

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// logLines collects a kernel's log for a test to read (and passes it on to
// t.Logf).
type logLines struct {
	t     *testing.T
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	l.t.Log(line)
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
}

func (l *logLines) has(part string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(strings.Join(l.lines, "\n"), part)
}

// A kernel's first cell rides with the connect (webrepl.DialExec). On a
// board fresh from boot it finds no helper, which is defined, and the cell
// runs; the helper stays in the board's RAM under its versioned name, so
// the next kernel's first cell runs at once, without defining it again.
// Neither says anything about the board: its identity, learnt after the
// first program, is the same.
func TestFirstCellRidesWithTheConnect(t *testing.T) {
	t.Parallel()
	board := startBoard(t)
	for i, c := range []struct {
		code, want string
		defines    bool
	}{
		{"print(6*7)", "42\n", true},
		{"print(7*6)", "42\n", false},
	} {
		log := &logLines{t: t}
		tk := newTestKernel(t, onBoard(board), configure(func(cfg *Config) { cfg.Logf = log.logf }))
		reply, out := tk.execute(c.code)
		if reply.Str("status") != "ok" || streamText(out) != c.want || streamsOf(out, "stderr") != "" {
			t.Errorf("kernel %d, first cell %q: %v, stdout %q, stderr %q", i+1, c.code, reply.Content, streamText(out), streamsOf(out, "stderr"))
		}
		if !log.has("rides with the connect") {
			t.Errorf("kernel %d: the first cell did not ride with the connect", i+1)
		}
		if got := log.has("defining " + helperName); got != c.defines {
			t.Errorf("kernel %d defined the helper: %v, want %v", i+1, got, c.defines)
		}
		reply, out = tk.execute("%board")
		if text := streamText(out); reply.Str("status") != "ok" || !strings.Contains(text, "esp32") || !strings.Contains(text, "240ac45e1a7c") {
			t.Errorf("kernel %d: %%board after the first cell: %v %q", i+1, reply.Content, text)
		}
		tk.stop()
	}
	// input() in a first cell that rides: the kernel has the session before
	// the cell's output is read, and answers through it.
	log := &logLines{t: t}
	tk := newTestKernel(t, onBoard(board), configure(func(cfg *Config) { cfg.Logf = log.logf }))
	id := tk.submit("print('hi', input('n? '))", withStdin)
	if ask := tk.inputRequest(id); ask.Str("prompt") != "n? " {
		t.Errorf("input_request = %v", ask.Content)
	}
	id.Answer("Ada")
	if reply, out := tk.reply(id), tk.outputs(id); reply.Str("status") != "ok" || streamText(out) != "hi Ada\n" || !log.has("rides with the connect") {
		t.Errorf("a first cell with input() that rides: %v %q (rode: %v)", reply.Content, streamText(out), log.has("rides with the connect"))
	}
}

// A first cell too long to ride, one that reads input(), and one that
// raises: each runs as any later cell would.
func TestFirstCellsThatDoNotRide(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t)
	id := tk.submit("print('asking')\nname = input('name? ')\nprint('hi', name)\n# "+strings.Repeat("long ", 40), withStdin)
	if ask := tk.inputRequest(id); ask.Str("prompt") != "name? " {
		t.Errorf("input_request = %v", ask.Content)
	}
	id.Answer("Ada")
	if reply, out := tk.reply(id), tk.outputs(id); reply.Str("status") != "ok" || streamText(out) != "asking\nhi Ada\n" {
		t.Errorf("a long first cell with input(): %v %q", reply.Content, streamText(out))
	}

	other := newTestKernel(t)
	reply, out := other.execute("print('before')\n1/0")
	if reply.Str("ename") != "ZeroDivisionError" || streamText(out) != "before\n" {
		t.Errorf("a first cell that raises: %v %q", reply.Content, streamText(out))
	}
	var tb string
	for _, m := range out {
		if m.Type == "error" {
			tb = fmt.Sprint(m.Content["traceback"])
		}
	}
	if !strings.Contains(tb, "line 2") || strings.Contains(tb, helperFunc) {
		t.Errorf("the first cell's traceback: %s", tb)
	}
}
