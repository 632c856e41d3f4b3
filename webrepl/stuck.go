package webrepl

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// A program that did not stop after Ctrl-C (an ESP32 in a loop that never
// reaches its socket poll, docs/protocol/webrepl.md §3.5) still owns the
// board when its caller gives up on it. The session then keeps the link
// and watches it: the board's output is read and discarded (so memory stays
// bounded and the board is never blocked on a full socket), and every
// operation sends Ctrl-C once more and fails with ErrStillRunning if the
// program has not ended within stuckWait (one that merely stops late, or
// needed that Ctrl-C, lets the operation go on), until the program's reply
// ends (it stopped by itself, or a Ctrl-C was read at last: the raw prompt
// came) or the link drops (the board was reset). A watched board that goes
// quiet for stuckResend is sent Ctrl-C again: it may have left the loop
// that kept it from reading.

// stuckWait is how long an operation waits for a watched program to end
// before it fails with ErrStillRunning.
const stuckWait = 2 * time.Second

// stuckResend is how long the watched board must be quiet before another
// Ctrl-C goes out.
const stuckResend = time.Second

// stuckWatch is the state of a watched program; the session holds one
// while a program runs on after its caller gave up.
type stuckWatch struct {
	link      *link
	discarded atomic.Int64  // output bytes read and dropped
	done      chan struct{} // closed when the watch ended
}

// StillRunningError is returned (matching ErrStillRunning) while a given-up
// program still runs.
type StillRunningError struct {
	Discarded int64 // output bytes of the program dropped so far
}

func (e *StillRunningError) Error() string {
	return fmt.Sprintf("%v (%s of its output discarded so far)", ErrStillRunning, byteCount(e.Discarded))
}

func (e *StillRunningError) Unwrap() error { return ErrStillRunning }

// byteCount says n in B, KB or MB.
func byteCount(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// StillRunning reports whether a program the caller gave up on still runs
// on the board (operations then fail with ErrStillRunning).
func (s *Session) StillRunning() bool {
	s.mu.Lock()
	w := s.stuck
	s.mu.Unlock()
	return w != nil
}

// awaitStuck waits up to stuckWait for a watched program to end: nil when
// none runs (any more), else ErrStillRunning (or ctx's error).
func (s *Session) awaitStuck(ctx context.Context) error {
	s.mu.Lock()
	w := s.stuck
	s.mu.Unlock()
	if w == nil {
		return nil
	}
	_ = w.link.sendInterrupt() // the caller wants the board: ask once more
	t := time.NewTimer(stuckWait)
	defer t.Stop()
	select {
	case <-w.done:
		return nil
	case <-t.C:
		return &StillRunningError{Discarded: w.discarded.Load()}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// watchStuck starts watching link l, whose program p did not stop, until
// its reply ends, the link drops or the session closes.
func (s *Session) watchStuck(l *link, p *replyParser) {
	w := &stuckWatch{link: l, done: make(chan struct{})}
	s.mu.Lock()
	if s.link != l {
		s.mu.Unlock()
		return
	}
	s.stuck = w
	s.mu.Unlock()
	go func() {
		defer close(w.done)
		ended := s.followStuck(l, p, w)
		s.mu.Lock()
		s.stuck = nil
		// Ctrl-Cs sent while it ran may be read at the prompt: make the
		// next operation start from a known raw REPL state.
		s.needSync = true
		s.mu.Unlock()
		s.logf("webrepl: the program that did not stop after Ctrl-C %s; %s of its output discarded", ended, byteCount(w.discarded.Load()))
	}()
}

// followStuck reads l until p's reply ends, discarding the output, and
// says how the watch ended.
func (s *Session) followStuck(l *link, p *replyParser, w *stuckWatch) string {
	discard := func(b []byte) { w.discarded.Add(int64(len(b))) }
	for !p.done() {
		ctx, cancel := context.WithTimeout(s.closedCtx, stuckResend)
		b, err := l.repl.take(ctx)
		cancel()
		switch {
		case err == nil:
			n := p.feed(b, discard)
			l.repl.unread(b[n:])
		case s.isClosed():
			return "was left running: the session closed"
		case errors.Is(err, context.DeadlineExceeded):
			if l.sendInterrupt() != nil {
				return "was left behind: the link to the board dropped (reset?)"
			}
		default:
			return "was left behind: the link to the board dropped (reset?)"
		}
	}
	p.flushHeld(discard)
	return "ended"
}
