package webrepl

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

type rawPasteSupport int32

const (
	rawPasteUnknown rawPasteSupport = iota
	rawPasteYes
	rawPasteNo
)

// Session is a logged-in connection to one board, kept in the raw REPL.
type Session struct {
	url  string
	opts Options

	// opMu serialises everything that talks to the raw REPL or the file
	// channel; Interrupt and SendInput bypass it on purpose.
	opMu sync.Mutex

	mu       sync.Mutex
	link     *link
	firmware Version
	port     string // os.uname().sysname at connect, "" if unknown
	board    BoardInfo
	epoch    string // marker this session left in the board's RAM
	ramLost  bool
	needSync bool // the raw REPL state is unknown (an operation was abandoned)
	// resetTold: the caller was told the board resets (ErrProgramExited),
	// so the reconnection that finds it reset does not tell OnReconnect.
	resetTold bool
	// stuck: a program the caller gave up on still runs (stuck.go).
	stuck *stuckWatch

	rawPaste atomic.Int32 // rawPasteSupport of the current connection
	phase    atomic.Int32 // execPhase of the running Exec

	closedCtx context.Context
	closeNow  context.CancelFunc
	stats     statCounters
}

type execPhase int32

const (
	phaseIdle execPhase = iota
	phaseSending
	phaseRunning
)

// URL is the normalised board URL.
func (s *Session) URL() string { return s.url }

// Firmware is the MicroPython version the board reported at connect.
func (s *Session) Firmware() Version {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firmware
}

// Board is what the current connection learnt about the board.
func (s *Session) Board() BoardInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.board
}

// RAMLost reports whether the last (re)connection found that the board had
// reset since the connection before it.
func (s *Session) RAMLost() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ramLost
}

// Stats returns what crossed the link so far, over all connections.
func (s *Session) Stats() Stats { return s.stats.snapshot() }

// Connected reports whether the current connection is up.
func (s *Session) Connected() bool {
	l := s.currentLink()
	return l != nil && !l.isDone()
}

func (s *Session) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

func (s *Session) currentLink() *link {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.link
}

func (s *Session) isClosed() bool { return s.closedCtx.Err() != nil }

// bind returns ctx, also cancelled when the Session is closed.
func (s *Session) bind(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.closedCtx, cancel)
	return ctx, func() { stop(); cancel() }
}

// closedOr maps any failure after Close to ErrClosed.
func (s *Session) closedOr(err error) error {
	if err != nil && s.isClosed() {
		return ErrClosed
	}
	return err
}

// withReady runs op under the operation lock with a connection at the raw
// REPL prompt; ctx also ends when the Session is closed, and any failure
// after Close becomes ErrClosed.
func (s *Session) withReady(ctx context.Context, op func(ctx context.Context, l *link) error) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	ctx, cancel := s.bind(ctx)
	defer cancel()
	l, err := s.ready(ctx)
	if err != nil {
		return s.closedOr(err)
	}
	return s.closedOr(op(ctx, l))
}

