package webrepl_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
	"webrepl-kernel/webrepl"
)

// dialExec is DialExec of code on the simulated board b, retried while the
// board still serves the previous client; it returns the session, what the
// program printed and its result.
func dialExec(t *testing.T, b *sim.Board, opts webrepl.Options, code string) (*webrepl.Session, string, *webrepl.Result, error) {
	t.Helper()
	opts.Password = b.Password()
	var out bytes.Buffer
	var res *webrepl.Result
	var runErr error
	s := simtest.UntilServed(t, func(ctx context.Context) (*webrepl.Session, error) {
		out.Reset()
		s, r, err := webrepl.DialExec(ctx, b.URL(), opts, webrepl.FirstProgram{Code: []byte(code), Stdout: &out})
		if s == nil {
			if !errors.Is(err, webrepl.ErrBusy) {
				t.Fatalf("DialExec: %v", err)
			}
			return nil, err
		}
		res, runErr = r, err
		return s, nil
	})
	t.Cleanup(func() { s.Close() })
	return s, out.String(), res, runErr
}

// rode reports whether the log says the first program went out with the
// connect.
func (c *connectLog) rode() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Contains(strings.Join(c.lines, "\n"), "rides with the connect")
}

// A first program small enough rides in the frame that enters the raw REPL;
// its output is exact whatever the board was doing, the board's identity
// is learnt after it on a board met for the first time since it started,
// and read with the marker on every later connection. A larger one is sent
// once the connection is up.
func TestSimDialExec(t *testing.T) {
	t.Parallel()
	for _, c := range connectProfiles {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b, opts := startMidProgram(t, c.opts)

			// Fresh from boot, mid-program (main.py), never asked what it is.
			var log connectLog
			s, out, res, err := dialExec(t, b, log.options(), "X = 6*7\nprint('first', X)")
			if err != nil || out != "first 42\n" || res.Exception != nil {
				t.Fatalf("first program after boot: %q, %+v, %v", out, res, err)
			}
			log.check(t, "late raw REPL")
			if !log.rode() {
				t.Errorf("the first program did not ride with the connect")
			}
			first := s.Board()
			if first.Port != opts.Profile || len(first.UniqueID) != 12 || first.Machine == "" {
				t.Errorf("after the first program, Board() = %+v, want the %s port, its machine and a 6-byte unique id", first, opts.Profile)
			}
			if out, _ := run(t, s, "print(X)"); out != "42\n" {
				t.Errorf("the first program's globals: print(X) printed %q", out)
			}
			s.Close()

			// Met before since boot: the identity comes with the marker.
			var again connectLog
			s, out, res, err = dialExec(t, b, again.options(), "print('again', X)")
			if err != nil || out != "again 42\n" || res.Exception != nil {
				t.Fatalf("first program of a second connection: %q, %+v, %v", out, res, err)
			}
			again.check(t, "")
			if now := s.Board(); now != first || s.RAMLost() {
				t.Errorf("a second connection to the same board learnt %+v (RAM lost %v), want %+v", now, s.RAMLost(), first)
			}
			s.Close()

			// Too large to ride, and one that raises: sent and run as Exec.
			var big connectLog
			long := "print(len('" + strings.Repeat("x", 300) + "'))"
			s, out, res, err = dialExec(t, b, big.options(), long)
			if err != nil || out != "300\n" || res.Exception != nil || big.rode() {
				t.Errorf("a 300-byte first program: %q, %+v, %v (rode: %v)", out, res, err, big.rode())
			}
			s.Close()
			s, out, res, err = dialExec(t, b, webrepl.Options{}, "print('before')\n1/0")
			if err != nil || out != "before\n" || res.Exception == nil || res.Exception.Type != "ZeroDivisionError" {
				t.Errorf("a first program that raises: %q, %+v, %v", out, res, err)
			}
		})
	}
}

// A board that ignores Ctrl-C longer than the connection waits for its
// first answer: the connection goes on the careful way, and the caller is
// told that its program, sent with the connect, may have run unseen (here
// it did, once the board got to it).
func TestSimDialExecBusyBoard(t *testing.T) {
	t.Parallel()
	stubborn := "import time\n" +
		"t0 = time.ticks_ms()\n" +
		"while time.ticks_diff(time.ticks_ms(), t0) < 4500:\n" +
		" try: time.sleep_ms(20)\n" +
		" except KeyboardInterrupt: pass\n"
	b := simtest.Start(t, sim.Options{Profile: "esp32", Firmware: "1.28", DrainPeriod: 5 * time.Millisecond})
	leaveBoardIn(t, b, key{"\x03\x01", "raw REPL; CTRL-B to exit\r\n>"}, key{stubborn + "\x04", "OK"})
	s, out, res, err := dialExec(t, b, webrepl.Options{ConnectTimeout: 8 * time.Second}, "Y = 7\nprint('unseen')")
	if !errors.Is(err, webrepl.ErrFirstProgramUnseen) || res != nil || out != "" {
		t.Fatalf("DialExec on a board ignoring Ctrl-C for 4.5 s: %q, %+v, %v; want ErrFirstProgramUnseen", out, res, err)
	}
	if out, _ := run(t, s, "print(Y)"); out != "7\n" {
		t.Errorf("after ErrFirstProgramUnseen the session runs programs, and the first one ran: print(Y) printed %q", out)
	}
}

// A board replaced at the same address by one with a smaller input ring
// (an ESP32 by an ESP8266): the reconnection asks the newcomer what it is
// with the safe raw-paste window, not the one the old board allowed, so
// the identity program arrives whole and names the new port.
func TestSimReconnectToAReplacedBoard(t *testing.T) {
	t.Parallel()
	first := simtest.Start(t, sim.Options{Profile: "esp32", DrainPeriod: 5 * time.Millisecond})
	s := dial(t, first.URL(), first.Password(), webrepl.Options{})
	if port := s.Board().Port; port != "esp32" {
		t.Fatalf("first board: port %q", port)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(first.URL(), "ws://"), "/")
	first.Close()
	simtest.Start(t, sim.Options{Profile: "esp8266", Password: first.Password(), Addr: addr})
	if out, res := run(t, s, "print('on', 6*7)"); out != "on 42\n" || res.Exception != nil {
		t.Errorf("after the board was replaced: %q, %+v", out, res.Exception)
	}
	if b := s.Board(); b.Port != "esp8266" || b.UniqueID == "" || !s.RAMLost() {
		t.Errorf("after the board was replaced: Board() = %+v, RAMLost %v; want the esp8266 named", b, s.RAMLost())
	}
}
