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

// frameDemux sorts incoming WebSocket messages the way the board's _webrepl
// module sorts outgoing ones (§1.8): text payloads are the REPL byte stream,
// binary payloads the file-transfer stream. Payloads are bytes, never
// validated as UTF-8: raw-paste window bytes and single bytes of multibyte
// characters travel in text frames.
type frameDemux struct {
	repl, file *byteStream
	stats      *statCounters
}

func (d *frameDemux) add(messageType int, payload []byte) {
	d.stats.framesReceived.Add(1)
	d.stats.bytesReceived.Add(int64(len(payload)))
	switch messageType {
	case websocket.TextMessage:
		d.repl.push(payload)
	case websocket.BinaryMessage:
		d.file.push(payload)
	}
}

// link is one WebSocket connection to a board.
type link struct {
	ws    *websocket.Conn
	host  string
	stats *statCounters
	demux frameDemux
	repl  *byteStream
	file  *byteStream

	done  chan struct{} // closed when the reader goroutine has ended
	cause error         // why the reader ended; read only after done
	// cleanEnd: the peer ended the connection (TCP close or a close frame)
	// rather than sending something that is not WebSocket; read after done.
	cleanEnd bool
	// floodedClose: the reader gave up on the close handshake because the
	// peer kept sending; read after done.
	floodedClose bool

	writeMu    sync.Mutex
	lastWrite  atomic.Int64 // unix nanoseconds
	interrupts atomic.Int64 // Ctrl-C bytes sent; changed only under writeMu

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// DefaultPort is WebREPL's TCP port (docs/protocol/webrepl.md §1.1).
const DefaultPort = "8266"

// NormalizeURL checks a board address and completes it; it is the one
// place that says what a board address is, for Dial, DialConsole, the
// kernel's %connect and the command line. "ws://…" and "wss://…" are taken
// as they are (an empty path becomes "/"); a bare "HOST" becomes
// ws://HOST:8266/ and "HOST:PORT" ws://HOST:PORT/. Anything else, such as
// http://… or a bare host with a path, is refused with a one-line error, so
// a wrong address fails where it is typed rather than in the first cell.
func NormalizeURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("empty board address (want ws://HOST:8266/, HOST or HOST:PORT)")
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
		return "", fmt.Errorf("board address %q: WebREPL is a WebSocket, the scheme must be ws:// or wss://, not %s://", raw, u.Scheme)
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
	stop := make(chan struct{})
	l := &link{
		ws: ws, host: host, stats: stats,
		repl: newByteStream(stop), file: newByteStream(stop),
		done: make(chan struct{}), stop: stop,
	}
	l.demux = frameDemux{repl: l.repl, file: l.file, stats: stats}
	l.lastWrite.Store(time.Now().UnixNano())
	go l.readLoop()
	return l
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
	for {
		mt, payload, err := l.readMessage(scratch)
		scratch = payload
		if err != nil {
			var closeErr *websocket.CloseError
			l.cleanEnd = errors.As(err, &closeErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
				errors.Is(err, syscall.ECONNRESET)
			l.cause = describeReadEnd(err)
			lost := &linkLostError{cause: l.cause}
			l.repl.fail(lost)
			l.file.fail(lost)
			return
		}
		select {
		case <-l.stop:
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
		default:
		}
		l.demux.add(mt, payload)
	}
}

// readMessage reads the next message into buf, which is reused from one
// message to the next (the streams copy what they keep). gorilla's
// ReadMessage allocates every message anew: a peer that floods makes that
// garbage by the hundred megabytes a second, more than the collector of a
// loaded machine clears in time.
func (l *link) readMessage(buf []byte) (int, []byte, error) {
	mt, r, err := l.ws.NextReader()
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

func (l *link) writeLocked(messageType int, p []byte) error {
	if l.isDone() {
		return l.lostErr()
	}
	_ = l.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := l.ws.WriteMessage(messageType, p); err != nil {
		return &linkLostError{cause: err}
	}
	l.lastWrite.Store(time.Now().UnixNano())
	l.stats.framesSent.Add(1)
	l.stats.bytesSent.Add(int64(len(p)))
	return nil
}

func (l *link) write(messageType int, p []byte) error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	return l.writeLocked(messageType, p)
}

func (l *link) writeText(p []byte) error { return l.write(websocket.TextMessage, p) }

// writeTextUnlessInterrupted sends program bytes only if no Ctrl-C went out
// since the program started: once the board has seen a Ctrl-C, later bytes
// would land at the raw prompt and become the start of a new command.
func (l *link) writeTextUnlessInterrupted(p []byte, since int64) (sent bool, err error) {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if l.interrupts.Load() != since {
		return false, nil
	}
	return true, l.writeLocked(websocket.TextMessage, p)
}

func (l *link) sendInterrupt() error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	l.interrupts.Add(1)
	return l.writeLocked(websocket.TextMessage, []byte{0x03})
}

// startKeepAlive sends an empty text frame whenever nothing was written for
// period: the board skips empty data frames (§1.4), and pings are never
// used because the board does not answer them and payload-carrying ones
// corrupt its file-transfer parser.
func (l *link) startKeepAlive(period time.Duration) {
	if period <= 0 {
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
					if err := l.write(websocket.TextMessage, nil); err != nil {
						return
					}
				}
			}
		}
	}()
}

// close ends the connection cleanly: an empty close frame (a status code
// would leak a byte into the board's file-transfer parser, §1.4), a short
// wait for the board's answer, then TCP close. Both goroutines have ended
// when it returns.
func (l *link) close() {
	l.closeOnce.Do(func() {
		close(l.stop)
		if !l.isDone() {
			_ = l.ws.WriteControl(websocket.CloseMessage, nil, time.Now().Add(time.Second))
			timer := time.NewTimer(2 * time.Second)
			select {
			case <-l.done:
				if l.floodedClose {
					break
				}
				// The board answers the close frame, then closes TCP and only
				// then frees its single client slot (§1.4, §1.6). Waiting for
				// that end lets the next client connect at once.
				nc := l.ws.NetConn()
				_ = nc.SetReadDeadline(time.Now().Add(time.Second))
				_, _ = io.Copy(io.Discard, nc)
			case <-timer.C:
			}
			timer.Stop()
		}
		_ = l.ws.Close()
		<-l.done
		l.wg.Wait()
	})
}
