package sim

// Many boards in one Host process (docs/protocol/simulator.md §7): each is
// its own MicroPython, with its own flash, firmware, port and resets, and
// what happens to one leaves the others running.

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// startHost returns a Host that is closed when the test ends, after the
// boards started on it (cleanups run in reverse).
func startHost(t *testing.T) *Host {
	t.Helper()
	h := NewHost(HostOptions{Log: testLog{t}})
	t.Cleanup(func() { h.Close() })
	return h
}

type hostedTestBoard struct {
	b     *Board
	c     *testClient
	flash string
}

func startHosted(t *testing.T, h *Host, profile, firmware string) hostedTestBoard {
	t.Helper()
	opts := realOptions(profile)
	opts.Firmware = firmware
	opts.Host = h
	opts.FlashDir = t.TempDir()
	b, c := startReal(t, opts)
	c.enterRaw()
	return hostedTestBoard{b: b, c: c, flash: opts.FlashDir}
}

func TestHostedBoardsAreIndependent(t *testing.T) {
	t.Parallel()
	h := startHost(t)
	boards := []hostedTestBoard{
		startHosted(t, h, "esp32", "1.28"),
		startHosted(t, h, "esp8266", "1.27"),
		startHosted(t, h, "esp32", "1.27"),
	}
	hostPID := h.PID()
	if hostPID == 0 || hostPID == os.Getpid() {
		t.Fatalf("host PID %d", hostPID)
	}
	for i, hb := range boards {
		if pid := hb.b.nodePID(); pid != hostPID {
			t.Fatalf("board %d runs in process %d, not in the host %d", i, pid, hostPID)
		}
		// Each board has its own interpreter, firmware, port and flash.
		hb.c.run(fmt.Sprintf("import os, sys\nx = %d\nwith open('id.txt', 'w') as f:\n    f.write('board %d')", i, i))
		want := fmt.Sprintf("%s %s\r\n", hb.b.opts.Profile, hb.b.Firmware())
		if got := hb.c.run("print(os.uname().sysname, '%d.%d' % sys.implementation.version[:2])"); got != want {
			t.Fatalf("board %d reports %q, want %q", i, got, want)
		}
	}
	for i, hb := range boards {
		data, err := os.ReadFile(filepath.Join(hb.flash, "id.txt"))
		if err != nil || string(data) != fmt.Sprintf("board %d", i) {
			t.Fatalf("board %d's flash holds %q (%v)", i, data, err)
		}
		if got := hb.c.run("print(x, open('id.txt').read())"); got != fmt.Sprintf("%d board %d\r\n", i, i) {
			t.Fatalf("board %d: %q", i, got)
		}
	}

	// Board 1 runs a loop while board 0 goes through every kind of reset and
	// a crash; board 2 sits at its prompt with its variables.
	a, busy, idle := boards[0], boards[1], boards[2]
	busy.c.run("import time")
	busy.c.sendText("for i in range(1000000):\n    print('tick', i)\n    time.sleep_ms(5)\n\x04")
	busy.c.expectText("OKtick 0\r\n")
	progress := func(what string) {
		t.Helper()
		// The loop still runs: fresh ticks keep coming.
		busy.c.expectText("tick ")
		busy.c.expectText("\r\ntick ")
		if _, err := os.Stat(filepath.Join(a.flash, "id.txt")); err != nil {
			t.Fatalf("after %s board 0's flash lost id.txt: %v", what, err)
		}
	}
	rebooted := func(what string) {
		t.Helper()
		a.c.expectEnd()
		a.c = redial(t, a.b.URL())
		a.c.login(a.b.Password())
		a.c.enterRaw()
		if got := a.c.run("import os\nprint(open('id.txt').read(), 'x' in globals())"); got != "board 0 False\r\n" {
			t.Fatalf("after %s board 0 says %q, want its flash kept and its RAM lost", what, got)
		}
		progress(what)
	}
	a.c.sendText("\x04") // empty Ctrl-D: soft reset
	rebooted("a soft reset")
	a.c.sendText("import machine\nmachine.reset()\x04")
	rebooted("machine.reset()")
	a.b.PressReset()
	rebooted("the reset button")
	a.c.sendText("l = []\nwhile True:\n    l.append(bytearray(100000))\n\x04")
	rebooted("running out of memory")
	a.c.sendText("import js\njs.eval('process.exit(3)')\x04") // the worker dies
	rebooted("a crashed worker")
	if soft, hard := a.b.Resets(); soft != 1 || hard != 4 {
		t.Fatalf("board 0 counts %d soft and %d hard resets, want 1 and 4", soft, hard)
	}

	busy.c.sendText("\x03")
	tail := busy.c.expectText("KeyboardInterrupt: \r\n\x04>")
	if !strings.Contains(tail, "tick ") {
		t.Fatalf("the loop's output ended with %q", tail)
	}
	if got := idle.c.run("print(x, open('id.txt').read())"); got != "2 board 2\r\n" {
		t.Fatalf("the idle board lost its state: %q", got)
	}
	for _, hb := range boards[1:] {
		if soft, hard := hb.b.Resets(); soft != 0 || hard != 0 {
			t.Fatalf("a board that was left alone counts %d soft and %d hard resets", soft, hard)
		}
	}
	if h.PID() != hostPID {
		t.Fatalf("the host process changed from %d to %d", hostPID, h.PID())
	}
}

