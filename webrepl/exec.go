package webrepl

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// droppedError: the connection ended while a program was being sent or run.
type droppedError struct {
	afterExit bool // both 0x04 seen, no prompt: sys.exit() (§3.2)
	// unacknowledged: the board never acknowledged the program (no "OK"
	// of the raw REPL, no end-of-data 0x04 of raw-paste, §3.2, §4.3), so
	// it did not start it and it can be sent again.
	unacknowledged bool
	cause          error
}

func (e *droppedError) Error() string { return e.cause.Error() }
func (e *droppedError) Unwrap() error { return e.cause }

// Exec runs code on the board and streams what it prints to stdout as it
// arrives (board CRLF turned into LF; bytes are passed on unchanged, use
// UTF8Writer for text). An uncaught exception is returned in the Result,
// parsed. A program ending in sys.exit() returns ErrProgramExited; one that
// resets the board ErrBoardReset; a link that drops mid-run ErrLinkLost.
// In each of those cases Exec has already reconnected when it could.
// Cancelling ctx interrupts the program (Ctrl-C) before Exec returns.
func (s *Session) Exec(ctx context.Context, code []byte, stdout io.Writer) (*Result, error) {
	return s.exec(ctx, code, stdout, nil)
}

// Marks are byte strings a program prints to frame its own output, so that
// nothing it prints can be taken for the raw REPL's end of output (a 0x04 in
// the program's output, docs/protocol/webrepl.md §3.9). The program prints
// Start before anything else, and End as the last thing it does; if it
// fails, it prints Error, its traceback (as sys.print_exception writes it),
// then End. Each mark must be text the program's output cannot contain
// (a random token), without 0x04, and none may contain another.
type Marks struct {
	Start, Error, End []byte
}

func (m Marks) check() error {
	all := [][]byte{m.Start, m.Error, m.End}
	for i, a := range all {
		if len(a) == 0 || bytes.IndexByte(a, 0x04) >= 0 {
			return errors.New("webrepl: each mark must be non-empty and hold no 0x04")
		}
		for j, b := range all {
			if i != j && bytes.Contains(a, b) {
				return errors.New("webrepl: no mark may contain another")
			}
		}
	}
	return nil
}

// ExecMarked is Exec for a program that frames its output with marks. Every
// byte the program prints before its End mark reaches stdout, 0x04 and
// "\x04>" included; the bytes of the marks do not. An exception the program
// reports between Error and End is the Result's Exception, 0x04 in its
// message included. An exception the raw REPL reports (before Start: the
// program never began; after End: an interrupt that came late) is the
// Result's Exception too.
func (s *Session) ExecMarked(ctx context.Context, code []byte, stdout io.Writer, marks Marks) (*Result, error) {
	if err := marks.check(); err != nil {
		return nil, err
	}
	return s.exec(ctx, code, stdout, &marks)
}

func (s *Session) exec(ctx context.Context, code []byte, stdout io.Writer, marks *Marks) (*Result, error) {
	var res *Result
	err := s.withReady(ctx, func(ctx context.Context, l *link) error {
		for attempt := 1; ; attempt++ {
			var err error
			res, err = s.execMarked(ctx, l, code, stdout, s.opts.Pacing, marks, sendHow{ahead: -1})
			var dropped *droppedError
			if !errors.As(err, &dropped) {
				return err
			}
			res = nil
			// A link that died unnoticed (between two programs, say) takes
			// the program nowhere: the board never acknowledged it, so
			// nothing of it ran. Send it once more on a new connection;
			// once, so that a board that drops every link is reported.
			if !dropped.unacknowledged || attempt > 1 || ctx.Err() != nil || s.isClosed() {
				return s.afterDrop(ctx, dropped)
			}
			s.logf("webrepl: the link dropped before the board acknowledged the program (%v); reconnecting to send it again", dropped.cause)
			if err := s.reconnectLocked(ctx); err != nil {
				return fmt.Errorf("%w before the board acknowledged the program, which did not run (%s); reconnecting failed: %w",
					ErrLinkLost, lostCause(dropped.cause), err)
			}
			l = s.currentLink()
		}
	})
	return res, err
}

