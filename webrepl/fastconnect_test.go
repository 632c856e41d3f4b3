package webrepl_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
	"webrepl-kernel/webrepl"
)

// lateText is what a program that is interrupted prints a while after the
// Ctrl-C, as a board would that is slow to stop: everything the raw REPL
// says on its own (a banner, prompts, "OK", the raw-paste answer and a
// window grant, the ends of a reply), so that a client taking any of it for
// its own answer would show it to the user or lose its step.
const lateText = "L = 'late raw REPL; CTRL-B to exit\\r\\n>OK' + chr(4) + chr(4) + '>R' + chr(1) + chr(128) + chr(0) + chr(1) + '>>> '\n"

// slowToStop is a program that runs until interrupted, keeps ignoring
// Ctrl-C for a while, then prints the lateText it finds in L and ends. Each
// of the two is sent whole in one frame, so each stays well under the
// boards' input rings.
const slowToStop = "import time\n" +
	"try:\n" +
	" while True: time.sleep_ms(20)\n" +
	"except KeyboardInterrupt:\n" +
	" for i in range(6):\n" +
	"  try: time.sleep_ms(50)\n" +
	"  except KeyboardInterrupt: pass\n" +
	" print(L)\n"

// connectLog is a Session's log and unsolicited output, for a test to read.
type connectLog struct {
	mu          sync.Mutex
	lines       []string
	unsolicited []byte
}

func (c *connectLog) options() webrepl.Options {
	return webrepl.Options{
		Logf: func(format string, args ...any) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.lines = append(c.lines, fmt.Sprintf(format, args...))
		},
		Unsolicited: func(p []byte) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.unsolicited = append(c.unsolicited, p...)
		},
	}
}

// connectProfiles are the boards the connection tests run on: every way
// into the raw REPL and its first frame (esp32 1.27 drains its input every
// 80 ms, the others at once; one has no raw-paste).
var connectProfiles = []struct {
	name string
	opts sim.Options
}{
	{"esp32 1.27", sim.Options{Profile: "esp32", Firmware: "1.27"}},
	{"esp32 1.28", sim.Options{Profile: "esp32", Firmware: "1.28", DrainPeriod: 5 * time.Millisecond}},
	{"esp8266", sim.Options{Profile: "esp8266"}},
	{"without raw-paste", sim.Options{Profile: "esp32", NoRawPaste: true, DrainPeriod: 5 * time.Millisecond}},
}

// startMidProgram boots a board with opts whose main.py runs slowToStop
// (lateText in L), so that a connection finds it mid-program; it returns
// the board and the options it was started with.
func startMidProgram(t *testing.T, opts sim.Options) (*sim.Board, sim.Options) {
	t.Helper()
	flash := t.TempDir()
	if err := os.WriteFile(filepath.Join(flash, "main.py"), []byte(lateText+slowToStop), 0o644); err != nil {
		t.Fatal(err)
	}
	opts.FlashDir = flash
	return simtest.Start(t, opts), opts
}

// check fails unless the connection took the quick way, discarded what the
// interrupted program printed late (want, if not "") and passed nothing to
// Unsolicited.
func (c *connectLog) check(t *testing.T, want string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	all := strings.Join(c.lines, "\n")
	if strings.Contains(all, "careful way") {
		t.Errorf("the connection fell back to the careful sequence:\n%s", all)
	}
	if want != "" && !strings.Contains(all, want) {
		t.Errorf("the log does not say %q was discarded before the first program's output:\n%s", want, all)
	}
	if len(c.unsolicited) > 0 {
		t.Errorf("stale output was passed on as the board's: %q", c.unsolicited)
	}
}

// The first program of a connection goes out with the keys that reach the
// raw REPL, without waiting for quiet; whatever the board was doing, what
// it prints late (a banner, a prompt, a reply's ends) is never taken for a
// program's output. Speed is measured in make bench, not here.
func TestSimConnectDiscardsLateOutput(t *testing.T) {
	t.Parallel()
	for _, c := range connectProfiles {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b, opts := startMidProgram(t, c.opts)
			var log connectLog
			s := dial(t, b.URL(), b.Password(), log.options())
			if out, res := run(t, s, "print('clean', 6*7)"); out != "clean 42\n" || res.Exception != nil {
				t.Errorf("first cell after main.py: got %q, %+v", out, res.Exception)
			}
			log.check(t, "late raw REPL")
			if port := s.Board().Port; port != opts.Profile {
				t.Errorf("Board().Port = %q, want %q", port, opts.Profile)
			}
			s.Close()

			// Left mid-program in the raw REPL by a client that vanished.
			leaveBoardIn(t, b, key{"\x03\x01", "raw REPL; CTRL-B to exit\r\n>"},
				key{lateText + "\x04", "\x04\x04>"}, key{slowToStop + "\x04", "OK"})
			var again connectLog
			s = dial(t, b.URL(), b.Password(), again.options())
			if out, res := run(t, s, "print('clean', 6*7)"); out != "clean 42\n" || res.Exception != nil {
				t.Errorf("first cell after a raw-REPL program: got %q, %+v", out, res.Exception)
			}
			again.check(t, "late raw REPL")
			if s.RAMLost() {
				t.Errorf("RAMLost after a reconnection without a reset")
			}
			s.Close()

			// At the raw prompt and at the friendly prompt, nothing is late.
			for _, keys := range [][]key{{{"\x01", "raw REPL; CTRL-B to exit\r\n>"}}, {{"\x02", ">>> "}}} {
				leaveBoardIn(t, b, keys...)
				var quiet connectLog
				s = dial(t, b.URL(), b.Password(), quiet.options())
				if out, _ := run(t, s, "print('clean', 6*7)"); out != "clean 42\n" {
					t.Errorf("first cell after %q: got %q", keys[0].send, out)
				}
				quiet.check(t, "")
				s.Close()
			}
		})
	}
}
