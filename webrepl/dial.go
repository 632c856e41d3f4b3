// Dialing: Dial and each connection's way from the WebSocket to the raw
// REPL prompt (login §1.5, the raw REPL §3.7), then installing it in the
// Session.

package webrepl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Dial connects to the board at url ("ws://192.168.4.1:8266/", "host:port"
// or "host"), logs in and brings the board to the raw REPL (§3.7), however it
// was left: running main.py, in friendly paste mode, or holding half-typed
// input. Failures are ErrUnreachable, ErrNotWebREPL, ErrBusy (after retrying it within ConnectTimeout
// when Options.AfterHandOver), ErrRebooting (after retrying it within ConnectTimeout),
// ErrWrongPassword or a *TimeoutError naming the step.
func Dial(ctx context.Context, url string, opts Options) (*Session, error) {
	s, _, err := dial(ctx, url, opts, nil)
	return s, err
}

// dial is Dial, with the caller's first program riding along when ahead is
// not nil (DialExec); it also returns what connect learnt.
func dial(ctx context.Context, url string, opts Options, ahead *aheadProgram) (*Session, connectInfo, error) {
	u, err := NormalizeURL(url)
	if err != nil {
		return nil, connectInfo{}, err
	}
	s := &Session{url: u, opts: opts.withDefaults()}
	s.closedCtx, s.closeNow = context.WithCancel(context.Background())
	l, info, err := s.connect(ctx, nil, ahead)
	if errors.Is(err, ErrRebooting) || errors.Is(err, ErrBusy) && s.opts.AfterHandOver {
		l, info, err = s.connectWhileRebooting(ctx, err, ahead)
	}
	if err != nil {
		s.closeNow()
		return nil, info, err
	}
	if err := s.install(l, info, false); err != nil {
		return nil, info, err
	}
	return s, info, nil
}

// connectWhileRebooting retries a board that closed the connection before
// the handshake (rebooting), or that turned us away just after a hand-over
// (Options.AfterHandOver), with back-off, within ConnectTimeout.
func (s *Session) connectWhileRebooting(ctx context.Context, first error, ahead *aheadProgram) (*link, connectInfo, error) {
	rctx, cancel := context.WithTimeout(ctx, s.opts.ConnectTimeout)
	defer cancel()
	err, backoff := first, 100*time.Millisecond
	for attempt := 2; ; attempt++ {
		s.logf("webrepl: %v; retrying (attempt %d)", err, attempt)
		if sleepCtx(rctx, backoff) != nil {
			if ctx.Err() != nil {
				return nil, connectInfo{}, ctx.Err()
			}
			return nil, connectInfo{}, fmt.Errorf("%w; still so after %s", err, s.opts.ConnectTimeout)
		}
		backoff = min(backoff*2, 2*time.Second)
		if s.opts.OnReconnecting != nil {
			s.opts.OnReconnecting(attempt, err)
		}
		var l *link
		var info connectInfo
		l, info, err = s.connect(rctx, nil, ahead)
		if !errors.Is(err, ErrRebooting) && !(errors.Is(err, ErrBusy) && s.opts.AfterHandOver) {
			return l, info, err
		}
	}
}

// connect dials, logs in, reaches the raw REPL, reads the firmware version
// and the record in the board's RAM (the session marker and, once asked, the
// identity, boardinfo.go). accepted, if not nil, is called once the board
// has accepted the WebSocket.
//
// ahead, if not nil, is a program the caller wants to run first
// (connectAhead): it rides in the frame that enters the raw REPL when it
// fits, and the board runs it right after the first program. Then the
// identity of a board met for the first time since it started is left to
// the caller (info.identityPending), since the board is busy with the
// program.
//
// On a serial port there is no login: the port is opened (exclusively),
// and the version comes from the raw REPL; once the board is identified,
// the link watches for boot text (a reset), serial.go.
func (s *Session) connect(ctx context.Context, accepted func(), ahead *aheadProgram) (*link, connectInfo, error) {
	var info connectInfo
	serial := IsSerial(s.url)
	var l *link
	var err error
	if serial {
		l, err = dialSerial(s.url, &s.stats)
	} else {
		l, err = dialLink(ctx, s.url, &s.stats)
	}
	if err != nil {
		return nil, info, err
	}
	if accepted != nil {
		accepted()
	}
	fail := func(err error) (*link, connectInfo, error) {
		l.close()
		return nil, info, err
	}
	if !serial {
		if err := login(ctx, l, s.opts.Password); err != nil {
			return fail(err)
		}
		// GET_VER goes first: the WebREPL layer answers it on its own
		// channel while the REPL works through the keys and the first
		// program. (A serial port has no such channel: the version comes
		// from the raw REPL below.)
		if err := askVersion(l); err != nil {
			return fail(err)
		}
	}
	s.rawPaste.Store(int32(rawPasteUnknown))
	// Until this board says what it is, its programs get the safe window
	// (Options.Window): the port learnt on an earlier connection may be
	// another board's (one replaced at the same address), and the identity
	// program is longer than the smallest input ring.
	s.mu.Lock()
	s.port = ""
	s.mu.Unlock()
	began := time.Now()
	hello, err := s.fastEnter(ctx, l, &info, min(helloWait, s.opts.ConnectTimeout/2), ahead)
	if err != nil {
		return fail(err)
	}
	if !hello.ok {
		// The fast way found no answer: the careful one (§3.7), within what
		// is left of ConnectTimeout. A program that rode with the first one
		// may have run meanwhile, unseen (aheadProgram.lost). The board may
		// yet answer that first frame, behind the banner the careful way
		// waits for, so the first program goes again with a new nonce, and
		// all before it is discarded as in the fast way.
		if ahead != nil && ahead.sent {
			ahead.sent, ahead.lost = false, true
		}
		if err := s.enterRawREPLWithin(ctx, l, s.opts.ConnectTimeout-time.Since(began)); err != nil {
			return fail(err)
		}
		s.rawPaste.Store(int32(rawPasteUnknown))
		// The board has just answered, so it gets helloWait again.
		if hello, err = s.fastEnter(ctx, l, &info, helloWait, nil); err != nil {
			return fail(err)
		}
		if !hello.ok {
			return fail(&TimeoutError{Step: "waiting for the first program's answer after the raw REPL's banner"})
		}
	}
	if serial {
		info.firmware, err = s.readVersionREPL(ctx, l)
	} else {
		info.firmware, err = s.readVersion(ctx, l)
	}
	if err != nil {
		return fail(err)
	}
	switch {
	case hello.exc != nil:
		s.logf("webrepl: cannot leave a marker in the board's RAM (%s: %s); resets will go unnoticed", hello.exc.Type, hello.exc.Message)
	case info.readRecord(string(hello.out)):
	case ahead != nil && ahead.sent:
		info.identityPending = true
	default:
		if err := s.askIdentity(ctx, l, &info); err != nil {
			return fail(err)
		}
	}
	l.armResetWatch()
	return l, info, nil
}

// helloWait bounds fastEnter's wait for the answer to its first program
// (and so does half of ConnectTimeout): a board at any prompt answers
// within a round trip and a drain, one interrupted mid-program after its
// traceback. A board that has not answered by then gets the careful
// sequence (enterRawREPL) in the rest of ConnectTimeout.
const helloWait = 3 * time.Second

// helloReply is what fastEnter learnt: ok if the first program's answer
// came back whole, with its output after the nonce line and the exception
// it raised, if any.
type helloReply struct {
	ok  bool
	out []byte
	exc *Exception
}

// fastEnter brings the board to the raw REPL and runs the first program in
// one frame, without waiting for any quiet period: Ctrl-C twice (a program
// stops, a friendly or raw line is cleared, paste and raw-paste modes end,
// §3.7), Ctrl-A (the raw REPL, §3.1), the raw-paste request (§4.1) and the
// program with its end, 0x04. The whole frame is smaller than any board's
// input ring (§5.1), so it arrives whole in one drain. The program
// (py/hello.py) prints a random nonce first, built from two halves so that
// no echo of its text holds it, so what came before the nonce (a late
// traceback, banners, prompts, the raw-paste answer and window grants, or
// "OK" where the board took the program in standard raw mode) is provably
// not its output and is discarded; what follows, up to the raw REPL's
// 0x04, is. The board then sits at the raw prompt.
//
// A board that does not answer within helloWait (a program that catches
// KeyboardInterrupt, a link so slow) leaves ok false for the careful
// sequence; only a lost link or the end of ctx is an error.
func (s *Session) fastEnter(ctx context.Context, l *link, info *connectInfo, wait time.Duration, ahead *aheadProgram) (helloReply, error) {
	nonce := newNonce()
	info.epoch = nonce
	if err := s.writeHello(ctx, l, helloProgram(nonce[:8], nonce[8:]), ahead); err != nil {
		return helloReply{}, stepError(ctx, err, "sending the first program")
	}
	const step = "waiting for the answer to the first program"
	hctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	giveUp := func(err error, what string, seen []byte) (helloReply, error) {
		if errors.Is(err, ErrLinkLost) || ctx.Err() != nil {
			return helloReply{}, stepError(ctx, err, step)
		}
		s.logf("webrepl: %s within %s (the board sent %.120q); resynchronising the careful way", what, wait, seen)
		return helloReply{}, nil
	}
	w := windowScanner{pattern: []byte(nonce)}
	stale := 0 // bytes before the nonce
	for {
		b, err := l.repl.take(hctx)
		if err != nil {
			return giveUp(err, "no answer to the first program", w.seen)
		}
		if end := w.scan(b); end >= 0 {
			l.repl.unread(b[end:])
			stale = w.total - (len(b) - end) - len(nonce)
			break
		}
	}
	if n := stale; n > 0 {
		s.logf("webrepl: discarded %d bytes before the first program's output: %.120q", n, w.seen)
	}
	// The rest of the nonce's line, the output, 0x04, the exception, 0x04,
	// the prompt; a marker, a port name and a build take a few hundred
	// bytes at most, and what is longer is cut (maxSeen).
	out, n, err := l.repl.readUntil(hctx, []byte{0x04})
	if err != nil {
		return giveUp(err, "no end of the first program's output", out)
	}
	out = out[:min(n, len(out))]
	exc, n, err := l.repl.readUntil(hctx, []byte{0x04})
	if err != nil {
		return giveUp(err, "no end of the first program's reply", exc)
	}
	exc = exc[:min(n, len(exc))]
	if seen, _, err := l.repl.readUntil(hctx, []byte{'>'}); err != nil {
		return giveUp(err, "no raw prompt after the first program", seen)
	}
	r := helloReply{ok: true, out: bytes.TrimLeft(bytes.TrimSuffix(out, []byte{0x04}), "\r\n")}
	if exc = bytes.TrimSuffix(exc, []byte{0x04}); len(bytes.TrimSpace(exc)) > 0 {
		r.exc = parseException(exc)
	}
	return r, nil
}

func (s *Session) install(l *link, info connectInfo, reconnect bool) error {
	s.mu.Lock()
	if s.isClosed() {
		s.mu.Unlock()
		l.close()
		return ErrClosed
	}
	lost := s.epoch != "" && info.epoch != s.epoch
	told := s.resetTold
	s.link, s.firmware, s.epoch, s.ramLost, s.needSync, s.resetTold = l, info.firmware, info.epoch, lost, false, false
	s.port = info.port
	s.board = BoardInfo{URL: s.url, Firmware: info.firmware, Port: info.port, Build: info.build,
		Machine: info.machine, UniqueID: info.uniqueID, Boot: info.epoch, Pending: info.identityPending}
	s.mu.Unlock()
	s.stats.connects.Add(1)
	l.startKeepAlive(s.opts.KeepAlive)
	s.logf("webrepl: connected to %s (%s, MicroPython %s, raw-paste window %s, RAM lost: %v)", s.url, info.port, info.firmware, s.windowFor(info.port, info.firmware), lost)
	if reconnect && s.opts.OnReconnect != nil {
		s.opts.OnReconnect(lost && !told)
	}
	return nil
}

const (
	passwordPrompt = "Password: "
	loginOK        = "\r\nWebREPL connected\r\n>>> "
	loginDenied    = "\r\nAccess denied\r\n"
	rawBanner      = "raw REPL; CTRL-B to exit\r\n>"
)

// dialAndLogin opens a connection and logs in; the board is left in whatever
// REPL mode it was in, with the text after the login answer still unread.
func dialAndLogin(ctx context.Context, wsURL, password string, stats *statCounters) (*link, error) {
	if IsSerial(wsURL) {
		return dialSerial(wsURL, stats)
	}
	l, err := dialLink(ctx, wsURL, stats)
	if err != nil {
		return nil, err
	}
	if err := login(ctx, l, password); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

// login answers the password prompt (§1.5).
func login(ctx context.Context, l *link, pw string) error {
	step := "waiting for the Password: prompt"
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	got, n, err := l.repl.readUntil(sctx, []byte(passwordPrompt))
	cancel()
	if err != nil {
		if errors.Is(err, ErrLinkLost) {
			switch {
			case n == 0 && l.cleanEnd:
				// Upgrade, then a close with no frame at all: how WebREPL
				// turns away a second client (docs/protocol/webrepl.md §1.6).
				return fmt.Errorf("%w (%s accepted the WebSocket and closed it at once)", ErrBusy, l.host)
			case n == 0:
				return fmt.Errorf("%w: %s sent data that is not WebSocket frames after the handshake (%v)", ErrNotWebREPL, l.host, l.cause)
			}
			return fmt.Errorf("%w: the board closed the connection before asking for the password (it sent %.40q)", ErrNotWebREPL, got)
		}
		return stepError(ctx, err, step)
	}
	if strings.ContainsAny(pw, "\r\n") {
		return fmt.Errorf("%w: the password contains a line break", ErrWrongPassword)
	}
	// The CR alone ends the attempt; a CR LF would feed a stray LF to the REPL.
	if err := l.writeText([]byte(pw + "\r")); err != nil {
		return err
	}
	step = "waiting for the answer to the password"
	sctx, cancel = context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	// Two windows over the answer, never the whole of it: a peer that
	// floods here costs neither memory nor rescanning (and take checks the
	// deadline before the data).
	ok, denied := windowScanner{pattern: []byte(loginOK)}, windowScanner{pattern: []byte(loginDenied)}
	for {
		b, err := l.repl.take(sctx)
		if err != nil {
			if errors.Is(err, ErrLinkLost) {
				return fmt.Errorf("the board closed the connection during login: %w", err)
			}
			return stepError(ctx, err, step)
		}
		okEnd, deniedEnd := ok.scan(b), denied.scan(b)
		switch {
		case okEnd >= 0 && (deniedEnd < 0 || okEnd < deniedEnd):
			l.repl.unread(b[okEnd:])
			return nil
		case deniedEnd >= 0:
			return fmt.Errorf("%w for %s", ErrWrongPassword, l.host)
		}
	}
}

// writeHello sends the keys to the raw REPL and the first program: in one
// frame, or under PacingPaced as the caller paces its programs (frames of
// ChunkSize bytes, ChunkGap apart) and in standard raw mode, without the
// raw-paste request. The caller's first program (ahead) rides behind when
// it fits (aheadProgram.fits), except on a serial line: there the firmware
// version is asked by a program once the first has answered (no GET_VER
// channel), which the caller's must not precede, and a round trip costs
// milliseconds.
//
// On a serial line the keys go first and the rest once the raw REPL's
// banner is back (or serialBannerWait has passed): the unix port loses what
// arrives with the Ctrl-A that leaves its friendly REPL, as it switches its
// terminal's modes (pyexec.c, pyexec_friendly_repl and pyexec_raw_repl;
// ports/unix/unix_mphal.c, mp_hal_stdio_mode_raw/orig; observed on realmp
// over a pseudo-terminal). A serial round trip costs milliseconds; bytes
// behind the raw prompt are kept there.
func (s *Session) writeHello(ctx context.Context, l *link, program []byte, ahead *aheadProgram) error {
	keys := []byte{0x03, 0x03, 0x01}
	var rest []byte
	if s.opts.Pacing != PacingPaced {
		rest = append(rest, rawPasteRequest...)
	}
	rest = append(append(rest, program...), 0x04)
	if s.opts.Pacing != PacingPaced && ahead != nil && !IsSerial(s.url) && ahead.fits(len(keys)+len(rest)) {
		rest = append(append(rest, rawPasteRequest...), ahead.code...)
		rest = append(rest, 0x04)
		ahead.sent = true
		s.logf("webrepl: the first program rides with the connect (%d bytes in one frame)", len(keys)+len(rest))
	}
	if IsSerial(s.url) {
		if err := l.writeText(keys); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, serialBannerWait)
		_, _, err := l.repl.readUntil(wctx, []byte(rawBanner))
		cancel()
		if err != nil && (errors.Is(err, ErrLinkLost) || ctx.Err() != nil) {
			return err
		}
		keys = nil
	}
	burst := append(keys, rest...)
	if s.opts.Pacing != PacingPaced {
		return l.writeText(burst)
	}
	for off := 0; off < len(burst); off += s.opts.ChunkSize {
		if off > 0 {
			if err := sleepCtx(ctx, s.opts.ChunkGap); err != nil {
				return err
			}
		}
		if err := l.writeText(burst[off:min(off+s.opts.ChunkSize, len(burst))]); err != nil {
			return err
		}
	}
	return nil
}

// serialBannerWait bounds writeHello's wait for the raw REPL's banner on a
// serial line; a board that has not answered by then (busy in a program)
// gets the rest anyway, and fastEnter's wait decides.
const serialBannerWait = time.Second

// enterRawREPL is §3.7: Ctrl-C twice, drain, Ctrl-A, wait for the banner and
// its '>'; repeat until the connect deadline.
func (s *Session) enterRawREPL(ctx context.Context, l *link) error {
	return s.enterRawREPLWithin(ctx, l, s.opts.ConnectTimeout)
}

// enterRawREPLWithin is enterRawREPL within limit.
func (s *Session) enterRawREPLWithin(ctx context.Context, l *link, limit time.Duration) error {
	rctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	const step = "waiting for the raw REPL prompt (the board did not answer Ctrl-C and Ctrl-A; is a program running without ever sleeping?)"
	for attempt := 1; ; attempt++ {
		if err := l.writeText([]byte{0x03}); err != nil {
			return err
		}
		if err := sleepCtx(rctx, 100*time.Millisecond); err != nil {
			return stepError(ctx, err, step)
		}
		if err := l.writeText([]byte{0x03}); err != nil {
			return err
		}
		drained, n, err := l.repl.drainQuiet(rctx, 200*time.Millisecond, 2*time.Second)
		if n > 0 {
			s.logf("webrepl: discarded %d bytes while resynchronising: %.120q", n, drained)
		}
		if err != nil {
			return stepError(ctx, err, step)
		}
		if err := l.writeText([]byte{0x01}); err != nil {
			return err
		}
		actx, acancel := context.WithTimeout(rctx, 2*time.Second)
		_, _, err = l.repl.readUntil(actx, []byte(rawBanner))
		acancel()
		if err == nil {
			return nil
		}
		if errors.Is(err, ErrLinkLost) || rctx.Err() != nil {
			return stepError(ctx, err, step)
		}
		s.logf("webrepl: no raw REPL banner after attempt %d, retrying", attempt)
	}
}

// drainQuiet discards input until nothing arrived for quiet, or for at most
// limit in all. It returns the first maxSeen bytes (for the log) and how
// many it discarded.
func (s *byteStream) drainQuiet(ctx context.Context, quiet, limit time.Duration) ([]byte, int, error) {
	var head []byte
	n := 0
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		qctx, cancel := context.WithTimeout(ctx, quiet)
		b, err := s.take(qctx)
		cancel()
		n += len(b)
		if room := maxSeen - len(head); room > 0 {
			head = append(head, b[:min(room, len(b))]...)
		}
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				return head, n, nil
			}
			return head, n, err
		}
	}
	return head, n, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
