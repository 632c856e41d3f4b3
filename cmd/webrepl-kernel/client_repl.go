package main

// `repl`: the board's friendly REPL in the local terminal. The terminal is
// put in raw mode so every keystroke (Ctrl-C, Tab, arrows) reaches the
// board, which does its own echo and line editing; Ctrl-] (0x1d, as in
// telnet) quits. A dropped link (Ctrl-D soft reset, machine.reset(), Wi-Fi)
// is re-established, and keys typed meanwhile are sent afterwards.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gorilla/websocket"

	"webrepl-kernel/webrepl"
)

const (
	replQuitKey = 0x1d // Ctrl-]

	// The friendly REPL echoes every byte as its own frame, so on ESP32 its
	// input ring empties slowly (spec/webrepl.md §5.1). Keystrokes go out at
	// once; a paste is cut into small frames sent at a gentle pace
	// (replFrameMax bytes per replFrameGap, 320 B/s).
	replFrameMax = 32
	replFrameGap = 100 * time.Millisecond

	replReconnectFor   = 30 * time.Second
	replReconnectPause = 500 * time.Millisecond
	replLoginStepLimit = 5 * time.Second
)

func runRepl(ctx context.Context, args []string) (err error) {
	fs := newFlagSet("repl", "", "Interactive friendly REPL on the board in this terminal. Ctrl-] quits.")
	conn := addConnFlags(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError(fs, "takes no arguments, got %d", len(pos))
	}
	if !isTerminal(os.Stdin) {
		return errors.New("repl needs a terminal on stdin (use exec to run a file)")
	}
	if err := conn.resolve(); err != nil {
		return err
	}
	ws, err := terminalLogin(ctx, conn.url, conn.password, conn.timeout)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", conn.url, err)
	}
	tty, err := openTerminalInput()
	if err != nil {
		ws.Close()
		return err
	}
	defer tty.Close()
	// The modes belong to the terminal, not to a file descriptor: set and
	// restore them through stdin, which stays open when run closes tty.
	restore, err := makeRaw(os.Stdin)
	if err != nil {
		ws.Close()
		return err
	}
	// Restored before any error reaches main, which prints it.
	defer func() {
		if restoreErr := restore(); restoreErr != nil && err == nil {
			err = restoreErr
		}
	}()
	fmt.Fprintf(os.Stderr, "Connected to %s. Ctrl-] quits.\r\n", conn.url)
	r := &replTerminal{url: conn.url, password: conn.password, timeout: conn.timeout, out: os.Stdout, note: os.Stderr}
	return r.run(ctx, ws, tty)
}

// replTerminal shuttles bytes between a terminal and the board.
type replTerminal struct {
	url, password string
	timeout       time.Duration
	out           io.Writer // board output, verbatim (the board sends CRLF)
	note          io.Writer // our own messages
}

