//go:build linux

package webrepl_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"webrepl-kernel/internal/boardpy/boardpytest"
	"webrepl-kernel/serialport/serialtest"
	"webrepl-kernel/webrepl"
)

// The serial link against real MicroPython: realmp's micropython (v1.28
// unix port) runs its REPL (pyexec.c: friendly, raw, raw-paste) on a
// pseudo-terminal, reached through another one whose slave side is the
// "serial port" the client opens, as /dev/ttyUSB0 (serialport/serialtest).
// Unlike over WebREPL, the unix REPL reads that terminal itself, so a
// Ctrl-C interrupts running code there.

// startRealmpSerial starts realmp on a pseudo-terminal and returns its
// serial:// URL; it skips when realmp is absent or there are no
// pseudo-terminals.
func startRealmpSerial(t *testing.T, opts serialtest.Options) (string, *serialtest.Board) {
	t.Helper()
	bin := boardpytest.MicroPython(t)
	if !serialtest.Supported() {
		t.Skip("no pseudo-terminals on this system")
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	b := serialtest.StartBoard(t, []string{bin}, opts)
	return "serial://" + b.Port, b
}

func dialSerial(t *testing.T, url string, opts webrepl.Options) *webrepl.Session {
	t.Helper()
	if testing.Verbose() {
		opts.Logf = t.Logf
	}
	s, err := webrepl.Dial(ctxFor(t, time.Minute), url, opts)
	if err != nil {
		t.Fatalf("Dial %s: %v", url, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRealmpSerialGeneratedProgramsExact(t *testing.T) {
	for _, c := range []struct {
		name   string
		opts   webrepl.Options
		pacing webrepl.Pacing
		seed   uint64
		n      int
	}{
		{"raw-paste", webrepl.Options{}, webrepl.PacingRawPaste, 41, 60},
		{"paced fallback", webrepl.Options{Pacing: webrepl.PacingPaced, ChunkSize: 128, ChunkGap: 5 * time.Millisecond}, webrepl.PacingPaced, 42, 15},
	} {
		t.Run(c.name, func(t *testing.T) {
			url, _ := startRealmpSerial(t, serialtest.Options{})
			s := dialSerial(t, url, c.opts)
			if v := s.Firmware(); !v.AtLeast(1, 28, 0) {
				t.Errorf("firmware %v from sys.implementation, want 1.28 or later", v)
			}
			execSeeded(t, s, c.seed, c.n, 8192, c.pacing)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRealmpSerialRawPasteRefusedFallsBack(t *testing.T) {
	for _, c := range []struct {
		name string
		mode serialtest.RawPaste
		seed uint64
	}{
		{"refused with R\\x00", serialtest.RawPasteRefused, 51},
		{"unknown to old firmware", serialtest.RawPasteUnknown, 52},
	} {
		t.Run(c.name, func(t *testing.T) {
			url, _ := startRealmpSerial(t, serialtest.Options{RawPaste: c.mode})
			s := dialSerial(t, url, webrepl.Options{ChunkSize: 128, ChunkGap: 5 * time.Millisecond})
			execSeeded(t, s, c.seed, 8, 4096, webrepl.PacingPaced) // raw-paste was refused
		})
	}
}

func TestRealmpSerialPutGetIdentical(t *testing.T) {
	flash := t.TempDir()
	url, _ := startRealmpSerial(t, serialtest.Options{Dir: flash})
	s := dialSerial(t, url, webrepl.Options{})
	ctx := ctxFor(t, 3*time.Minute)
	if err := os.Mkdir(filepath.Join(flash, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{0, 1, 255, 256, 257, 1023, 1024, 1025, 100 * 1024} {
		data := make([]byte, size)
		rand.Read(data)
		name := fmt.Sprintf("lib/f%d.bin", size)
		var calls, last int
		check, err := s.PutChecked(ctx, name, data, func(done, total int) { calls++; last = done })
		if err != nil {
			t.Fatalf("Put %d bytes: %v", size, err)
		}
		if check != webrepl.CheckSHA256 || last != size || calls < 1 {
			t.Fatalf("Put %d bytes: checked by %q, progress %d calls ending at %d", size, check, calls, last)
		}
		if disk, err := os.ReadFile(filepath.Join(flash, name)); err != nil || !bytes.Equal(disk, data) {
			t.Fatalf("the board's file after Put of %d bytes: %v, identical %v", size, err, bytes.Equal(disk, data))
		}
		got, check, err := s.GetChecked(ctx, name, nil)
		if err != nil || !bytes.Equal(got, data) || check != webrepl.CheckSHA256 {
			t.Fatalf("Get %d bytes: %v, %d bytes back, identical %v, checked by %q", size, err, len(got), bytes.Equal(got, data), check)
		}
	}
	// Nothing but the files: no temporary left beside them.
	entries, err := s.List(ctx, "lib")
	if err != nil || len(entries) != 9 {
		t.Fatalf("List lib: %v, %d entries: %v", err, len(entries), entries)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name, ".") {
			t.Errorf("a temporary is left on the board: %s", e.Name)
		}
	}
	// A file replaced keeps its name; a missing one is fs.ErrNotExist.
	if err := s.Put(ctx, "lib/f1.bin", []byte("new"), nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "lib/f1.bin", nil); err != nil || string(got) != "new" {
		t.Fatalf("replaced file: %q, %v", got, err)
	}
	if _, err := s.Get(ctx, "none.txt", nil); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Get of a missing file: %v, want fs.ErrNotExist", err)
	}
	if err := s.Put(ctx, "nodir/x.txt", []byte("x"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Put into a missing folder: %v, want fs.ErrNotExist", err)
	}
}

// A put stopped half-way leaves the file it was replacing as it was, and
// no temporary.
func TestRealmpSerialPutStoppedLeavesTheOldFile(t *testing.T) {
	flash := t.TempDir()
	url, _ := startRealmpSerial(t, serialtest.Options{Dir: flash})
	s := dialSerial(t, url, webrepl.Options{})
	if err := os.WriteFile(filepath.Join(flash, "main.py"), []byte("old = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("x = 2\n"), 20000)
	ctx, cancel := context.WithCancel(ctxFor(t, 2*time.Minute))
	err := s.Put(ctx, "main.py", data, func(done, total int) {
		if done >= 10*1024 {
			cancel()
		}
	})
	if !errors.Is(err, webrepl.ErrPutStopped) {
		t.Fatalf("stopped Put: %v, want ErrPutStopped", err)
	}
	oneLine(t, err)
	if got, err := os.ReadFile(filepath.Join(flash, "main.py")); err != nil || string(got) != "old = 1\n" {
		t.Fatalf("main.py after a stopped put: %q, %v", got, err)
	}
	if left, _ := filepath.Glob(filepath.Join(flash, ".*")); len(left) != 0 {
		t.Fatalf("temporaries left: %v", left)
	}
	if out, _ := run(t, s, "print('still fine')"); out != "still fine\n" {
		t.Fatalf("after the stopped put: %q", out)
	}
}

// Ctrl-C reaches code running on the board, and the session goes on. The
// unix port runs a program in its terminal's original mode, where Ctrl-C
// is SIGINT and so a KeyboardInterrupt, only when the program came by the
// standard raw REPL: after raw-paste it runs with the terminal still raw
// (shared/runtime/pyexec.c, do_reader_stdin), where nothing reads the
// Ctrl-C. A board's UART or USB driver sees Ctrl-C either way; here the
// programs go paced.
func TestRealmpSerialInterrupt(t *testing.T) {
	url, _ := startRealmpSerial(t, serialtest.Options{})
	s := dialSerial(t, url, webrepl.Options{Pacing: webrepl.PacingPaced, ChunkGap: 5 * time.Millisecond})
	w := &signalWriter{first: make(chan struct{}), wait: "looping"}
	go func() {
		select {
		case <-w.first:
			_ = s.Interrupt()
		case <-time.After(time.Minute):
		}
	}()
	res, err := s.Exec(ctxFor(t, 2*time.Minute), []byte("print('looping')\nwhile True:\n    pass\n"), w)
	if err != nil {
		t.Fatal(err)
	}
	if res.Exception == nil || res.Exception.Type != "KeyboardInterrupt" {
		t.Fatalf("interrupted loop: %+v, output %q", res.Exception, w.String())
	}
	// ExecInterruptible: the caller's Ctrl-C.
	ctx, cancel := context.WithCancel(context.Background())
	w2 := &signalWriter{first: make(chan struct{}), wait: "sleeping"}
	go func() {
		<-w2.first
		cancel()
	}()
	res, err = s.ExecInterruptible(ctx, []byte("import time\nprint('sleeping')\nwhile True:\n    time.sleep(0.01)\n"), w2, 30*time.Second)
	if err != nil || res.Exception == nil || res.Exception.Type != "KeyboardInterrupt" {
		t.Fatalf("ExecInterruptible: %v, %+v", err, res)
	}
	if out, _ := run(t, s, "print(6*7)"); out != "42\n" {
		t.Fatalf("after the interrupts: %q", out)
	}
}

// A second opener of the port is refused while the first holds it, with
// one line that says so; the first goes on. Closed, the port takes the
// next client.
func TestRealmpSerialSecondOpenerRefused(t *testing.T) {
	url, _ := startRealmpSerial(t, serialtest.Options{})
	s := dialSerial(t, url, webrepl.Options{})
	_, err := webrepl.Dial(ctxFor(t, time.Minute), url, webrepl.Options{})
	if !errors.Is(err, webrepl.ErrBusy) {
		t.Fatalf("second opener: %v, want ErrBusy", err)
	}
	oneLine(t, err)
	if _, err := webrepl.DialConsole(ctxFor(t, time.Minute), url, webrepl.Options{}); !errors.Is(err, webrepl.ErrBusy) {
		t.Fatalf("second opener (console): %v, want ErrBusy", err)
	}
	if out, _ := run(t, s, "print('first still fine')"); out != "first still fine\n" {
		t.Fatalf("first client after the refusal: %q", out)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := dialSerial(t, url, webrepl.Options{})
	if out, _ := run(t, s2, "print('next')"); out != "next\n" {
		t.Fatalf("next client: %q", out)
	}
}

// A board that restarts behind the port (the unix port ends on sys.exit()
// and is started again, printing its banner, as a board behind a USB
// bridge reboots) is found reset: sys.exit() says so, the next program
// runs on the new board, and RAMLost tells.
func TestRealmpSerialResetDetected(t *testing.T) {
	url, b := startRealmpSerial(t, serialtest.Options{})
	var reconnects []bool
	s := dialSerial(t, url, webrepl.Options{OnReconnect: func(lost bool) { reconnects = append(reconnects, lost) }})
	run(t, s, "x = 5")
	var out bytes.Buffer
	_, err := s.Exec(ctxFor(t, time.Minute), []byte("import sys\nsys.exit()"), &out)
	if !errors.Is(err, webrepl.ErrProgramExited) {
		t.Fatalf("sys.exit(): %v, want ErrProgramExited", err)
	}
	got, res := run(t, s, "print('x' in globals())")
	if got != "False\n" || res.Exception != nil {
		t.Fatalf("after the reset: %q %+v", got, res.Exception)
	}
	// At least one restart; more when a Ctrl-C of the reconnection reaches
	// the new process before it has set up its terminal (SIGINT ends it
	// then, and it is started again).
	if !s.RAMLost() || b.Starts() < 2 {
		t.Fatalf("RAMLost %v, board started %d times", s.RAMLost(), b.Starts())
	}
}

// The console (the CLI's repl) over a serial port: the friendly REPL, keys
// in, the board's echo and answers out.
func TestRealmpSerialConsole(t *testing.T) {
	url, _ := startRealmpSerial(t, serialtest.Options{})
	c, err := webrepl.DialConsole(ctxFor(t, time.Minute), url, webrepl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Write([]byte("print(6 * 7)\r")); err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t, time.Minute)
	var got []byte
	for !bytes.Contains(got, []byte("42\r\n>>> ")) && !bytes.Contains(got, []byte("42\n>>> ")) {
		b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("console read: %v (got %q)", err, got)
		}
		got = append(got, b...)
	}
	if !bytes.Contains(got, []byte("print(6 * 7)")) {
		t.Fatalf("no echo of the typed line: %q", got)
	}
}

// The reset button pressed while a program runs: the board's banner on the
// port ends the run with ErrBoardReset, the session has reconnected, and
// the next program runs on the fresh board.
func TestRealmpSerialResetWhileRunning(t *testing.T) {
	url, b := startRealmpSerial(t, serialtest.Options{})
	s := dialSerial(t, url, webrepl.Options{})
	run(t, s, "y = 1")
	w := &signalWriter{first: make(chan struct{}), wait: "running"}
	go func() {
		<-w.first
		b.Reset()
	}()
	_, err := s.Exec(ctxFor(t, 2*time.Minute), []byte("import time\nprint('running')\nwhile True:\n    time.sleep(0.01)\n"), w)
	if !errors.Is(err, webrepl.ErrBoardReset) {
		t.Fatalf("reset while running: %v, want ErrBoardReset", err)
	}
	oneLine(t, err)
	if got, _ := run(t, s, "print('y' in globals())"); got != "False\n" {
		t.Fatalf("after the reset: %q", got)
	}
}

// A port that is not there is ErrUnreachable, in one line naming it; a
// device that is not a terminal is refused too.
func TestSerialPortMissing(t *testing.T) {
	_, err := webrepl.Dial(ctxFor(t, time.Minute), "serial:///dev/ttyUSB-none-such", webrepl.Options{})
	if !errors.Is(err, webrepl.ErrUnreachable) || !strings.Contains(err.Error(), "/dev/ttyUSB-none-such") {
		t.Fatalf("missing port: %v, want ErrUnreachable naming it", err)
	}
	oneLine(t, err)
	if _, err := webrepl.Dial(ctxFor(t, time.Minute), "serial:///dev/null", webrepl.Options{}); err == nil {
		t.Fatal("/dev/null taken for a serial port")
	} else {
		oneLine(t, err)
	}
}

// The checked, renamed writes of atomic.go over a serial port: a .py that
// does not compile keeps the old file, one that does replaces it, and a
// temporary a pulled cable left is removed by the next write's Recover.
func TestRealmpSerialPutAtomic(t *testing.T) {
	flash := t.TempDir()
	url, _ := startRealmpSerial(t, serialtest.Options{Dir: flash})
	s := dialSerial(t, url, webrepl.Options{})
	ctx := ctxFor(t, 2*time.Minute)
	if err := os.WriteFile(filepath.Join(flash, "main.py"), []byte("old = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(flash, webrepl.TempName("main.py")), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := s.PutAtomic(ctx, "main.py", []byte("def f(:\n"), webrepl.PutOptions{Compile: true}, nil)
	if !errors.Is(err, webrepl.ErrSyntax) {
		t.Fatalf("PutAtomic of a syntax error: %v, want ErrSyntax", err)
	}
	if got, _ := os.ReadFile(filepath.Join(flash, "main.py")); string(got) != "old = 1\n" {
		t.Fatalf("main.py after a refused write: %q", got)
	}
	res, err := s.PutAtomic(ctx, "main.py", []byte("new = 2\n"), webrepl.PutOptions{Compile: true}, nil)
	if err != nil || res.Check != webrepl.CheckSHA256 {
		t.Fatalf("PutAtomic: %v, %+v", err, res)
	}
	if got, _ := os.ReadFile(filepath.Join(flash, "main.py")); string(got) != "new = 2\n" {
		t.Fatalf("main.py after the write: %q", got)
	}
	if left, _ := filepath.Glob(filepath.Join(flash, ".*")); len(left) != 0 {
		t.Fatalf("temporaries left: %v", left)
	}
}
