package webrepl

import (
	"context"
	"errors"
	"fmt"
)

// Errors a caller can test for with errors.Is. Each prints as one line a user
// can read.
var (
	// ErrWrongPassword: the board answered "Access denied".
	ErrWrongPassword = errors.New("wrong WebREPL password")
	// ErrBusy: the board upgraded the connection and closed it at once, which
	// is how WebREPL turns away a second client (docs/protocol/webrepl.md §1.6).
	// Our own processes hand the board over (package handover) before they
	// get here, so the other client is a foreign one.
	ErrBusy = errors.New("the board turned this connection away because another WebREPL client is connected " +
		"(Thonny, a browser WebREPL page, another machine or user): close that client, or press the board's reset button")
	// ErrRebooting: the TCP connection was closed before any HTTP answer,
	// which is what a board whose WebREPL server is not up yet does right
	// after a reset (firmware before 1.20 also turns a second client away
	// like this, §1.6). Dial retries it with back-off.
	ErrRebooting = errors.New("the board closed the connection before the WebSocket handshake: it is rebooting " +
		"(or, with firmware before 1.20, another WebREPL client is connected)")
	// ErrNotWebREPL: something answered, but not as a WebREPL server (for
	// example the plain HTML page a board serves to browsers, §1.3).
	ErrNotWebREPL = errors.New("not a WebREPL endpoint")
	// ErrUnreachable: nothing accepted the TCP connection.
	ErrUnreachable = errors.New("board unreachable")
	// ErrProgramExited: the program ended with sys.exit() (or SystemExit);
	// the board then soft-resets, so its RAM state is lost as well.
	ErrProgramExited = errors.New("the program called sys.exit(): the board soft-reset and its RAM state (variables, imports) is lost")
	// ErrBoardReset: the board reset while it was in use; RAM state is lost.
	ErrBoardReset = errors.New("the board reset: its RAM state (variables, imports) is lost")
	// ErrStillRunning: a program the caller gave up on (it did not stop
	// after Ctrl-C) still runs on the board; see Session.StillRunning.
	ErrStillRunning = errors.New("the board is still busy with a program that did not stop after Ctrl-C")
	// ErrLinkLost: the connection to the board dropped.
	ErrLinkLost = errors.New("link to the board lost")
	// ErrClosed: the Session was closed by its owner.
	ErrClosed = errors.New("webrepl session closed")
	// ErrNameTooLong: WebREPL's file protocol carries at most 63 bytes of
	// file name (§2.1); longer names are refused before anything is sent.
	ErrNameTooLong = errors.New("file name longer than 63 bytes (the WebREPL file protocol limit)")
	// ErrRawPasteUnsupported: PacingRawPaste was asked for but the board
	// (firmware before 1.14) does not offer raw-paste mode.
	ErrRawPasteUnsupported = errors.New("the board does not offer raw-paste mode (firmware before 1.14)")
	// ErrVerifyFailed: a file written with Put reads back differently.
	ErrVerifyFailed = errors.New("the file on the board does not match what was sent")
)

// TimeoutError reports which step of the protocol ran out of time. It
// matches context.DeadlineExceeded with errors.Is, and errors.As accepts
// both a *TimeoutError and a TimeoutError target.
type TimeoutError struct {
	Step string // "waiting for the Password: prompt", …
}

func (e TimeoutError) Error() string { return "timed out " + e.Step }

// Unwrap lets errors.Is(err, context.DeadlineExceeded) hold.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// As lets callers use a value target: var t TimeoutError; errors.As(err, &t).
func (e *TimeoutError) As(target any) bool {
	if t, ok := target.(*TimeoutError); ok {
		*t = *e
		return true
	}
	return false
}

// linkLostError is what every read and write sees once a connection ended.
type linkLostError struct{ cause error }

func (e *linkLostError) Error() string {
	if e.cause == nil {
		return ErrLinkLost.Error()
	}
	return fmt.Sprintf("%v: %v", ErrLinkLost, e.cause)
}

func (e *linkLostError) Is(target error) bool { return target == ErrLinkLost }
func (e *linkLostError) Unwrap() error        { return e.cause }

// stepError turns the end of a step's context into the error the caller
// should see: a TimeoutError naming the step when a deadline passed, the
// parent's own error when the caller cancelled, err itself otherwise.
func stepError(parent context.Context, err error, step string) error {
	if err == nil {
		return nil
	}
	var already *TimeoutError
	if errors.As(err, &already) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &TimeoutError{Step: step}
	}
	if errors.Is(err, context.Canceled) && parent.Err() != nil {
		return fmt.Errorf("%s: %w", step, parent.Err())
	}
	return err
}
