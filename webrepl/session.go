package webrepl

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Pacing chooses how program text is sent to the board (§5.5).
type Pacing int

const (
	// PacingAuto uses raw-paste mode when the board offers it, else PacingPaced.
	PacingAuto Pacing = iota
	// PacingRawPaste uses raw-paste mode's flow control (§4); boards before
	// 1.14 are refused with ErrRawPasteUnsupported.
	PacingRawPaste
	// PacingPaced sends ChunkSize bytes every ChunkGap in the standard raw
	// REPL, slow enough for the ESP32's 259-byte input queue (§5).
	PacingPaced
)

func (p Pacing) String() string {
	switch p {
	case PacingAuto:
		return "auto"
	case PacingRawPaste:
		return "raw-paste"
	case PacingPaced:
		return "paced"
	}
	return fmt.Sprintf("Pacing(%d)", int(p))
}

// ParsePacing reads "auto", "raw-paste" or "paced".
func ParsePacing(s string) (Pacing, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "auto", "":
		return PacingAuto, nil
	case "raw-paste", "rawpaste", "raw_paste":
		return PacingRawPaste, nil
	case "paced":
		return PacingPaced, nil
	}
	return PacingAuto, fmt.Errorf("unknown pacing %q (want auto, raw-paste or paced)", s)
}

// Defaults from docs/protocol/webrepl.md §5.5 and §1.7.
const (
	DefaultChunkSize        = 200
	DefaultChunkGap         = 100 * time.Millisecond
	DefaultKeepAlive        = 30 * time.Second
	DefaultConnectTimeout   = 15 * time.Second
	DefaultReconnectTimeout = 30 * time.Second
	stepTimeout             = 5 * time.Second
)

// Options configure a Session. The zero value of every field but Password
// picks the default.
type Options struct {
	Password  string
	Pacing    Pacing
	ChunkSize int           // paced mode, default 200 (docs/protocol/webrepl.md §5.5)
	ChunkGap  time.Duration // paced mode, default 100ms
	// FullRawPasteWindow lets 2·W bytes be outstanding in raw-paste mode
	// instead of 2·W−1. Only for a board whose console input ring holds at
	// least 2·W bytes: ESP32 with MicroPython 1.15 or later (259 bytes,
	// docs/protocol/webrepl.md §4.4). On ESP8266 and ESP32 1.14 (255 bytes) the
	// 256th byte can be dropped, so the default keeps one byte in hand.
	// Why it matters: the board grants a window per W bytes consumed, so
	// with 2·W−1 outstanding only W new bytes can move per ESP32 drain
	// (~80 ms); with 2·W, both windows move and throughput doubles.
	FullRawPasteWindow bool
	// Window chooses the raw-paste window: WindowAuto (default) takes 2·W
	// on an ESP32 with MicroPython 1.15 or later, identified at connect, and
	// 2·W−1 elsewhere; WindowFull and WindowSafe force one or the other.
	// FullRawPasteWindow is the older spelling of WindowFull.
	Window Window
	Logf   func(format string, args ...any) // optional debug log

	// KeepAlive: an empty text frame is sent after this long without any
	// write. Default 30s; negative disables it.
	KeepAlive time.Duration
	// ConnectTimeout bounds reaching the raw REPL after login (§3.7).
	ConnectTimeout time.Duration
	// ReconnectTimeout bounds Reconnect and the reconnection after a drop.
	ReconnectTimeout time.Duration
	// OnReconnect, if set, is called after every successful reconnection;
	// ramLost tells whether the board reset since the previous connection
	// (its variables and imports are gone). It runs inside the operation
	// that reconnected, so it must not call Exec, the file methods or the
	// resets (Interrupt and SendInput are fine).
	OnReconnect func(ramLost bool)
	// OnReconnecting, if set, is called as each attempt to reach the board
	// again begins: attempt counts from 1; cause is why the previous
	// attempt failed, or why the link ended before the first one (nil if
	// unknown). It is called for the reconnections after a drop or a reset
	// and for Dial's retries of a board that is still rebooting, inside the
	// operation that reconnects, with the same restriction as OnReconnect.
	// It lets a caller say at once that the board is being waited for,
	// rather than after ReconnectTimeout.
	OnReconnecting func(attempt int, cause error)
	// ConsoleChunkSize and ConsoleChunkGap pace what a Console sends: at
	// most ConsoleChunkSize bytes per ConsoleChunkGap, defaults 32 bytes
	// per 100ms. Single keystrokes are never delayed; a paste is spread
	// out so an ESP32's friendly REPL, which echoes each byte as a frame,
	// keeps up and drops nothing (docs/protocol/webrepl.md §5.1).
	ConsoleChunkSize int
	ConsoleChunkGap  time.Duration

	// Unsolicited, if set, receives text the board printed while no
	// program was running (timer output, notices about rejected clients),
	// when the next operation starts. Same restriction as OnReconnect.
	Unsolicited func(p []byte)
}

