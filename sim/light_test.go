package sim

// The light sensor of docs/protocol/simulator.md §2: ADC pin 34 follows the
// PWM duty of the LED on GPIO 2, on a real simulated board.

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// run executes code in the raw REPL and returns what it printed; an
// exception fails the test.
func (c *testClient) run(code string) string {
	c.t.Helper()
	c.sendText(code + "\x04")
	reply := c.expectText("\x04>")
	out, ok := strings.CutPrefix(reply, "OK")
	if !ok {
		c.t.Fatalf("ran %q: reply %q does not start with OK", code, reply)
	}
	stdout, stderr, _ := strings.Cut(strings.TrimSuffix(out, "\x04>"), "\x04")
	if stderr != "" {
		c.t.Fatalf("ran %q: %s", code, stderr)
	}
	return stdout
}

// lightLevel reads the light sensor 16 times and returns the mean level as
// a fraction of full scale, checking that its noise stays within ±1%.
func lightLevel(t *testing.T, c *testClient) float64 {
	t.Helper()
	fields := strings.Fields(c.run("print(*[light.read_u16() for _ in range(16)])"))
	if len(fields) != 16 {
		t.Fatalf("got %d readings, want 16: %q", len(fields), fields)
	}
	lo, hi, sum := 1.0, 0.0, 0.0
	for _, f := range fields {
		v, err := strconv.Atoi(f)
		if err != nil || v < 0 || v > 65535 {
			t.Fatalf("reading %q is not a 16-bit value", f)
		}
		level := float64(v) / 65535
		lo, hi, sum = min(lo, level), max(hi, level), sum+level
	}
	if hi-lo > 0.021 {
		t.Fatalf("the readings spread %.4f, more than the ±1%% noise: %q", hi-lo, fields)
	}
	return sum / 16
}

func TestLightSensorFollowsTheLED(t *testing.T) {
	t.Parallel()
	b, c := startReal(t, realOptions("esp32"))
	c.enterRaw()
	c.run("from machine import ADC, PWM, Pin\nlight = ADC(Pin(34))\nlight.atten(ADC.ATTN_11DB)")
	near := func(what string, want float64) {
		t.Helper()
		if got := lightLevel(t, c); got < want-0.011 || got > want+0.011 {
			t.Fatalf("%s: the light sensor reads %.4f of full scale, want %.4f ± 0.01", what, got, want)
		}
	}
	near("no LED driven", 0.02)
	c.run("led = PWM(Pin(2), freq=1000, duty=0)")
	near("duty 0", 0.02)
	for _, duty := range []int{1023, 256, 768, 512} {
		c.run(fmt.Sprintf("led.duty(%d)", duty))
		if st, ok := b.PWM(2); !ok || st.Duty != duty || st.Freq != 1000 {
			t.Fatalf("after duty(%d) the board reports PWM %+v (ok %v)", duty, st, ok)
		}
		near(fmt.Sprintf("duty %d", duty), 0.02+0.96*float64(duty)/1023)
	}
	c.run("led.duty_u16(16384)")
	st, _ := b.PWM(2)
	if st.Duty != 16384*1023/65535 {
		t.Fatalf("after duty_u16(16384) the board reports duty %d", st.Duty)
	}
	near("duty_u16 16384", 0.02+0.96*float64(st.Duty)/1023)
	c.run("led.deinit()")
	if _, ok := b.PWM(2); ok {
		t.Fatalf("the board still reports PWM on GPIO 2 after deinit")
	}
	near("after deinit", 0.02)
}
