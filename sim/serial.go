package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// maxSerialBacklog bounds the console output waiting for the serial
// client. A UART sends whether or not anything listens; output beyond this
// while nobody reads the port is dropped (and logged), as bytes sent down a
// cable nobody has opened are lost.
const maxSerialBacklog = 256 << 10

// serialConsole is the board's UART console offered on a pseudo-terminal
// (Options.Serial): what a program on the host opens as the board's USB
// serial port. The board's output goes to it as well as to a WebREPL
// client, as on an ESP32, whose REPL runs on UART0 and on dupterm at once.
// The simulator keeps the port's other side open itself, so that the port
// stays (a USB bridge that stays plugged in) while clients come and go.
type serialConsole struct {
	master *os.File
	slave  *os.File
	path   string // the port: /dev/pts/N
	link   string // a symlink to path made for the user, removed on close; "" none
	logf   func(format string, args ...any)

	mu      sync.Mutex
	backlog []byte
	dropped int
	wake    chan struct{}
	done    chan struct{}
}

// openSerialConsole creates the pseudo-terminal and, if link is set, a
// symlink there to its port (replacing a symlink left by an earlier run,
// never another kind of file).
func openSerialConsole(link string, logf func(string, ...any)) (*serialConsole, error) {
	master, slave, path, err := openPTY()
	if err != nil {
		return nil, fmt.Errorf("the serial console: %w", err)
	}
	c := &serialConsole{master: master, slave: slave, path: path, logf: logf, wake: make(chan struct{}, 1), done: make(chan struct{})}
	if link != "" {
		if fi, err := os.Lstat(link); err == nil {
			if fi.Mode()&os.ModeSymlink == 0 {
				c.closeFiles()
				return nil, fmt.Errorf("the serial console: %s exists and is not a symlink; choose another path", link)
			}
			_ = os.Remove(link)
		}
		if err := os.Symlink(path, link); err != nil {
			c.closeFiles()
			return nil, fmt.Errorf("the serial console: %w", err)
		}
		c.link = link
	}
	return c, nil
}

// Path is where a client opens the port: the symlink if one was made.
func (c *serialConsole) Path() string {
	if c.link != "" {
		return c.link
	}
	return c.path
}

// run reads what clients send and passes it to deliver, and writes the
// board's output, until ctx ends or close is called; it returns at once,
// its goroutines end by close.
func (c *serialConsole) run(ctx context.Context, deliver func([]byte)) {
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := c.master.Read(buf)
			if n > 0 {
				deliver(append([]byte(nil), buf[:n]...))
			}
			if err != nil {
				if !errors.Is(err, os.ErrClosed) && !errors.Is(err, io.EOF) {
					c.logf("sim: serial console: %v", err)
				}
				return
			}
		}
	}()
	go func() {
		defer close(c.done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-c.wake:
			}
			c.mu.Lock()
			p := c.backlog
			c.backlog = nil
			c.mu.Unlock()
			if len(p) == 0 {
				continue
			}
			if _, err := c.master.Write(p); err != nil {
				if !errors.Is(err, os.ErrClosed) {
					c.logf("sim: serial console: %v", err)
				}
				return
			}
		}
	}()
}

// write queues the board's output; it never blocks.
func (c *serialConsole) write(p []byte) {
	c.mu.Lock()
	room := maxSerialBacklog - len(c.backlog)
	if room < len(p) {
		if c.dropped == 0 {
			c.logf("sim: serial console: nobody reads the port; dropping output beyond %d bytes", maxSerialBacklog)
		}
		c.dropped += len(p) - max(room, 0)
		p = p[:max(room, 0)]
	}
	c.backlog = append(c.backlog, p...)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// close removes the port (and its symlink); the writer is waited for if
// run started it.
func (c *serialConsole) close(started bool) {
	c.closeFiles()
	if started {
		<-c.done
	}
	if c.link != "" {
		if target, err := os.Readlink(c.link); err == nil && target == c.path {
			_ = os.Remove(c.link)
		}
	}
}

func (c *serialConsole) closeFiles() {
	_ = c.master.Close()
	_ = c.slave.Close()
}