func (o Options) withDefaults() Options {
	if o.ChunkSize <= 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.ChunkGap <= 0 {
		o.ChunkGap = DefaultChunkGap
	}
	if o.ConsoleChunkSize <= 0 {
		o.ConsoleChunkSize = DefaultConsoleChunkSize
	}
	if o.ConsoleChunkGap <= 0 {
		o.ConsoleChunkGap = DefaultConsoleChunkGap
	}
	if o.KeepAlive == 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.ReconnectTimeout <= 0 {
		o.ReconnectTimeout = DefaultReconnectTimeout
	}
	return o
}

// Window is the raw-paste window policy (docs/protocol/webrepl.md §4.4).
type Window int

const (
	WindowAuto Window = iota // by the board identified at connect
	WindowFull               // 2·W outstanding
	WindowSafe               // 2·W−1 outstanding
)

func (w Window) String() string {
	switch w {
	case WindowFull:
		return "full"
	case WindowSafe:
		return "safe"
	}
	return "auto"
}

// ParseWindow reads "auto", "full" or "safe".
func ParseWindow(s string) (Window, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "auto", "":
		return WindowAuto, nil
	case "full":
		return WindowFull, nil
	case "safe":
		return WindowSafe, nil
	}
	return WindowAuto, fmt.Errorf("unknown window %q (want auto, full or safe)", s)
}

// fullWindowFor is the window policy applied to a board: only an ESP32
// from 1.15 on has the 259-byte ring that holds 2·W bytes; ESP8266, ESP32
// up to 1.14 (255 bytes) and anything unidentified keep one byte in hand
// (docs/protocol/webrepl.md §4.4, §5.1, §5.3).
func (s *Session) fullWindowFor(port string, v Version) Window {
	switch {
	case s.opts.Window == WindowFull || s.opts.FullRawPasteWindow:
		return WindowFull
	case s.opts.Window == WindowSafe:
		return WindowSafe
	case port == "esp32" && v.AtLeast(1, 15, 0):
		return WindowFull
	}
	return WindowSafe
}

// RawPasteWindow is the window policy in use on the current connection
// (WindowFull or WindowSafe) and the port the board named at connect.
func (s *Session) RawPasteWindow() (Window, string) {
	s.mu.Lock()
	port, v := s.port, s.firmware
	s.mu.Unlock()
	return s.fullWindowFor(port, v), port
}

// Version is a MicroPython release as reported by GET_VER (§2.5).
type Version struct{ Major, Minor, Micro int }

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Micro) }

// AtLeast reports whether v is the given release or a later one.
func (v Version) AtLeast(major, minor, micro int) bool {
	if v.Major != major {
		return v.Major > major
	}
	if v.Minor != minor {
		return v.Minor > minor
	}
	return v.Micro >= micro
}

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

// connectInfo is what a fresh connection learnt about the board.
type connectInfo struct {
	firmware Version
	epoch    string
	port     string // os.uname().sysname, "" if unknown
	build    string // os.uname().version
	machine  string // os.uname().machine
	uniqueID string // machine.unique_id(), hex
}

