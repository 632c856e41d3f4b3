package webrepl_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
	"webrepl-kernel/webrepl"
)

// Right after a reset the board accepts connections and closes them before
// the handshake until it has booted: Dial says the board is rebooting and
// retries with back-off within ConnectTimeout, never "another client".
func TestDialWaitsForARebootingBoard(t *testing.T) {
	t.Parallel()
	b := simtest.Start(t, sim.Options{Profile: "ideal", BootDelay: 1500 * time.Millisecond})
	b.PressReset()
	s, err := webrepl.Dial(ctxFor(t, 2*time.Minute), b.URL(), webrepl.Options{Password: b.Password(), ConnectTimeout: time.Minute})
	if err != nil {
		t.Fatalf("Dial right after a reset: %v", err)
	}
	defer s.Close()
	if out, _ := run(t, s, "print(6 * 7)"); out != "42\n" {
		t.Fatalf("after the reboot: %q", out)
	}
}

func TestDialSaysTheBoardIsRebooting(t *testing.T) {
	t.Parallel()
	b := simtest.Start(t, sim.Options{Profile: "ideal", BootDelay: 20 * time.Second})
	b.PressReset()
	_, err := webrepl.Dial(ctxFor(t, 2*time.Minute), b.URL(), webrepl.Options{Password: b.Password(), ConnectTimeout: 500 * time.Millisecond})
	if !errors.Is(err, webrepl.ErrRebooting) || errors.Is(err, webrepl.ErrBusy) ||
		!strings.Contains(err.Error(), "rebooting") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v, want ErrRebooting", err)
	}
}