// ready returns a connection sitting at the raw REPL prompt, reconnecting
// or resynchronising first when needed.
func (s *Session) ready(ctx context.Context) (*link, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	if err := s.awaitStuck(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	l, needSync := s.link, s.needSync
	s.mu.Unlock()
	if l == nil || l.isDone() {
		if err := s.reconnectLocked(ctx); err != nil {
			return nil, err
		}
		return s.currentLink(), nil
	}
	if needSync {
		if err := s.enterRawREPL(ctx, l); err != nil {
			if !errors.Is(err, ErrLinkLost) {
				return nil, err
			}
			if err := s.reconnectLocked(ctx); err != nil {
				return nil, err
			}
			return s.currentLink(), nil
		}
		s.mu.Lock()
		s.needSync = false
		s.mu.Unlock()
	}
	return l, nil
}

func (s *Session) markNeedSync() {
	s.mu.Lock()
	s.needSync = true
	s.mu.Unlock()
}

// Interrupt sends Ctrl-C. It is safe while Exec runs: a program that is
// running ends with a KeyboardInterrupt exception; one still being sent is
// not started at all. A board busy in a loop that never sleeps does not
// read its socket (§3.5), so a caller may need to send it again.
func (s *Session) Interrupt() error {
	if s.isClosed() {
		return ErrClosed
	}
	l := s.currentLink()
	if l == nil {
		return &linkLostError{}
	}
	return l.sendInterrupt()
}

// SendInput sends console input for a running program (what input() reads;
// end a line with "\r"). It is refused unless Exec is running a program:
// while the program text is still being sent the bytes would become part of
// it, and at the raw prompt they would become the start of the next one.
func (s *Session) SendInput(p []byte) error {
	if s.isClosed() {
		return ErrClosed
	}
	switch execPhase(s.phase.Load()) {
	case phaseSending:
		return errors.New("cannot send input: the program is still being sent to the board")
	case phaseIdle:
		return errors.New("cannot send input: no program is running")
	}
	l := s.currentLink()
	if l == nil {
		return &linkLostError{}
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	// Small frames keep each burst far below the board's input queue (§5).
	for len(p) > 0 {
		n := min(len(p), 128)
		if err := l.writeLocked(false, p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// SoftReset restarts the board's interpreter (Ctrl-D at an empty raw
// prompt, §3.3), which drops the link; it reconnects. RAM state is lost.
func (s *Session) SoftReset(ctx context.Context) error {
	return s.withReady(ctx, func(ctx context.Context, l *link) error {
		// Ctrl-C first empties the raw input buffer, so the Ctrl-D meets an
		// empty line and means "soft reset".
		if err := l.writeText([]byte{0x03, 0x04}); err != nil {
			return err
		}
		return s.awaitResetAndReconnect(ctx, l, "soft reset")
	})
}

// SoftResetAndClose soft-resets the board (Ctrl-D at an empty raw prompt,
// as SoftReset) for a client that is leaving (a kernel that restarts), and
// closes the Session without waiting for the board to come back: it
// returns nil once the board dropped the link, which is how a soft reset
// shows (docs/protocol/webrepl.md §3.3). The board is in the raw REPL, so
// it runs boot.py but not main.py as it restarts. A board still running a
// given-up program (ErrStillRunning) is not reset. The Session is closed
// whatever the outcome.
func (s *Session) SoftResetAndClose(ctx context.Context) error {
	err := s.withReady(ctx, func(ctx context.Context, l *link) error {
		if err := l.writeText([]byte{0x03, 0x04}); err != nil {
			return err
		}
		select {
		case <-l.done:
			return nil
		case <-ctx.Done():
			return stepError(ctx, ctx.Err(), "waiting for the board to drop the link after the soft reset")
		}
	})
	_ = s.Close()
	if err != nil {
		return fmt.Errorf("soft reset: %w", err)
	}
	return nil
}

// HardReset runs machine.reset(), waits for the board to drop the link and
// reconnects once it has booted. RAM state is lost.
func (s *Session) HardReset(ctx context.Context) error {
	return s.withReady(ctx, func(ctx context.Context, l *link) error {
		res, err := s.execOn(ctx, l, resetProgram, nil, s.opts.Pacing)
		var dropped *droppedError
		switch {
		case err == nil && res.Exception != nil:
			return fmt.Errorf("hard reset: machine.reset() failed on the board: %s: %s", res.Exception.Type, res.Exception.Message)
		case err != nil && !errors.As(err, &dropped):
			return fmt.Errorf("hard reset: %w", err)
		}
		return s.awaitResetAndReconnect(ctx, l, "hard reset")
	})
}

// Close ends the connection cleanly (an empty WebSocket close frame, §1.4)
// so the board accepts the next client. A running Exec returns ErrClosed.
func (s *Session) Close() error {
	s.closeNow()
	s.mu.Lock()
	l := s.link
	s.mu.Unlock()
	if l != nil {
		l.close()
	}
	// An operation may be installing a new link right now; install sees the
	// closed context and closes it, and opMu waits for that to finish.
	s.opMu.Lock()
	s.mu.Lock()
	l = s.link
	s.mu.Unlock()
	s.opMu.Unlock()
	if l != nil {
		l.close()
	}
	return nil
}
