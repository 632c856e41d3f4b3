package webrepl

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Pacing of console input (docs/protocol/webrepl.md §5.1): the friendly REPL echoes every byte
// as its own frame, so an ESP32 empties its 259-byte input ring slowly. A
// keystroke goes out at once; a paste is spread out at this rate (320 B/s).
const (
	DefaultConsoleChunkSize = 32
	DefaultConsoleChunkGap  = 100 * time.Millisecond
)

// Console is a logged-in connection to the board's friendly REPL, for a
// person at a terminal: the board does its own echo and line editing, so
// keystrokes go out as they are and its output comes back verbatim (CRLF
// line ends, bytes as sent). Unlike Session it never enters the raw REPL.
//
// Input written with Write is queued and sent by one goroutine, at most
// Options.ConsoleChunkSize bytes per Options.ConsoleChunkGap. The queue
// survives a dropped link: keys typed before Reconnect succeeds are sent
// afterwards. Every connection starts with Ctrl-B, which leaves a raw REPL
// a previous client may have left behind and prints the banner and a fresh
// prompt.
type Console struct {
	url  string
	opts Options

	mu       sync.Mutex
	link     *link
	pending  []byte        // keys not yet sent, oldest first
	inFlight bool          // the sender holds bytes it has not removed from pending yet
	progress chan struct{} // closed and replaced whenever the sender finishes a write
	wake     chan struct{} // capacity 1: new keys or a new link for the sender

	closedCtx  context.Context
	closeNow   context.CancelFunc
	senderDone chan struct{}
	stats      statCounters
}

// DialConsole connects to the board at url (the forms Dial accepts) and logs
// in, leaving the board in its friendly REPL. It fails with the same errors
// as Dial: ErrUnreachable, ErrNotWebREPL, ErrBusy, ErrRebooting, ErrWrongPassword or a
// *TimeoutError naming the step.
func DialConsole(ctx context.Context, url string, opts Options) (*Console, error) {
	u, err := NormalizeURL(url)
	if err != nil {
		return nil, err
	}
	c := &Console{
		url: u, opts: opts.withDefaults(),
		progress: make(chan struct{}), wake: make(chan struct{}, 1),
		senderDone: make(chan struct{}),
	}
	c.closedCtx, c.closeNow = context.WithCancel(context.Background())
	l, err := dialAndLogin(ctx, u, c.opts.Password, &c.stats)
	if err != nil {
		c.closeNow()
		return nil, err
	}
	if err := c.install(l); err != nil {
		return nil, err
	}
	go c.sendLoop()
	return c, nil
}

// URL is the normalised board URL.
func (c *Console) URL() string { return c.url }

// install makes l the current connection, unless the Console was closed
// meanwhile (checked under mu, which Close also takes): then it closes l.
func (c *Console) install(l *link) error {
	c.mu.Lock()
	if c.closedCtx.Err() != nil {
		c.mu.Unlock()
		l.close()
		return ErrClosed
	}
	c.link = l
	c.mu.Unlock()
	l.startKeepAlive(c.opts.KeepAlive)
	c.notifySender()
	if c.opts.Logf != nil {
		c.opts.Logf("webrepl: console connected to %s", c.url)
	}
	return nil
}

func (c *Console) notifySender() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *Console) currentLink() *link {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.link
}

// Read waits for the board's next output and returns all that has arrived.
// Once the link has dropped (a soft reset with Ctrl-D, machine.reset(), the
// network) it returns an error matching ErrLinkLost; call Reconnect. After
// Close it returns ErrClosed.
func (c *Console) Read(ctx context.Context) ([]byte, error) {
	if c.closedCtx.Err() != nil {
		return nil, ErrClosed
	}
	l := c.currentLink()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.closedCtx, cancel)
	defer stop()
	out, err := l.repl.take(ctx)
	switch {
	case err != nil && c.closedCtx.Err() != nil:
		return nil, ErrClosed
	case errors.Is(err, ErrLinkLost):
		// Once the reader has ended, the sender sees the link as gone too
		// and holds keys typed from now on for the next connection.
		<-l.done
	}
	return out, err
}

// Write queues keystrokes (or a paste) for the board; it does not wait for
// them to be sent. Only a closed Console refuses them.
func (c *Console) Write(p []byte) error {
	if c.closedCtx.Err() != nil {
		return ErrClosed
	}
	c.mu.Lock()
	c.pending = append(c.pending, p...)
	c.mu.Unlock()
	c.notifySender()
	return nil
}