// run serves the session until Ctrl-], end of the terminal, or ctx ends.
// It owns ws (and closes it); all writes to the WebSocket happen here.
func (r *replTerminal) run(ctx context.Context, ws *websocket.Conn, tty io.Reader) error {
	keys := make(chan []byte)
	quit := make(chan struct{})
	stopKeys := make(chan struct{})
	keysDone := make(chan struct{})
	go readKeys(tty, keys, quit, stopKeys, keysDone)
	defer func() {
		close(stopKeys)
		if c, ok := tty.(io.Closer); ok {
			c.Close() // unblocks the pending read
		}
		<-keysDone
	}()

	// Sent the first time with the link up: leaves the raw REPL a kernel may
	// have left behind, and prints the banner and a fresh prompt.
	pending := []byte{0x02}
	// At most replFrameMax bytes go out per replFrameGap window: typing is
	// never delayed, a paste is spread out.
	var windowStart time.Time
	sentInWindow := 0
	for {
		boardGone := make(chan error, 1)
		pumpDone := make(chan struct{})
		go func() {
			defer close(pumpDone)
			boardGone <- pumpBoardOutput(ws, r.out)
		}()
		lost := false
		for !lost {
			var sendTimer <-chan time.Time
			if len(pending) > 0 {
				if time.Since(windowStart) >= replFrameGap {
					windowStart, sentInWindow = time.Now(), 0
				}
				wait := time.Duration(0)
				if sentInWindow >= replFrameMax {
					wait = time.Until(windowStart.Add(replFrameGap))
				}
				sendTimer = time.After(wait)
			}
			select {
			case k, ok := <-keys:
				if !ok {
					keys = nil // the terminal ended: leave after sending what is left
					if len(pending) == 0 {
						return r.hangUp(ws, pumpDone, nil)
					}
					continue
				}
				pending = append(pending, k...)
			case <-sendTimer:
				if sentInWindow >= replFrameMax {
					continue // the window has just ended; the next pass opens a new one
				}
				n := min(len(pending), replFrameMax-sentInWindow)
				if err := ws.WriteMessage(websocket.TextMessage, pending[:n]); err != nil {
					lost = true // pending keeps these bytes for after the reconnect
					continue
				}
				pending = pending[n:]
				sentInWindow += n
				if keys == nil && len(pending) == 0 {
					return r.hangUp(ws, pumpDone, nil)
				}
			case <-quit:
				return r.hangUp(ws, pumpDone, nil)
			case <-ctx.Done():
				// SIGTERM/SIGINT from outside (Ctrl-C itself goes to the
				// board): leave as cleanly as with Ctrl-].
				return r.hangUp(ws, pumpDone, nil)
			case <-boardGone:
				lost = true
			}
		}
		ws.Close()
		<-pumpDone
		fmt.Fprintf(r.note, "\r\n[connection to the board lost; reconnecting, Ctrl-] quits]\r\n")
		var err error
		ws, err = r.reconnect(ctx, keys, quit, &pending)
		if err != nil {
			return err
		}
		if ws == nil {
			return nil // Ctrl-] while reconnecting
		}
		fmt.Fprintf(r.note, "[reconnected]\r\n")
		pending = append([]byte{0x02}, pending...) // banner and a fresh prompt first
	}
}

// hangUp ends the session politely: an empty close frame (a status code
// would leak a byte into the board's file-transfer parser, spec §1.4).
func (r *replTerminal) hangUp(ws *websocket.Conn, pumpDone <-chan struct{}, err error) error {
	_ = ws.WriteControl(websocket.CloseMessage, []byte{}, time.Now().Add(time.Second))
	ws.Close()
	<-pumpDone
	fmt.Fprint(r.note, "\r\n")
	return err
}

// reconnect retries the login until it works, replReconnectFor passes, or
// Ctrl-] is pressed or ctx ends (both nil, nil). Keys typed meanwhile are kept in
// *pending.
func (r *replTerminal) reconnect(ctx context.Context, keys <-chan []byte, quit <-chan struct{}, pending *[]byte) (*websocket.Conn, error) {
	deadline := time.Now().Add(replReconnectFor)
	attemptCtx, cancelAttempts := context.WithCancel(ctx)
	defer cancelAttempts()
	type attempt struct {
		ws  *websocket.Conn
		err error
	}
	result := make(chan attempt, 1)
	try := func() {
		ws, err := terminalLogin(attemptCtx, r.url, r.password, r.timeout)
		result <- attempt{ws, err}
	}
	go try()
	var lastErr error
	for {
		select {
		case k, ok := <-keys:
			if ok {
				*pending = append(*pending, k...)
			} else {
				keys = nil
			}
		case <-quit:
			cancelAttempts()
			if a := <-result; a.ws != nil {
				a.ws.Close()
			}
			return nil, nil
		case a := <-result:
			if a.err == nil {
				return a.ws, nil
			}
			lastErr = a.err
			if ctx.Err() != nil {
				return nil, nil // told to stop (SIGTERM): leave as with Ctrl-]
			}
			if errors.Is(a.err, webrepl.ErrWrongPassword) || time.Now().After(deadline) {
				return nil, fmt.Errorf("reconnecting to %s: %w", r.url, lastErr)
			}
			pause := time.NewTimer(replReconnectPause)
			select {
			case <-pause.C:
				go try()
			case <-quit:
				pause.Stop()
				return nil, nil
			case <-ctx.Done():
				pause.Stop()
				return nil, nil
			}
		}
	}
}

