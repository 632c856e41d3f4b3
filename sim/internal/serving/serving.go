// Package serving holds the one "retry until the board serves again" loop
// of the tests: a board refuses or drops connections while it reboots and
// while its single client slot is still held by a client that left, and
// gives no other sign that it is ready. sim/simtest exports it to other
// packages (simtest.UntilServed); package sim's own tests, which simtest
// cannot serve without an import cycle, call it directly.
package serving

import (
	"context"
	"testing"
	"time"
)

// Until calls dial until it succeeds and returns what it made. Each attempt
// gets a context bounded by the overall timeout; the pause between attempts
// grows from 10 ms to 200 ms. The test stops with dial's last error if the
// board has not served within timeout. dial may stop the test itself on an
// error that waiting cannot cure.
func Until[T any](t testing.TB, timeout time.Duration, dial func(ctx context.Context) (T, error)) T {
	t.Helper()
	deadline := time.Now().Add(timeout)
	pause := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		v, err := dial(ctx)
		cancel()
		if err == nil {
			return v
		}
		if time.Now().Add(pause).After(deadline) {
			t.Fatalf("the board did not serve within %v (%d attempts): %v", timeout, attempt, err)
		}
		time.Sleep(pause)
		pause = min(2*pause, 200*time.Millisecond)
	}
}