// interruptResend is how often ExecInterruptible repeats its Ctrl-C: a board
// in a loop that never sleeps does not read its socket (§3.5), and a Ctrl-C
// that arrives before the program has started does nothing.
const interruptResend = time.Second

// ExecInterruptible is Exec for a caller whose ctx stands for "the user
// pressed Ctrl-C" rather than "give up now" (a command-line client). When ctx
// ends, the program is interrupted (Ctrl-C, re-sent every second) while its
// output keeps streaming, so it ends with a KeyboardInterrupt in the Result
// just as a local python would, and the board is left at its prompt. If the
// board has not stopped within grace of the first Ctrl-C, the run is
// abandoned as Exec abandons it on a cancelled ctx, and the error says so.
// A ctx that has already ended runs nothing.
func (s *Session) ExecInterruptible(ctx context.Context, code []byte, stdout io.Writer, grace time.Duration) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("not running the program: %w", err)
	}
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRun()
	finished := make(chan struct{})
	watcherDone := make(chan struct{})
	gaveUp := false // written by the watcher, read after watcherDone
	go func() {
		defer close(watcherDone)
		select {
		case <-finished:
			return
		case <-ctx.Done():
		}
		deadline := time.NewTimer(grace)
		defer deadline.Stop()
		resend := time.NewTicker(interruptResend)
		defer resend.Stop()
		for {
			// A failed send is not fatal: the link is down, so Exec ends
			// by itself, or else the deadline ends it.
			_ = s.Interrupt()
			select {
			case <-finished:
				return
			case <-deadline.C:
				gaveUp = true
				cancelRun()
				return
			case <-resend.C:
			}
		}
	}()
	res, err := s.Exec(runCtx, code, stdout)
	close(finished)
	<-watcherDone
	if gaveUp && err != nil {
		return res, fmt.Errorf("the board did not stop within %v of Ctrl-C: %w", grace, err)
	}
	return res, err
}

// afterDrop reconnects after a connection ended mid-program and tells the
// caller what happened to the board.
func (s *Session) afterDrop(ctx context.Context, d *droppedError) error {
	if s.isClosed() {
		return ErrClosed
	}
	if d.afterExit {
		// The program ended and the board soft-resets: nothing is left to
		// wait for, and a board that does not come back must not hold the
		// caller. The next operation reconnects (ready), and the reset it
		// then finds was reported here already.
		s.mu.Lock()
		s.resetTold = true
		s.mu.Unlock()
		return ErrProgramExited
	}
	rerr := s.reconnectLocked(ctx)
	switch {
	case d.unacknowledged && rerr == nil:
		return fmt.Errorf("%w again before the board acknowledged the program, which did not run (%s); reconnected", ErrLinkLost, lostCause(d.cause))
	case rerr != nil:
		return fmt.Errorf("%w while the program ran (%s); reconnecting failed: %w", ErrLinkLost, lostCause(d.cause), rerr)
	case s.RAMLost():
		return fmt.Errorf("%w (it dropped the link while the program ran)", ErrBoardReset)
	}
	return fmt.Errorf("%w while the program ran (%s); reconnected, the board kept its state but the program was interrupted", ErrLinkLost, lostCause(d.cause))
}

func lostCause(err error) string {
	var lost *linkLostError
	if errors.As(err, &lost) && lost.cause != nil {
		return lost.cause.Error()
	}
	return err.Error()
}

// runCapture runs a helper program and returns its output.
func (s *Session) runCapture(ctx context.Context, l *link, code []byte) ([]byte, *Exception, error) {
	var out bytes.Buffer
	res, err := s.execOn(ctx, l, code, &out, s.helperPacing())
	if err != nil {
		return nil, nil, err
	}
	return out.Bytes(), res.Exception, nil
}

// helperPacing is the pacing of the package's own programs: they are
// short, and a board without raw-paste still runs them even when the caller
// insists on raw-paste for its own programs.
func (s *Session) helperPacing() Pacing {
	if s.opts.Pacing == PacingRawPaste {
		return PacingAuto
	}
	return s.opts.Pacing
}