// readKeys forwards terminal input to keys until Ctrl-] (closes quit) or a
// read error (closes keys). stop makes it give up a blocked send.
func readKeys(tty io.Reader, keys chan<- []byte, quit chan<- struct{}, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	buf := make([]byte, 1024)
	for {
		n, err := tty.Read(buf)
		if n > 0 {
			chunk := bytes.Clone(buf[:n])
			quitAt := bytes.IndexByte(chunk, replQuitKey)
			if quitAt >= 0 {
				chunk = chunk[:quitAt]
			}
			if len(chunk) > 0 {
				select {
				case keys <- chunk:
				case <-stop:
					return
				}
			}
			if quitAt >= 0 {
				close(quit)
				return
			}
		}
		if err != nil {
			close(keys)
			return
		}
	}
}

// pumpBoardOutput copies the board's text frames to out until the link
// ends. Binary frames (file transfer) are not expected here and are skipped.
func pumpBoardOutput(ws *websocket.Conn, out io.Writer) error {
	for {
		kind, data, err := ws.ReadMessage()
		if err != nil {
			return err
		}
		if kind == websocket.TextMessage {
			if _, err := out.Write(data); err != nil {
				return fmt.Errorf("writing board output: %w", err)
			}
		}
	}
}

// terminalLogin opens a WebSocket to the board and logs in, leaving the
// console exactly as it was (the friendly REPL needs no raw-REPL set-up,
// which is what webrepl.Dial does).
func terminalLogin(ctx context.Context, url, password string, timeout time.Duration) (*websocket.Conn, error) {
	dialer := websocket.Dialer{HandshakeTimeout: timeout}
	ws, resp, err := dialer.DialContext(ctx, url, nil)
	if err != nil {
		if errors.Is(err, websocket.ErrBadHandshake) {
			status := ""
			if resp != nil {
				status = " (" + resp.Status + ")"
			}
			return nil, fmt.Errorf("%w: no WebSocket upgrade%s", webrepl.ErrNotWebREPL, status)
		}
		return nil, fmt.Errorf("%w: %v", webrepl.ErrUnreachable, err)
	}
	// The login reads use deadlines; closing the socket makes ctx count too.
	stopOnCancel := context.AfterFunc(ctx, func() { ws.Close() })
	defer stopOnCancel()
	var seen []byte
	readUntil := func(step string, done func() bool) error {
		for !done() {
			ws.SetReadDeadline(time.Now().Add(replLoginStepLimit))
			kind, data, err := ws.ReadMessage()
			if err != nil {
				var netErr interface{ Timeout() bool }
				if errors.As(err, &netErr) && netErr.Timeout() {
					return &webrepl.TimeoutError{Step: step}
				}
				if len(seen) == 0 {
					return webrepl.ErrBusy // 101, then closed without a prompt: another client holds the board
				}
				if bytes.Contains(seen, []byte("Access denied")) {
					return webrepl.ErrWrongPassword
				}
				return fmt.Errorf("%w: %v", webrepl.ErrLinkLost, err)
			}
			if kind == websocket.TextMessage {
				seen = append(seen, data...)
			}
		}
		return nil
	}
	err = readUntil("waiting for Password: prompt", func() bool { return bytes.HasSuffix(seen, []byte("Password: ")) })
	if err == nil {
		seen = seen[:0]
		err = ws.WriteMessage(websocket.TextMessage, []byte(password+"\r"))
	}
	if err == nil {
		err = readUntil("waiting for the login answer", func() bool {
			return bytes.Contains(seen, []byte("WebREPL connected")) || bytes.Contains(seen, []byte("Access denied"))
		})
	}
	if err == nil && bytes.Contains(seen, []byte("Access denied")) {
		err = webrepl.ErrWrongPassword
	}
	if err != nil {
		ws.Close()
		return nil, err
	}
	ws.SetReadDeadline(time.Time{})
	return ws, nil
}
