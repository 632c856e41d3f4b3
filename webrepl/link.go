package webrepl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

const (
	handshakeTimeout = 5 * time.Second
	writeTimeout     = 10 * time.Second
	// maxIncomingMessage guards against a peer that is not a board: a board
	// never sends a frame of 64 KiB or more (§1.4).
	maxIncomingMessage = 1 << 20
)

// Stats counts what crossed the link, over every connection of a Session.
type Stats struct {
	BytesSent      int64 // payload bytes written (text and binary)
	FramesSent     int64 // data frames written, keep-alives included
	BytesReceived  int64 // payload bytes read
	FramesReceived int64
	Connects       int64 // successful logins, the first one included
}

type statCounters struct {
	bytesSent, framesSent, bytesReceived, framesReceived, connects atomic.Int64
}

func (c *statCounters) snapshot() Stats {
	return Stats{
		BytesSent: c.bytesSent.Load(), FramesSent: c.framesSent.Load(),
		BytesReceived: c.bytesReceived.Load(), FramesReceived: c.framesReceived.Load(),
		Connects: c.connects.Load(),
	}
}

// link is one connection to a board's REPL, over whatever wire carries
// its bytes: a WebSocket (WebREPL, wsWire) or a serial port (serialWire,
// serial.go). The raw REPL engine talks to the link only: the REPL byte
// stream (repl), the file-transfer stream where the wire has one (file,
// WebSocket binary frames; always empty on a serial port), writes that
// count the Ctrl-C bytes sent, and the end of the connection.
type link struct {
	w     wire
	host  string // what the messages call the board: HOST:PORT or the serial device
	stats *statCounters
	repl  *byteStream
	file  *byteStream
	// keepAlive: the wire wants an empty write when idle (a WebSocket
	// behind NAT or a board's idle timer); a serial port does not.
	keepAlive bool

	done  chan struct{} // closed when the reader goroutine has ended
	cause error         // why the reader ended; read only after done
	// cleanEnd: the peer ended the connection (TCP close or a close frame)
	// rather than sending something that is not WebSocket; read after done.
	cleanEnd bool
	// floodedClose: the reader gave up on the close handshake because the
	// peer kept sending; read after done.
	floodedClose bool
	// reset: the wire saw the board restart (a serial port's boot banner);
	// read after done.
	reset bool

	writeMu    sync.Mutex
	lastWrite  atomic.Int64 // unix nanoseconds
	interrupts atomic.Int64 // Ctrl-C bytes sent; changed only under writeMu

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// wire carries a link's bytes. Its methods are called by the link only:
// next from the reader goroutine, send under the link's write lock, shut
// once from close.
type wire interface {
	// next waits for the next data from the board, read into buf (which
	// it may reuse and return), and says whether it belongs to the file
	// channel. stopping tells that the link is being closed.
	next(buf []byte, stopping func() bool) (p []byte, file bool, err error)
	// ended turns next's error into the link's cause, and says whether the
	// peer ended the connection itself (rather than sending something that
	// is not its protocol) and whether it did so by resetting.
	ended(err error) (cause error, clean, reset bool)
	// send writes p to the REPL or the file channel.
	send(p []byte, file bool) error
	// shut ends the connection; l.done is closed once next has returned
	// its error. It returns once the connection is closed.
	shut(l *link)
}

// DefaultPort is WebREPL's TCP port (docs/protocol/webrepl.md §1.1).
const DefaultPort = "8266"

// NormalizeURL checks a board address and completes it; it is the one
// place that says what a board address is, for Dial, DialConsole, the
// kernel's %connect and the command line. "ws://…" and "wss://…" are taken
// as they are (an empty path becomes "/"); a bare "HOST" becomes
// ws://HOST:8266/ and "HOST:PORT" ws://HOST:PORT/. A board on a serial
// port is serial:///dev/ttyUSB0 (a bare /dev/… path too), serial://COM3,
// with ?baud=RATE when not 115200 (serial.go). Anything else, such as
// http://… or a bare host with a path, is refused with a one-line error, so
// a wrong address fails where it is typed rather than in the first cell.
func NormalizeURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("empty board address (want ws://HOST:8266/, HOST, HOST:PORT or serial:///dev/PORT)")
	}
	if strings.HasPrefix(strings.ToLower(raw), SerialScheme+":") {
		return normalizeSerial(SerialScheme + raw[len(SerialScheme):])
	}
	if strings.HasPrefix(raw, "/dev/") {
		return normalizeSerial(SerialScheme + "://" + raw)
	}
	if !strings.Contains(raw, "://") {
		if strings.ContainsAny(raw, "/?#@ ") {
			return "", fmt.Errorf("board address %q: want ws://HOST:PORT/, wss://HOST:PORT/, HOST or HOST:PORT", raw)
		}
		host, port := raw, DefaultPort
		if h, p, err := net.SplitHostPort(raw); err == nil {
			host, port = h, p
		}
		raw = "ws://" + net.JoinHostPort(host, port) + "/"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("board address %q: %v", raw, err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return "", fmt.Errorf("board address %q: the scheme must be ws://, wss:// (WebREPL) or serial:// (USB), not %s://", raw, u.Scheme)
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("board address %q has no host", raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("board address %q: WebREPL takes no user name in the address (give the password apart)", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("board address %q: bad port %q", raw, p)
		}
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String(), nil
}

// DialBoardTCP opens the TCP connection under a board's WebSocket as this
// package does: where the OS allows, every read re-arms TCP_QUICKACK, so a
// frame the board writes as two segments is not held back by a delayed ACK
// (docs/protocol/webrepl.md §1.4). It suits websocket.Dialer.NetDialContext,
// for tools that speak to a board at the frame level (the benchmarks).
func DialBoardTCP(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return withQuickAck(c), nil
}

// dialLink opens the WebSocket and starts the reader goroutine. The
// handshake is gorilla's, which writes the header names with exactly the
// case the board compares byte for byte (§1.3); no subprotocol and no
// compression are asked for.
func dialLink(ctx context.Context, wsURL string, stats *statCounters) (*link, error) {
	u, err := url.Parse(wsURL)
	if err != nil {
		return nil, fmt.Errorf("board URL %q: %w", wsURL, err)
	}
	host := u.Host
	step := "connecting to " + host
	dctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	dialer := websocket.Dialer{
		NetDialContext:  DialBoardTCP,
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
	}
	ws, resp, err := dialer.DialContext(dctx, wsURL, nil)
	if err != nil {
		return nil, classifyDialError(ctx, dctx, host, step, resp, err)
	}
	return newLink(ws, host, stats), nil
}

// newLink wraps an open WebSocket and starts its reader goroutine.
func newLink(ws *websocket.Conn, host string, stats *statCounters) *link {
	ws.SetReadLimit(maxIncomingMessage)
	return startLink(&wsWire{ws: ws}, host, stats, true)
}

// startLink makes the link for an open wire and starts its reader.
func startLink(w wire, host string, stats *statCounters, keepAlive bool) *link {
	stop := make(chan struct{})
	l := &link{
		w: w, host: host, stats: stats, keepAlive: keepAlive,
		repl: newByteStream(stop), file: newByteStream(stop),
		done: make(chan struct{}), stop: stop,
	}
	l.lastWrite.Store(time.Now().UnixNano())
	go l.readLoop()
	return l
}

// wsWire is a WebSocket: text frames carry the REPL, binary frames the
// file transfer (§1.8).
type wsWire struct {
	ws *websocket.Conn
}

func classifyDialError(parent, dctx context.Context, host, step string, resp *http.Response, err error) error {
	if resp != nil {
		// The server spoke HTTP but refused the upgrade: a board that did not
		// recognise the request, or a web server (§1.3, the HTML fallback).
		snippet := ""
		if resp.Body != nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 80))
			snippet = strings.Join(strings.Fields(string(b)), " ")
		}
		if snippet != "" {
			return fmt.Errorf("%w: %s answered HTTP %d instead of a WebSocket upgrade (%.60q)", ErrNotWebREPL, host, resp.StatusCode, snippet)
		}
		return fmt.Errorf("%w: %s answered HTTP %d instead of a WebSocket upgrade", ErrNotWebREPL, host, resp.StatusCode)
	}
	if parent.Err() != nil {
		return stepError(parent, parent.Err(), step)
	}
	if dctx.Err() != nil {
		return &TimeoutError{Step: step}
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return &TimeoutError{Step: step}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return fmt.Errorf("%w: nothing accepted a connection at %s (%v)", ErrUnreachable, host, opErr.Err)
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return fmt.Errorf("%w: %s: %v", ErrUnreachable, host, err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		// A board not serving yet after a reset closes at once; so does
		// firmware before 1.20 turning a second client away (§1.6).
		return fmt.Errorf("%w (%s)", ErrRebooting, host)
	}
	return fmt.Errorf("%w: %s did not answer like a WebSocket server: %v", ErrNotWebREPL, host, err)
}