// checkControlBytes refuses bytes the raw REPL would take as commands.
func checkControlBytes(code []byte, lo, hi byte) error {
	for i, c := range code {
		if c >= lo && c <= hi {
			return fmt.Errorf("the program contains the control byte 0x%02x at offset %d, which the raw REPL cannot carry (write it as an escape such as \"\\x%02x\")", c, i, c)
		}
	}
	return nil
}

// execOn sends one of the package's own programs to a board sitting at the
// raw prompt and follows the reply to the next prompt. Paced, it goes in
// frames no larger than ownChunk, whatever ChunkSize the caller chose for
// its programs: it must arrive whole.
func (s *Session) execOn(ctx context.Context, l *link, code []byte, stdout io.Writer, pacing Pacing) (*Result, error) {
	return s.execMarked(ctx, l, code, stdout, pacing, nil, sendHow{ahead: -1, own: true})
}

// ownChunk bounds the paced frames of the package's own programs: under
// the smallest input ring (255 bytes, §5.1).
const ownChunk = DefaultChunkSize

// sendHow is how execMarked sends a program. ahead ≥ 0: the raw-paste
// request and that many bytes of the program and its 0x04 are on their way
// already (DialExec), and the board's answer to them is the next thing on
// the link. own: one of the package's programs (execOn).
type sendHow struct {
	ahead int
	own   bool
}

// execMarked runs a program that may frame its output (marks nil: it does
// not), sent as how says.
func (s *Session) execMarked(ctx context.Context, l *link, code []byte, stdout io.Writer, pacing Pacing, marks *Marks, how sendHow) (*Result, error) {
	sentAhead := how.ahead
	// Raw-paste ends data at 0x04 and aborts at 0x03; standard raw mode also
	// acts on 0x01 and 0x02 (§3.3, §4.3).
	if err := checkControlBytes(code, 0x03, 0x04); err != nil {
		return nil, err
	}
	if pacing == PacingPaced {
		if err := checkControlBytes(code, 0x01, 0x04); err != nil {
			return nil, err
		}
	}
	// Text the board printed unasked since the last program; with a program
	// sent ahead, what is buffered is already its answer and stays.
	if sentAhead < 0 {
		if early := l.repl.takeBuffered(); len(early) > 0 {
			s.unsolicited(early)
		}
	}
	s.phase.Store(int32(phaseSending))
	defer s.phase.Store(int32(phaseIdle))
	since := l.interrupts.Load()
	res := &Result{}
	p := replyParser{marks: marks}

	usePaste := sentAhead >= 0 || pacing == PacingRawPaste ||
		(pacing == PacingAuto && rawPasteSupport(s.rawPaste.Load()) != rawPasteNo)
	already := 0 // program bytes that went out with a refused raw-paste request
	if usePaste {
		offered, early, err := s.rawPasteSend(ctx, l, code, since, how)
		already = early
		if err != nil {
			return nil, s.sendFailure(ctx, l, err)
		}
		if offered {
			res.Pacing = PacingRawPaste
			p.state = replyStdout
		} else if pacing == PacingRawPaste {
			return nil, ErrRawPasteUnsupported
		} else if err := checkControlBytes(code, 0x01, 0x04); err != nil {
			return nil, err
		}
	}
	if res.Pacing != PacingRawPaste {
		res.Pacing = PacingPaced
		size := s.opts.ChunkSize
		if how.own {
			size = min(size, ownChunk)
		}
		interrupted, err := s.pacedSend(ctx, l, code, already, since, size)
		if err != nil {
			return nil, s.sendFailure(ctx, l, err)
		}
		if interrupted {
			// The Ctrl-C reached the raw prompt ahead of the rest of the
			// program: nothing ran. Report it the way the board reports an
			// interrupted raw-paste. Whether the Ctrl-C also emptied the
			// board's line is not sure: a board takes Ctrl-C out of band as
			// it reads its socket (docs/protocol/webrepl.md §3.5), and a
			// frame that arrived with it may reach the line after it. So
			// the next operation resynchronises (§3.7), whose Ctrl-A starts
			// the raw REPL afresh with an empty line.
			s.markNeedSync()
			text := "KeyboardInterrupt: \n"
			return &Result{Pacing: PacingPaced, Exception: &Exception{Type: "KeyboardInterrupt", Text: text}}, nil
		}
		p.state = replyWantOK
	}
	s.phase.Store(int32(phaseRunning))
	out := &lfWriter{w: stdout}
	if err := s.follow(ctx, l, &p, out, since); err != nil {
		return nil, err
	}
	out.flush()
	if len(p.skipped) > 0 {
		s.unsolicited(p.skipped)
	}
	if len(bytes.TrimSpace(p.framed)) > 0 {
		res.Exception = parseException(p.framed)
	} else if len(bytes.TrimSpace(p.exception)) > 0 {
		res.Exception = parseException(p.exception)
	}
	if out.err != nil {
		return res, fmt.Errorf("writing the program's output: %w", out.err)
	}
	return res, nil
}