// BoardInfo is what the current connection learnt about the board, for a
// caller that tells the user which board it talks to and notices when that
// changes (a reset, another board at the same address, new firmware).
type BoardInfo struct {
	URL      string
	Firmware Version // GET_VER (docs/protocol/webrepl.md §2.5)
	Port     string  // os.uname().sysname: "esp32", "esp8266"; "" if the board has no os.uname
	Build    string  // os.uname().version, e.g. "v1.27.0 on 2025-12-09"; "" if unknown
	Machine  string  // os.uname().machine, e.g. "Generic ESP32 module with ESP32"; "" if unknown
	UniqueID string  // machine.unique_id() in hex (on ESP boards the MAC); "" if the board has none
	// Boot changes whenever the board resets: a marker this client left
	// in the board's RAM, compared between connections.
	Boot string
}

// SameBoard reports whether b and o describe the same physical board as far
// as can be told: not if their unique ids differ, nor their ports; nor
// their machine names under the same firmware (a firmware update may
// rename the machine, so then the name is not compared). A board flashed
// with new firmware is the same board.
func (b BoardInfo) SameBoard(o BoardInfo) bool {
	switch {
	case b.UniqueID != "" && o.UniqueID != "" && b.UniqueID != o.UniqueID:
		return false
	case b.Port != o.Port:
		return false
	case b.Machine != o.Machine && b.SameFirmware(o):
		return false
	}
	return true
}

// SameFirmware reports whether b and o run the same firmware build.
func (b BoardInfo) SameFirmware(o BoardInfo) bool {
	return b.Firmware == o.Firmware && b.Build == o.Build
}

// String names the board in one line: port, firmware, unique id, e.g.
// "esp32, MicroPython 1.27.0, id 240ac45e1a7c".
func (b BoardInfo) String() string {
	var parts []string
	if b.Port != "" {
		parts = append(parts, b.Port)
	}
	parts = append(parts, "MicroPython "+b.Firmware.String())
	if b.UniqueID != "" {
		parts = append(parts, "id "+b.UniqueID)
	}
	return strings.Join(parts, ", ")
}

// Dial connects to the board at url ("ws://192.168.4.1:8266/", "host:port"
// or "host"), logs in and brings the board to the raw REPL (§3.7), however it
// was left: running main.py, in friendly paste mode, or holding half-typed
// input. Failures are ErrUnreachable, ErrNotWebREPL, ErrBusy, ErrRebooting (after retrying it within ConnectTimeout),
// ErrWrongPassword or a *TimeoutError naming the step.
func Dial(ctx context.Context, url string, opts Options) (*Session, error) {
	u, err := NormalizeURL(url)
	if err != nil {
		return nil, err
	}
	s := &Session{url: u, opts: opts.withDefaults()}
	s.closedCtx, s.closeNow = context.WithCancel(context.Background())
	l, info, err := s.connect(ctx, nil)
	if errors.Is(err, ErrRebooting) {
		l, info, err = s.connectWhileRebooting(ctx, err)
	}
	if err != nil {
		s.closeNow()
		return nil, err
	}
	if err := s.install(l, info, false); err != nil {
		return nil, err
	}
	return s, nil
}

// connectWhileRebooting retries a board that closed the connection before
// the handshake (rebooting) with back-off, within ConnectTimeout.
func (s *Session) connectWhileRebooting(ctx context.Context, first error) (*link, connectInfo, error) {
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
		l, info, err = s.connect(rctx, nil)
		if !errors.Is(err, ErrRebooting) {
			return l, info, err
		}
	}
}

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

// connect dials, logs in, reaches the raw REPL, reads the firmware version
// and looks for this session's marker in the board's RAM. accepted, if not
// nil, is called once the board has accepted the WebSocket.
func (s *Session) connect(ctx context.Context, accepted func()) (*link, connectInfo, error) {
	var info connectInfo
	l, err := dialLink(ctx, s.url, &s.stats)
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
	if err := login(ctx, l, s.opts.Password); err != nil {
		return fail(err)
	}
	if err := s.enterRawREPL(ctx, l); err != nil {
		return fail(err)
	}
	if info.firmware, err = s.readVersion(ctx, l); err != nil {
		return fail(err)
	}
	s.rawPaste.Store(int32(rawPasteUnknown))
	if err = s.probeBoard(ctx, l, &info); err != nil {
		return fail(err)
	}
	return l, info, nil
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
		Machine: info.machine, UniqueID: info.uniqueID, Boot: info.epoch}
	s.mu.Unlock()
	s.stats.connects.Add(1)
	l.startKeepAlive(s.opts.KeepAlive)
	s.logf("webrepl: connected to %s (%s, MicroPython %s, raw-paste window %s, RAM lost: %v)", s.url, info.port, info.firmware, s.fullWindowFor(info.port, info.firmware), lost)
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