func (l *link) readLoop() {
	defer close(l.done)
	afterClose := 0
	var scratch []byte
	stopping := func() bool {
		select {
		case <-l.stop:
			return true
		default:
			return false
		}
	}
	for {
		payload, file, err := l.w.next(scratch, stopping)
		scratch = payload
		if err != nil {
			l.cause, l.cleanEnd, l.reset = l.w.ended(err)
			lost := &linkLostError{cause: l.cause}
			l.repl.fail(lost)
			l.file.fail(lost)
			return
		}
		if stopping() {
			// Closing: only the board's answer to the close frame is
			// awaited. A peer that keeps sending data instead is not going
			// to answer; stop reading rather than wait out the timer.
			afterClose += len(payload)
			if afterClose > maxAfterClose {
				l.cause = errors.New("connection closed (the peer kept sending instead of answering the close)")
				l.floodedClose = true
				lost := &linkLostError{cause: l.cause}
				l.repl.fail(lost)
				l.file.fail(lost)
				return
			}
			continue
		}
		l.stats.framesReceived.Add(1)
		l.stats.bytesReceived.Add(int64(len(payload)))
		if file {
			l.file.push(payload)
		} else {
			l.repl.push(payload)
		}
	}
}

func (w *wsWire) next(buf []byte, _ func() bool) ([]byte, bool, error) {
	mt, p, err := readMessage(w.ws, buf)
	return p, mt == websocket.BinaryMessage, err
}