func (s *Session) unsolicited(p []byte) {
	if s.opts.Unsolicited != nil {
		s.opts.Unsolicited(p)
		return
	}
	s.logf("webrepl: unsolicited output from the board: %.200q", p)
}

// sendFailure turns a failure while sending into the caller's error and
// leaves the session able to recover.
func (s *Session) sendFailure(ctx context.Context, l *link, err error) error {
	if errors.Is(err, ErrLinkLost) {
		return &droppedError{unacknowledged: true, cause: err}
	}
	s.markNeedSync()
	return stepError(ctx, err, "sending the program")
}

// follow reads the reply until the prompt. Cancelling ctx sends Ctrl-C and
// waits a little for the board to come back to its prompt.
func (s *Session) follow(ctx context.Context, l *link, p *replyParser, out *lfWriter, since int64) error {
	okCtx, okCancel := context.WithTimeout(ctx, 10*time.Second)
	defer okCancel()
	for !p.done() {
		wctx := ctx
		if p.state == replyWantOK {
			wctx = okCtx
		}
		b, err := l.repl.take(wctx)
		if err != nil {
			if errors.Is(err, ErrLinkLost) {
				p.flushHeld(out.write)
				out.flush()
				return &droppedError{afterExit: p.state == replyWantPrompt, unacknowledged: p.state == replyWantOK, cause: err}
			}
			if ctx.Err() != nil {
				return s.abandon(ctx, l, p, out, since)
			}
			p.flushHeld(out.write)
			out.flush()
			s.markNeedSync()
			return &TimeoutError{Step: "waiting for OK after sending the program"}
		}
		n := p.feed(b, out.write)
		l.repl.unread(b[n:])
	}
	return nil
}

// abandonGrace is how long abandon gives a running program to stop.
const abandonGrace = 5 * time.Second

// abandon: the caller gave up on a running program. Interrupt it and give
// the board a few seconds to print its KeyboardInterrupt and prompt, so the
// next command starts in step; otherwise resynchronise next time. A caller
// that already sent Ctrl-C during the run (Interrupt: the kernel's
// interrupt, ExecInterruptible) has spent its own grace period waiting for
// the board to stop, so the run ends now: the caller's budget is the one
// the user was told about (docs/protocol/webrepl.md §3.5).
func (s *Session) abandon(ctx context.Context, l *link, p *replyParser, out *lfWriter, since int64) error {
	cause := ctx.Err()
	if s.isClosed() {
		return ErrClosed
	}
	grace := abandonGrace
	if l.interrupts.Load() != since {
		grace = 0
		// What already arrived may hold the end of the reply.
		b := l.repl.takeBuffered()
		l.repl.unread(b[p.feed(b, out.write):])
	}
	gctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	for !p.done() && grace > 0 {
		if err := l.sendInterrupt(); err != nil {
			break
		}
		tctx, tcancel := context.WithTimeout(gctx, time.Second)
		for !p.done() {
			b, err := l.repl.take(tctx)
			if err != nil {
				break
			}
			n := p.feed(b, out.write)
			l.repl.unread(b[n:])
		}
		tcancel()
		if gctx.Err() != nil || l.isDone() {
			break
		}
	}
	if !p.done() {
		s.markNeedSync()
		if !l.isDone() {
			// It runs on: watch it rather than leave its output to the
			// next operation (stuck.go). The parser goes with it, so a
			// reply end split across reads is still found.
			out.flush()
			s.watchStuck(l, p)
			return fmt.Errorf("program interrupted: %w", cause)
		}
	}
	p.flushHeld(out.write)
	out.flush()
	return fmt.Errorf("program interrupted: %w", cause)
}

