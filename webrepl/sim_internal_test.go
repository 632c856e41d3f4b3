package webrepl

import (
	"context"
	"errors"
	"testing"
	"time"

	"webrepl-kernel/sim"
)

// A loop that never sleeps cannot see Ctrl-C over WebREPL (§3.5); the
// simulated user then presses reset, and Exec reports the lost RAM. The
// loop prints nothing the simulator would deliver, so the test watches the
// session's own phase to know the program is running.
func TestSimUninterruptibleLoop(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := sim.Start(ctx, sim.Options{DrainPeriod: 5 * time.Millisecond, ResetAfter: time.Second})
	if err != nil {
		t.Fatalf("starting the simulated board: %v", err)
	}
	defer b.Close()
	s, err := Dial(ctx, b.URL(), Options{Password: b.Password()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan error, 1)
	go func() {
		_, err := s.Exec(ctx, []byte("while True:\n pass\n"), nil)
		done <- err
	}()
	for execPhase(s.phase.Load()) != phaseRunning {
		select {
		case err := <-done:
			t.Fatalf("Exec ended early: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	if err := s.Interrupt(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrBoardReset) {
		t.Fatalf("err = %v, want ErrBoardReset", err)
	}
	if _, hard := b.Resets(); hard != 1 {
		t.Errorf("%d hard resets, want 1", hard)
	}
	res, err := s.Exec(ctx, []byte("print('rebooted')"), nil)
	if err != nil || res.Exception != nil {
		t.Errorf("after the reset: %v, %+v", err, res)
	}
}
