package webrepl_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
	"webrepl-kernel/webrepl"
)

// The connection tells which board it reached, and a reset shows as a new
// Boot marker on the same board.
func TestBoardInfoNamesTheBoardAndSeesResets(t *testing.T) {
	t.Parallel()
	b := simtest.Start(t, sim.Options{Profile: "esp32", DrainPeriod: 5 * time.Millisecond})
	s := dial(t, b.URL(), b.Password(), webrepl.Options{})
	first := s.Board()
	if first.URL != b.URL() || first.Port != "esp32" || first.Firmware != s.Firmware() || first.Boot == "" {
		t.Errorf("Board() = %+v", first)
	}
	if len(first.UniqueID) != 12 || !strings.Contains(first.Machine, "ESP32") || !strings.Contains(first.Build, first.Firmware.String()) {
		t.Errorf("Board() = %+v: want a 6-byte unique id, the machine and the build", first)
	}
	if got := first.String(); !strings.HasPrefix(got, "esp32, MicroPython "+first.Firmware.String()+", id ") {
		t.Errorf("String() = %q", got)
	}
	// Nothing of the probe is left in the user's globals.
	if out, _ := run(t, s, "print(sorted(k for k in globals() if not k.startswith('__')))"); out != "[]\n" {
		t.Errorf("globals after connecting: %q", out)
	}
	if err := s.Reconnect(ctxFor(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	if again := s.Board(); again != first {
		t.Errorf("a reconnection without a reset changed the board: %+v, was %+v", again, first)
	}
	b.PressReset()
	simtest.UntilServed(t, func(ctx context.Context) (struct{}, error) { return struct{}{}, s.Reconnect(ctx) })
	after := s.Board()
	if after.Boot == first.Boot || !after.SameBoard(first) || !after.SameFirmware(first) {
		t.Errorf("after a reset: %+v, before %+v: want a new Boot on the same board and firmware", after, first)
	}
}

func TestBoardInfoComparisons(t *testing.T) {
	t.Parallel()
	a := webrepl.BoardInfo{Port: "esp32", Machine: "ESP32 module", UniqueID: "240ac45e1a7c", Firmware: webrepl.Version{Major: 1, Minor: 27}, Build: "v1.27.0"}
	for _, c := range []struct {
		name       string
		b          webrepl.BoardInfo
		same, fwOK bool
	}{
		{"itself", a, true, true},
		{"another id", with(a, func(b *webrepl.BoardInfo) { b.UniqueID = "240ac45e1a7d" }), false, true},
		{"another port, no ids", with(a, func(b *webrepl.BoardInfo) { b.UniqueID, b.Port = "", "esp8266" }), false, true},
		{"another port, same id", with(a, func(b *webrepl.BoardInfo) { b.Port = "esp8266" }), false, true},
		{"another machine", with(a, func(b *webrepl.BoardInfo) { b.Machine = "ESP32C3 module" }), false, true},
		{"renamed machine with new firmware", with(a, func(b *webrepl.BoardInfo) { b.Machine, b.Build = "Generic ESP32 module", "v1.28.0" }), true, false},
		{"new firmware", with(a, func(b *webrepl.BoardInfo) { b.Firmware.Minor, b.Build = 28, "v1.28.0" }), true, false},
		{"a rebuild", with(a, func(b *webrepl.BoardInfo) { b.Build = "v1.27.0-dirty" }), true, false},
	} {
		if got := c.b.SameBoard(a); got != c.same {
			t.Errorf("%s: SameBoard = %v", c.name, got)
		}
		if got := c.b.SameFirmware(a); got != c.fwOK {
			t.Errorf("%s: SameFirmware = %v", c.name, got)
		}
	}
}

func with(b webrepl.BoardInfo, change func(*webrepl.BoardInfo)) webrepl.BoardInfo {
	change(&b)
	return b
}

// A board that is gone is retried with every attempt told as it begins, and
// the end names the cause in one line.
func TestReconnectingIsToldPerAttempt(t *testing.T) {
	t.Parallel()
	b := simtest.Start(t, sim.Options{Profile: "ideal"})
	var mu sync.Mutex
	var attempts []int
	var causes []error
	s := dial(t, b.URL(), b.Password(), webrepl.Options{ReconnectTimeout: 2 * time.Second,
		OnReconnecting: func(attempt int, cause error) {
			mu.Lock()
			attempts, causes = append(attempts, attempt), append(causes, cause)
			mu.Unlock()
		}})
	run(t, s, "x = 1")
	// A board that is there: reconnecting is quick and nothing is told.
	if err := s.Reconnect(ctxFor(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	told := len(attempts)
	mu.Unlock()
	if told != 0 {
		t.Errorf("a quick reconnection told %d attempts", told)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := s.Exec(ctxFor(t, time.Minute), []byte("print(x)"), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "gave up after") || !errors.Is(err, webrepl.ErrUnreachable) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Exec on a board that is gone: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	// A refused first attempt ends before its notice is due, so telling
	// starts at attempt 1 or 2 and goes on one by one.
	if len(attempts) < 2 || attempts[0] > 2 {
		t.Fatalf("attempts told: %v", attempts)
	}
	for i, a := range attempts {
		if a != attempts[0]+i {
			t.Errorf("attempts told: %v, want consecutive", attempts)
			break
		}
	}
	if causes[len(causes)-1] == nil || !errors.Is(causes[len(causes)-1], webrepl.ErrUnreachable) {
		t.Errorf("last cause told: %v", causes[len(causes)-1])
	}
}

// Right after its link dropped, a board may still turn the reconnection
// away as busy: it frees its single client slot only once it notices the
// drop (docs/protocol/webrepl.md §1.6). Such a quick reconnection is not
// told; one that stays busy past busyQuiet is.
func TestReconnectTurnedAwayAsBusyBriefly(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name      string
		releaseAt int // the attempt after whose failure the slot is freed
	}{{"briefly", 1}, {"long", 5}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := simtest.Start(t, sim.Options{Profile: "ideal"})
			proxy := simtest.NewCutProxy(t, strings.TrimSuffix(strings.TrimPrefix(b.URL(), "ws://"), "/"))
			var mu sync.Mutex
			var told []int
			var holder *webrepl.Session
			busyFailures := 0
			s, err := webrepl.Dial(ctxFor(t, time.Minute), proxy.URL(), webrepl.Options{
				Password: b.Password(),
				OnReconnecting: func(attempt int, cause error) {
					mu.Lock()
					told = append(told, attempt)
					mu.Unlock()
				},
				// The slot is freed when the log says the board turned
				// attempt releaseAt away.
				Logf: func(format string, args ...any) {
					line := fmt.Sprintf(format, args...)
					if !strings.Contains(line, "reconnect attempt") {
						return
					}
					if !strings.Contains(line, "turned this connection away") {
						t.Errorf("a reconnect attempt failed otherwise: %s", line)
					}
					busyFailures++
					if busyFailures == c.releaseAt {
						holder.Close()
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			run(t, s, "x = 1")
			proxy.Cut()
			holder = dial(t, b.URL(), b.Password(), webrepl.Options{})
			if out, _ := run(t, s, "print('back')"); out != "back\n" {
				t.Fatalf("after the reconnection: %q", out)
			}
			mu.Lock()
			defer mu.Unlock()
			if busyFailures != c.releaseAt {
				t.Fatalf("%d attempts turned away as busy, want %d", busyFailures, c.releaseAt)
			}
			switch {
			case c.releaseAt == 1 && len(told) != 0:
				t.Errorf("a reconnection turned away as busy once told attempts %v", told)
			case c.releaseAt > 1 && (len(told) == 0 || told[len(told)-1] != c.releaseAt+1):
				// The attempts go on after busyQuiet (2 s): the last one,
				// after 3 s of back-off, is told.
				t.Errorf("a reconnection turned away as busy for %d attempts told %v", c.releaseAt, told)
			}
		})
	}
}