// pacedSend is the standard raw REPL with the §5.5 fallback pacing: frames
// of size bytes, ChunkGap apart, the final 0x04 riding in the last one.
//
// The first from bytes already went out (behind a refused raw-paste request).
func (s *Session) pacedSend(ctx context.Context, l *link, code []byte, from int, since int64, size int) (interrupted bool, err error) {
	payload := append(bytes.Clone(code), 0x04)
	for off := from; off < len(payload); off += size {
		if off > from || from > 0 {
			if err := sleepCtx(ctx, s.opts.ChunkGap); err != nil {
				return false, err
			}
		}
		sent, err := l.writeTextUnlessInterrupted(payload[off:min(off+size, len(payload))], since)
		if err != nil {
			return false, err
		}
		if !sent {
			return true, nil
		}
	}
	return false, nil
}

// rawPasteSend negotiates raw-paste mode (§4.1) and, if the board offers it,
// sends code under its flow control (§4.3). It returns offered=false with
// the board back at its raw prompt when the board declines.
//
// The board grants W bytes with every 0x01 (the greeting grants 2·W). At
// most 2·W−1 bytes are ever outstanding, counting the final 0x04, so a 255-
// byte input queue (ESP8266, ESP32 v1.14) cannot overflow (§4.4).
//
// Where the firmware is known to have raw-paste (GET_VER ≥ 1.14 and not
// refused on this connection) the request and the first window leave in one
// frame, without waiting for the answer: a small cell then costs one drain
// (one round trip) instead of two. The burst never exceeds what the board's
// input ring holds with the 3 request bytes (docs/protocol/webrepl.md §4.4,
// §5.1). If the board refuses after all, those bytes are already in its
// standard raw-REPL line, and early says how many so the caller goes on from
// there (standard raw mode ends the program at 0x04 just the same).
func (s *Session) rawPasteSend(ctx context.Context, l *link, code []byte, since int64, how sendHow) (offered bool, early int, err error) {
	sentAhead, policy := how.ahead, s.sendWindow(how.own)
	payload := append(bytes.Clone(code), 0x04)
	request := []byte(rawPasteRequest)
	first, sentOK := sentAhead, true
	if sentAhead < 0 {
		first = s.pipelinedBurst(code, len(payload), policy)
		sentOK, err = l.writeTextUnlessInterrupted(append(request, payload[:first]...), since)
		if err != nil {
			return false, 0, err
		}
	}
	if !sentOK {
		first = 0
		// A Ctrl-C went out before the request: nothing was sent; the
		// board is at its raw prompt, so ask the plain way.
		if err := l.writeText(request); err != nil {
			return false, 0, err
		}
	}
	nctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	var acc []byte
	for {
		b, err := l.repl.take(nctx)
		if err != nil {
			return false, 0, stepError(ctx, err, "waiting for the board's answer to raw-paste mode")
		}
		acc = append(acc, b...)
		if i := bytes.Index(acc, []byte("R\x01")); i >= 0 {
			s.skippedBefore(acc[:i])
			l.repl.unread(acc[i+2:])
			break
		}
		if i := bytes.Index(acc, []byte("R\x00")); i >= 0 {
			// Understood but refused; a '>' follows.
			s.skippedBefore(acc[:i])
			l.repl.unread(acc[i+2:])
			if _, _, err := l.repl.readUntil(nctx, []byte(">")); err != nil {
				return false, 0, stepError(ctx, err, "waiting for the raw prompt after raw-paste was refused")
			}
			s.rawPaste.Store(int32(rawPasteNo))
			return false, first, nil
		}
		if i := bytes.Index(acc, []byte(rawBanner)); i >= 0 {
			// Firmware before 1.14 took the bytes as raw input and
			// restarted the raw REPL on the Ctrl-A.
			l.repl.unread(acc[i+len(rawBanner):])
			s.rawPaste.Store(int32(rawPasteNo))
			return false, first, nil
		}
		// None of the answers yet: keep only what could be the start of
		// one, so a peer sending something else costs no memory.
		if keep := len(rawBanner) - 1; len(acc) > 4*keep {
			s.skippedBefore(acc[:len(acc)-keep])
			acc = append([]byte(nil), acc[len(acc)-keep:]...)
		}
	}
	s.rawPaste.Store(int32(rawPasteYes))
	wb, err := l.repl.readFull(nctx, 2)
	if err != nil {
		return true, 0, stepError(ctx, err, "waiting for the raw-paste window size")
	}
	window := int(binary.LittleEndian.Uint16(wb))
	if window == 0 {
		return true, 0, errors.New("the board announced a raw-paste window of 0 bytes")
	}
	cancel()

	granted, sent := window, first
	// Bytes of the granted credit kept unused, so at most 2·W−1 are ever
	// outstanding (see Options.Window).
	reserve := 1
	if policy == WindowFull {
		reserve = 0
	}
	ended := false // the board sent its 0x04
	apply := func(b []byte) {
		for i, c := range b {
			switch c {
			case 0x01:
				granted += window
			case 0x04:
				ended = true
				l.repl.unread(b[i+1:])
				return
			default:
				s.unsolicited(b[i : i+1])
			}
		}
	}
	const flowStep = "waiting for raw-paste flow control from the board"
	for sent < len(payload) && !ended {
		apply(l.repl.takeBuffered())
		if ended {
			break
		}
		avail := granted - reserve - sent
		if avail <= 0 {
			fctx, fcancel := context.WithTimeout(ctx, 10*time.Second)
			b, err := l.repl.take(fctx)
			fcancel()
			if err != nil {
				return true, 0, stepError(ctx, err, flowStep)
			}
			apply(b)
			continue
		}
		n := min(avail, window, len(payload)-sent)
		ok, err := l.writeTextUnlessInterrupted(payload[sent:sent+n], since)
		if err != nil {
			return true, 0, err
		}
		if !ok {
			break // a Ctrl-C went out: the board aborts and answers 0x04
		}
		sent += n
	}
	if ended {
		// The board ended early (a syntax error found before the end). It
		// now discards input until 0x04 or 0x03; if our final 0x04 or an
		// interrupt already went out, that has released it.
		if sent < len(payload) {
			if _, err := l.writeTextUnlessInterrupted([]byte{0x04}, since); err != nil {
				return true, 0, err
			}
		}
		return true, 0, nil
	}
	// Wait for the board's 0x04 acknowledging the end of data, skipping the
	// last window grants.
	actx, acancel := context.WithTimeout(ctx, 10*time.Second)
	defer acancel()
	for !ended {
		b, err := l.repl.take(actx)
		if err != nil {
			return true, 0, stepError(ctx, err, "waiting for the board to acknowledge the end of the program")
		}
		apply(b)
	}
	return true, 0, nil
}