func (w *wsWire) ended(err error) (error, bool, bool) {
	var closeErr *websocket.CloseError
	clean := errors.As(err, &closeErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET)
	return describeReadEnd(err), clean, false
}

func (w *wsWire) send(p []byte, file bool) error {
	mt := websocket.TextMessage
	if file {
		mt = websocket.BinaryMessage
	}
	_ = w.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return w.ws.WriteMessage(mt, p)
}

// readMessage reads the next message into buf, which is reused from one
// message to the next (the streams copy what they keep). gorilla's
// ReadMessage allocates every message anew: a peer that floods makes that
// garbage by the hundred megabytes a second, more than the collector of a
// loaded machine clears in time.
func readMessage(ws *websocket.Conn, buf []byte) (int, []byte, error) {
	mt, r, err := ws.NextReader()
	if err != nil {
		return mt, buf[:0], err
	}
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return mt, buf, nil
		}
		if err != nil {
			return mt, buf, err
		}
	}
}

// maxAfterClose is how much data a closing link reads while waiting for the
// board's answer to its close frame: a board answers within a frame or two.
const maxAfterClose = 64 << 10

func describeReadEnd(err error) error {
	var closeErr *websocket.CloseError
	switch {
	case errors.As(err, &closeErr):
		return errors.New("the board closed the WebSocket")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the board closed the connection")
	case errors.Is(err, net.ErrClosed):
		return errors.New("connection closed")
	}
	return err
}

// lostErr is the error for operations on a link whose reader has ended.
func (l *link) lostErr() error { return &linkLostError{cause: l.cause} }

func (l *link) isDone() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

func (l *link) writeLocked(file bool, p []byte) error {
	if l.isDone() {
		return l.lostErr()
	}
	if err := l.w.send(p, file); err != nil {
		return &linkLostError{cause: err}
	}
	l.lastWrite.Store(time.Now().UnixNano())
	l.stats.framesSent.Add(1)
	l.stats.bytesSent.Add(int64(len(p)))
	return nil
}

func (l *link) write(file bool, p []byte) error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	return l.writeLocked(file, p)
}

func (l *link) writeText(p []byte) error { return l.write(false, p) }

// writeFile writes to the file channel (a WebSocket binary frame).
func (l *link) writeFile(p []byte) error { return l.write(true, p) }

// writeTextUnlessInterrupted sends program bytes only if no Ctrl-C went out
// since the program started: once the board has seen a Ctrl-C, later bytes
// would land at the raw prompt and become the start of a new command.
func (l *link) writeTextUnlessInterrupted(p []byte, since int64) (sent bool, err error) {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if l.interrupts.Load() != since {
		return false, nil
	}
	return true, l.writeLocked(false, p)
}

func (l *link) sendInterrupt() error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	l.interrupts.Add(1)
	return l.writeLocked(false, []byte{0x03})
}

// startKeepAlive sends an empty text frame whenever nothing was written for
// period: the board skips empty data frames (§1.4), and pings are never
// used because the board does not answer them and payload-carrying ones
// corrupt its file-transfer parser.
func (l *link) startKeepAlive(period time.Duration) {
	if period <= 0 || !l.keepAlive {
		return
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		tick := time.NewTicker(max(period/4, 10*time.Millisecond))
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-l.done:
				return
			case <-tick.C:
				if time.Since(time.Unix(0, l.lastWrite.Load())) >= period {
					if err := l.writeText(nil); err != nil {
						return
					}
				}
			}
		}
	}()
}

// close ends the connection (for a WebSocket cleanly, wsWire.shut). Both
// goroutines have ended when it returns.
func (l *link) close() {
	l.closeOnce.Do(func() {
		close(l.stop)
		l.w.shut(l)
		<-l.done
		l.wg.Wait()
	})
}

// shut ends a WebSocket cleanly: an empty close frame (a status code would
// leak a byte into the board's file-transfer parser, §1.4), a short wait
// for the board's answer, then TCP close.
func (w *wsWire) shut(l *link) {
	if !l.isDone() {
		_ = w.ws.WriteControl(websocket.CloseMessage, nil, time.Now().Add(time.Second))
		timer := time.NewTimer(2 * time.Second)
		select {
		case <-l.done:
			if l.floodedClose {
				break
			}
			// The board answers the close frame, then closes TCP and only
			// then frees its single client slot (§1.4, §1.6). Waiting for
			// that end lets the next client connect at once.
			nc := w.ws.NetConn()
			_ = nc.SetReadDeadline(time.Now().Add(time.Second))
			_, _ = io.Copy(io.Discard, nc)
		case <-timer.C:
		}
		timer.Stop()
	}
	_ = w.ws.Close()
}
