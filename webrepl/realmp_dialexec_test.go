//go:build linux

package webrepl_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"webrepl-kernel/serialport/serialtest"
	"webrepl-kernel/sim/simtest"
	"webrepl-kernel/webrepl"
)

// DialExec against real MicroPython, over its WebREPL and over a serial
// line: the first program prints exactly, riding with the connect over
// WebREPL (over serial it follows the version program, dial.go,
// writeHello), and the connection takes the quick way (on serial, once the
// raw REPL's banner is back); the board, which has neither os.uname nor machine.unique_id, is asked once
// what it is, and the next connection reads that with the marker.
func TestRealmpDialExec(t *testing.T) {
	ws := startRealmp(t)
	serial, _ := startRealmpSerial(t, serialtest.Options{})
	for _, c := range []struct {
		name, url, password string
		rides               bool
	}{{"webrepl", ws, realmpPassword, true}, {"serial", serial, "", false}} {
		t.Run(c.name, func(t *testing.T) {
			var boot string
			for round := 1; round <= 2; round++ {
				var log connectLog
				opts := log.options()
				opts.Password = c.password
				var out bytes.Buffer
				s := simtest.UntilServed(t, func(ctx context.Context) (*webrepl.Session, error) {
					out.Reset()
					s, res, err := webrepl.DialExec(ctx, c.url, opts, webrepl.FirstProgram{Code: []byte("print('round', 20 + 22)"), Stdout: &out})
					if s == nil {
						if !errors.Is(err, webrepl.ErrBusy) {
							t.Fatalf("DialExec: %v", err)
						}
						return nil, err
					}
					if err != nil || res.Exception != nil {
						t.Fatalf("round %d: %+v, %v\n%s", round, res, err, strings.Join(log.lines, "\n"))
					}
					return s, nil
				})
				if out.String() != "round 42\n" || log.rode() != c.rides {
					t.Errorf("round %d printed %q (rode: %v)", round, out.String(), log.rode())
				}
				log.check(t, "")
				b := s.Board()
				if b.Pending || b.Port != "" || b.UniqueID != "" || b.Boot == "" || (boot != "" && b.Boot != boot) {
					t.Errorf("round %d: Board() = %+v, want no port, no unique id and the marker of round 1 (%q)", round, b, boot)
				}
				boot = b.Boot
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
