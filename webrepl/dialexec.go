// DialExec: a connection whose first program rides in the frame that
// enters the raw REPL, so that connecting and running a small first cell
// takes one round trip after login (and, on an ESP32 before 1.28, one
// drain of its input, docs/protocol/webrepl.md §5.1).

package webrepl

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// rawPasteRequest asks the raw REPL for raw-paste mode (§4.1).
const rawPasteRequest = "\x05A\x01"

// helloRing is the budget of the whole first frame: the smallest input ring
// of any board (ESP8266, ESP32 before 1.15: 255 bytes, §5.1), which must
// take it in one drain, since the board is not yet known when it is sent.
const helloRing = 255

// ErrFirstProgramUnseen: the board did not answer the connection's first
// program in time, so the caller's program that was sent with it may have
// run (or may yet run) without its output being seen; the connection went
// on the careful way (§3.7) and is usable.
var ErrFirstProgramUnseen = errors.New("the board was busy when the connection began: the program sent with it may have run without its output being seen")

// FirstProgram is what DialExec runs once connected, as Exec (Marks nil) or
// ExecMarked would. Started, if not nil, is called with the Session once it
// is connected, before the program's output is read, so that the caller can
// answer the program's input() (SendInput) or interrupt it.
type FirstProgram struct {
	Code    []byte
	Stdout  io.Writer
	Marks   *Marks
	Started func(*Session)
}

// aheadProgram is a first program on its way with the connect (connect,
// writeHello): sent once it went out in the first frame, lost once the
// board did not answer that frame in time.
type aheadProgram struct {
	code       []byte
	sent, lost bool
}

// fits reports whether the program rides in a first frame of frame bytes
// so far: the whole frame, with the raw-paste request and the program's
// 0x04, within helloRing. The program must hold no byte from 0x01 to 0x04,
// which a board without raw-paste would take as commands in its standard
// raw REPL (§3.3); such a program, or a larger one, goes once the board has
// answered, as Exec sends it.
func (a *aheadProgram) fits(frame int) bool {
	if frame+len(rawPasteRequest)+len(a.code)+1 > helloRing {
		return false
	}
	for _, c := range a.code {
		if c >= 0x01 && c <= 0x04 {
			return false
		}
	}
	return true
}

// DialExec is Dial, then first run as Exec (or ExecMarked) runs it, with the
// program sent in the same frame as the keys that enter the raw REPL when
// it fits the smallest input ring with them (255 bytes in all); otherwise it
// is sent once the connection is up. The board's identity (Board) is asked
// after the program when this is the board's first connection since it
// started.
//
// A Dial failure returns a nil Session. Otherwise the Session is connected
// and the program's Result and error are as Exec's; ErrFirstProgramUnseen
// if the board was too busy to answer in time, and the program may have
// run unseen.
func DialExec(ctx context.Context, url string, opts Options, first FirstProgram) (*Session, *Result, error) {
	if first.Marks != nil {
		if err := first.Marks.check(); err != nil {
			return nil, nil, err
		}
	}
	if err := checkControlBytes(first.Code, 0x03, 0x04); err != nil {
		return nil, nil, err
	}
	ahead := &aheadProgram{code: first.Code}
	s, info, err := dial(ctx, url, opts, ahead)
	if err != nil {
		return nil, nil, err
	}
	if ahead.lost {
		return s, nil, fmt.Errorf("connecting to %s: %w", s.url, ErrFirstProgramUnseen)
	}
	if first.Started != nil {
		first.Started(s)
	}
	if !ahead.sent {
		res, err := s.exec(ctx, first.Code, first.Stdout, first.Marks)
		return s, res, err
	}
	sentOn := s.currentLink()
	var res *Result
	err = s.withReady(ctx, func(ctx context.Context, l *link) error {
		if l != sentOn {
			return fmt.Errorf("%w just after connecting, with the first program on its way: it may have run unseen", ErrLinkLost)
		}
		var err error
		res, err = s.execMarked(ctx, l, first.Code, first.Stdout, s.opts.Pacing, first.Marks, sendHow{ahead: len(first.Code) + 1})
		var dropped *droppedError
		if errors.As(err, &dropped) {
			res = nil
			if dropped.unacknowledged {
				return err // sent again below, as Exec does
			}
			return s.afterDrop(ctx, dropped)
		}
		if err != nil || !info.identityPending {
			return err
		}
		if err := s.askIdentity(ctx, l, &info); err != nil {
			return err
		}
		s.setIdentity(info)
		return nil
	})
	var dropped *droppedError
	if errors.As(err, &dropped) {
		s.logf("webrepl: the link dropped before the board acknowledged the first program (%v); sending it again", dropped.cause)
		res, err = s.exec(ctx, first.Code, first.Stdout, first.Marks)
	}
	return s, res, err
}

// setIdentity records an identity learnt after install (DialExec).
func (s *Session) setIdentity(info connectInfo) {
	s.mu.Lock()
	s.port = info.port
	s.board.Port, s.board.Build, s.board.Machine, s.board.UniqueID = info.port, info.build, info.machine, info.uniqueID
	s.board.Pending = false
	s.mu.Unlock()
	s.logf("webrepl: the board is %s, %s", or(info.port, "of an unknown port"), or(info.machine, "an unknown machine"))
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
