package webrepl

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"webrepl-kernel/sim"
)

// countingWriter counts what it is given and signals the first write.
type countingWriter struct {
	mu    sync.Mutex
	n     int
	first chan struct{}
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == 0 && len(p) > 0 {
		close(w.first)
	}
	w.n += len(p)
	return len(p), nil
}

func (w *countingWriter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// A program that ignores Ctrl-C while it prints (an ESP32 that never polls
// its socket) is watched after its caller gave up: its output goes nowhere,
// operations fail in one line with ErrStillRunning, and after the reset
// button the session reconnects and works.
func TestGivenUpProgramIsWatchedUntilTheBoardResets(t *testing.T) {
	t.Parallel()
	b := startBoard(t, sim.Options{ResetAfter: time.Hour, DeafWhilePrinting: true})
	s := dialBoard(t, b, Options{})
	w := &countingWriter{first: make(chan struct{})}
	userCtx, pressCtrlC := context.WithCancel(testCtx(t))
	defer pressCtrlC()
	done := make(chan error, 1)
	go func() {
		_, err := s.ExecInterruptible(userCtx, []byte("while True:\n    print('flood ' * 10)"), w, 500*time.Millisecond)
		done <- err
	}()
	<-w.first
	pressCtrlC()
	if err := <-done; err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want the give-up", err)
	}
	after := w.count()
	if !s.StillRunning() {
		t.Fatal("StillRunning is false for a board that is still printing")
	}
	out := &countingWriter{first: make(chan struct{})}
	_, err := s.Exec(testCtx(t), []byte("print('hi')"), out)
	var sr *StillRunningError
	if !errors.Is(err, ErrStillRunning) || !errors.As(err, &sr) || sr.Discarded == 0 || out.count() != 0 {
		t.Fatalf("Exec while the board prints: %v (output %d bytes), want ErrStillRunning with discarded output", err, out.count())
	}
	assertOneLine(t, err)
	if w.count() != after {
		t.Errorf("the abandoned Exec's writer got %d bytes after it returned", w.count()-after)
	}

	b.PressReset()
	deadline := time.Now().Add(time.Minute)
	for {
		buf := &countingWriter{first: make(chan struct{})}
		_, err := s.Exec(testCtx(t), []byte("print('back')"), buf)
		if err == nil {
			break
		}
		// Until the reset drops the link, the watch still runs.
		if !errors.Is(err, ErrStillRunning) || time.Now().After(deadline) {
			t.Fatalf("after the reset: %v", err)
		}
	}
	if s.StillRunning() || !s.RAMLost() {
		t.Errorf("after the reset: StillRunning %v, RAMLost %v", s.StillRunning(), s.RAMLost())
	}
	if out, _ := execString(t, s, "print(1 + 1)"); out != "2\n" {
		t.Errorf("after the reset: %q", out)
	}
}