// pipelinedBurst is how many payload bytes may ride with the raw-paste
// request (0: wait for the answer first). Only on firmware known to offer
// raw-paste, and only for text without 0x01/0x02, which a refusing board's
// standard raw REPL would take as commands (§3.3).
func (s *Session) pipelinedBurst(code []byte, payloadLen int, policy Window) int {
	if rawPasteSupport(s.rawPaste.Load()) == rawPasteNo {
		return 0
	}
	s.mu.Lock()
	v := s.firmware
	s.mu.Unlock()
	if !v.AtLeast(1, 14, 0) || bytes.IndexByte(code, 0x01) >= 0 || bytes.IndexByte(code, 0x02) >= 0 {
		return 0
	}
	// The greeting grants 2·W (W = 128 on every port, §4.2); the ring
	// holds 259 bytes on an ESP32 from 1.15 on, 255 elsewhere, and must
	// also take the 3 request bytes.
	credit, ring := 2*rawPasteW-1, 255
	if policy == WindowFull {
		credit, ring = 2*rawPasteW, 259
	}
	return min(payloadLen, credit, ring-3)
}

// rawPasteW is the raw-paste window every port announces (§4.2, §9).
const rawPasteW = 128

func (s *Session) skippedBefore(b []byte) {
	if len(b) > 0 {
		s.unsolicited(b)
	}
}