// Flush waits until every queued key has been sent. While the link is down
// it waits for Reconnect.
func (c *Console) Flush(ctx context.Context) error {
	for {
		if c.closedCtx.Err() != nil {
			return ErrClosed
		}
		c.mu.Lock()
		done := len(c.pending) == 0 && !c.inFlight
		progress := c.progress
		c.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return fmt.Errorf("sending the typed keys: %w", ctx.Err())
		case <-c.closedCtx.Done():
		}
	}
}

// Reconnect drops the current connection if any and logs in again, retrying
// with back-off for up to Options.ReconnectTimeout (a board coming out of a
// reset accepts connections only after boot.py ran). Queued keys are kept
// and sent once it succeeds.
func (c *Console) Reconnect(ctx context.Context) error {
	if c.closedCtx.Err() != nil {
		return ErrClosed
	}
	c.currentLink().close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.closedCtx, cancel)
	defer stop()
	err := retryConnect(ctx, c.url, c.opts, nil, func(ctx context.Context, _ func()) error {
		l, err := dialAndLogin(ctx, c.url, c.opts.Password, &c.stats)
		if err != nil {
			return err
		}
		return c.install(l)
	})
	if err != nil && c.closedCtx.Err() != nil {
		return ErrClosed
	}
	return err
}

// Close ends the connection cleanly (an empty WebSocket close frame, §1.4)
// so the board accepts the next client. Keys still queued are not sent.
func (c *Console) Close() error {
	c.mu.Lock()
	c.closeNow()
	l := c.link
	c.mu.Unlock()
	// A Reconnect installing a link right now sees the closed context under
	// mu and closes that link itself.
	l.close()
	<-c.senderDone
	return nil
}

// sendLoop is the only writer of console input. It sends at most
// ConsoleChunkSize bytes per ConsoleChunkGap window, so typing is never
// delayed and a paste is spread out; Ctrl-B goes first on every new link.
func (c *Console) sendLoop() {
	defer close(c.senderDone)
	var greeted *link
	var windowStart time.Time
	sentInWindow := 0
	var window *time.Timer
	defer func() {
		if window != nil {
			window.Stop()
		}
	}()
	for {
		c.mu.Lock()
		l := c.link
		queued := len(c.pending)
		c.mu.Unlock()
		if l.isDone() || (queued == 0 && greeted == l) {
			select {
			case <-c.wake:
				continue
			case <-c.closedCtx.Done():
				return
			}
		}
		if time.Since(windowStart) >= c.opts.ConsoleChunkGap {
			windowStart, sentInWindow = time.Now(), 0
		}
		if sentInWindow >= c.opts.ConsoleChunkSize {
			window = resetTimer(window, time.Until(windowStart.Add(c.opts.ConsoleChunkGap)))
			select {
			case <-window.C:
				continue
			case <-c.closedCtx.Done():
				return
			}
		}
		if greeted != l {
			if err := l.writeText([]byte{0x02}); err != nil {
				l.close() // a timed-out write leaves the reader running: end it so Read reports the loss
				continue
			}
			greeted = l
			sentInWindow++
			continue
		}
		c.mu.Lock()
		n := min(len(c.pending), c.opts.ConsoleChunkSize-sentInWindow)
		chunk := c.pending[:n:n]
		c.inFlight = true
		c.mu.Unlock()
		err := l.writeText(chunk)
		c.mu.Lock()
		if err == nil {
			// Write only appends, so the first n bytes are still these.
			c.pending = c.pending[n:]
			sentInWindow += n
		}
		c.inFlight = false
		close(c.progress)
		c.progress = make(chan struct{})
		c.mu.Unlock()
		if err != nil {
			// pending keeps the bytes for the next connection.
			if c.opts.Logf != nil && !errors.Is(err, ErrLinkLost) {
				c.opts.Logf("webrepl: console write: %v", err)
			}
			l.close() // a timed-out write leaves the reader running: end it so Read reports the loss
		}
	}
}

// resetTimer returns a timer that fires after d, reusing t when there is one.
func resetTimer(t *time.Timer, d time.Duration) *time.Timer {
	if t == nil {
		return time.NewTimer(d)
	}
	t.Reset(d)
	return t
}