// enterRawREPL is §3.7: Ctrl-C twice, drain, Ctrl-A, wait for the banner and
// its '>'; repeat until the connect deadline.
func (s *Session) enterRawREPL(ctx context.Context, l *link) error {
	rctx, cancel := context.WithTimeout(ctx, s.opts.ConnectTimeout)
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

// probeBoard leaves a random marker in the board's RAM (in sys.modules, so
// the user's globals stay clean) or reads the one already there: a marker
// that changed between two connections means the board reset in between.
// It also asks what the board is: os.uname() (its sysname names the port,
// which with GET_VER picks the raw-paste window, Options.Window; version
// and machine tell firmware builds and boards apart) and
// machine.unique_id(). A board without them (the unix port has neither)
// answers "?" for each. The program binds no names in the user's globals.
func (s *Session) probeBoard(ctx context.Context, l *link, info *connectInfo) error {
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	candidate := hex.EncodeToString(raw[:])
	info.epoch = candidate
	// Two short programs, each well under the 255-byte input ring of an
	// ESP8266, so that they arrive whole however the caller paces its own
	// programs (docs/protocol/webrepl.md §5.1).
	out, exc, err := s.runCapture(ctx, l, probeProgram(candidate))
	if err != nil {
		return fmt.Errorf("checking the board's state after login: %w", err)
	}
	if exc != nil {
		s.logf("webrepl: cannot leave a marker in the board's RAM (%s: %s); resets will go unnoticed", exc.Type, exc.Message)
		return nil
	}
	id, exc, err := s.runCapture(ctx, l, uniqueIDProgram)
	if err != nil {
		return fmt.Errorf("asking the board for its unique id: %w", err)
	}
	if exc == nil {
		out = append(out, id...)
	}
	var lines []string
	for _, line := range strings.Split(string(out), "\n") {
		lines = append(lines, strings.TrimSpace(line))
	}
	field := func(i int) string {
		if i < len(lines) && lines[i] != "?" {
			return lines[i]
		}
		return ""
	}
	if m := field(0); m != "" {
		info.epoch = m
	}
	info.port = strings.ToLower(field(1))
	info.build, info.machine, info.uniqueID = field(2), field(3), field(4)
	return nil
}

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
		l, info, err := s.connect(ctx, accepted)
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

// retryConnect calls connect until it succeeds, with back-off (the board's
// listener comes back only after boot.py ran), for up to
// opts.ReconnectTimeout. A wrong password or the end of ctx stops at once.
// opts.OnReconnecting is told as each attempt after the first begins, and
// for the first once it has waited reconnectingNotice for the board to
// accept (connect calls accepted then), so a quick reconnection of a board
// that is there stays silent.
func retryConnect(ctx context.Context, wsURL string, opts Options, cause error, connect func(ctx context.Context, accepted func()) error) error {
	rctx, cancel := context.WithTimeout(ctx, opts.ReconnectTimeout)
	defer cancel()
	backoff := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := attemptTold(rctx, attempt, cause, opts.OnReconnecting, connect)
		cause = err
		if err == nil || errors.Is(err, ErrWrongPassword) || errors.Is(err, ErrClosed) || ctx.Err() != nil {
			return err
		}
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
// retryConnect promises. tell is never running once it returns.
func attemptTold(ctx context.Context, attempt int, cause error, tell func(int, error), connect func(ctx context.Context, accepted func()) error) error {
	if tell == nil {
		return connect(ctx, nil)
	}
	if attempt > 1 {
		tell(attempt, cause)
		return connect(ctx, nil)
	}
	told := make(chan struct{})
	timer := time.AfterFunc(reconnectingNotice, func() {
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
		if err := l.writeLocked(websocket.TextMessage, p[:n]); err != nil {
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
