// Reconnection: after a drop, a reset or on request, with back-off, and
// telling the caller as each attempt begins (Options.OnReconnecting).

package webrepl

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Reconnect drops the current connection if any and connects again, retrying
// with back-off (the board's listener comes back only after boot.py ran) for
// up to Options.ReconnectTimeout. RAMLost tells whether the board reset.
func (s *Session) Reconnect(ctx context.Context) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	ctx, cancel := s.bind(ctx)
	defer cancel()
	return s.closedOr(s.reconnectLocked(ctx))
}

func (s *Session) reconnectLocked(ctx context.Context) error {
	var cause error
	if old := s.currentLink(); old != nil {
		if old.isDone() {
			cause = old.cause
		}
		old.close()
	}
	return retryConnect(ctx, s.url, s.opts, cause, func(ctx context.Context, accepted func()) error {
		l, info, err := s.connect(ctx, accepted, nil)
		if err != nil {
			return err
		}
		return s.install(l, info, true)
	})
}

// reconnectingNotice is how long a first attempt to reconnect may wait for
// the board to accept the WebSocket before OnReconnecting is told: a board
// that is up accepts within milliseconds (the rest of a reconnection, login
// and the raw REPL, takes longer but says nothing about the board being
// gone), one that is gone or rebooting does not, and the caller can then
// say so within a second.
const reconnectingNotice = 600 * time.Millisecond

// busyQuiet is how long retries of a board that turned the connection
// away as busy stay untold, counted from the start of the reconnection. A
// board frees its single client slot only once it notices that the old
// connection ended (docs/protocol/webrepl.md §1.6), so right after our own
// link dropped it may still be held by that link: the board is there and
// the reconnection is quick, as the user sees it.
const busyQuiet = 2 * time.Second

// retryConnect calls connect until it succeeds, with back-off (the board's
// listener comes back only after boot.py ran), for up to
// opts.ReconnectTimeout. A wrong password or the end of ctx stops at once.
// opts.OnReconnecting is told as each attempt after the first begins, and
// for the first once it has waited reconnectingNotice for the board to
// accept (connect calls accepted then), so a quick reconnection of a board
// that is there stays silent. So do retries while every attempt so far was
// turned away as busy, until busyQuiet has passed (each such attempt is
// told then if it is still waiting for the board to accept).
func retryConnect(ctx context.Context, wsURL string, opts Options, cause error, connect func(ctx context.Context, accepted func()) error) error {
	rctx, cancel := context.WithTimeout(ctx, opts.ReconnectTimeout)
	defer cancel()
	start := time.Now()
	onlyBusy := true // every attempt so far was turned away as busy
	backoff := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		notice := time.Duration(0) // tell at once
		switch {
		case attempt == 1:
			notice = reconnectingNotice
		case onlyBusy:
			notice = max(busyQuiet-time.Since(start), 0)
		}
		err := attemptTold(rctx, attempt, cause, notice, opts.OnReconnecting, connect)
		cause = err
		if err == nil || errors.Is(err, ErrWrongPassword) || errors.Is(err, ErrClosed) || ctx.Err() != nil {
			return err
		}
		onlyBusy = onlyBusy && errors.Is(err, ErrBusy)
		if opts.Logf != nil {
			opts.Logf("webrepl: reconnect attempt %d: %v", attempt, err)
		}
		if sleepCtx(rctx, backoff) != nil {
			return fmt.Errorf("reconnecting to %s: gave up after %d attempts in %s: %w", wsURL, attempt, opts.ReconnectTimeout, err)
		}
		backoff = min(backoff*2, 3*time.Second)
	}
}

// attemptTold runs one attempt of retryConnect and tells tell about it as
// retryConnect promises: at once when notice is 0, else once the attempt
// has waited notice for the board to accept. tell is never running once it
// returns.
func attemptTold(ctx context.Context, attempt int, cause error, notice time.Duration, tell func(int, error), connect func(ctx context.Context, accepted func()) error) error {
	if tell == nil {
		return connect(ctx, nil)
	}
	if notice <= 0 {
		tell(attempt, cause)
		return connect(ctx, nil)
	}
	told := make(chan struct{})
	timer := time.AfterFunc(notice, func() {
		defer close(told)
		tell(attempt, cause)
	})
	var once sync.Once
	settle := func() {
		once.Do(func() {
			if !timer.Stop() {
				<-told // it fired: let the notice finish before going on
			}
		})
	}
	defer settle()
	return connect(ctx, settle)
}

func (s *Session) awaitResetAndReconnect(ctx context.Context, l *link, what string) error {
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	select {
	case <-l.done:
	case <-wctx.Done():
	}
	cancel()
	if !l.isDone() {
		s.markNeedSync()
		return stepError(ctx, context.DeadlineExceeded, "waiting for the board to restart after the "+what)
	}
	if err := s.reconnectLocked(ctx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !s.RAMLost() {
		return fmt.Errorf("%s: the board kept its RAM state, so it did not reset", what)
	}
	return nil
}