// A host process that dies takes its boards with it, as a power cut does;
// they boot again in a new one, with their files.
func TestHostProcessDeathRebootsItsBoards(t *testing.T) {
	t.Parallel()
	h := startHost(t)
	boards := []hostedTestBoard{startHosted(t, h, "ideal", ""), startHosted(t, h, "esp32", "")}
	for i, hb := range boards {
		hb.c.run(fmt.Sprintf("with open('id.txt', 'w') as f:\n    f.write('board %d')", i))
	}
	first := h.PID()
	// os.Process.Kill is SIGKILL on Linux and macOS, TerminateProcess on
	// Windows: the test compiles for every system (make test-cross).
	proc, err := os.FindProcess(first)
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Kill(); err != nil {
		t.Fatal(err)
	}
	for i, hb := range boards {
		hb.c.expectEnd()
		c := redial(t, hb.b.URL())
		c.login(hb.b.Password())
		c.enterRaw()
		if got := c.run("print(open('id.txt').read())"); got != fmt.Sprintf("board %d\r\n", i) {
			t.Fatalf("board %d after the host died: %q", i, got)
		}
	}
	if second := h.PID(); second == first || second == 0 {
		t.Fatalf("host PID %d after the first (%d) died", second, first)
	}
}

// A board whose client stops reading holds up only itself: the others'
// output still flows through the shared process.
func TestHostedBoardBackPressureIsPerBoard(t *testing.T) {
	t.Parallel()
	h := startHost(t)
	flood, other := startHosted(t, h, "ideal", ""), startHosted(t, h, "ideal", "")
	if tcp, ok := flood.c.conn.UnderlyingConn().(*net.TCPConn); ok {
		_ = tcp.SetReadBuffer(4096) // so that the flood is held sooner
	}
	flood.c.sendText("n = 0\nwhile True:\n    print('flood', n, 'x' * 200)\n    n += 1\n\x04")
	held := func() bool {
		s := flood.b.outputTo.Load()
		return s != nil && s.queued.Load() > maxQueuedOutput
	}
	// The flood's client reads nothing: the board waits in print().
	waitFor(t, "the flood to be held", held)
	for i := 0; i < 100; i++ {
		want := fmt.Sprintf("%d\r\n", i*i)
		if got := other.c.run(fmt.Sprintf("print(%d * %d)", i, i)); got != want {
			t.Fatalf("the other board answered %q, want %q", got, want)
		}
	}
	if !held() {
		t.Fatalf("the flood is no longer held, though its client reads nothing")
	}
	for _, b := range []*Board{flood.b, other.b} {
		if soft, hard := b.Resets(); soft != 0 || hard != 0 {
			t.Fatalf("a board reset (%d soft, %d hard)", soft, hard)
		}
	}
}
