//go:build linux || darwin

package handover

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Supported: hand-over works on this system.
const Supported = true

// entry is the holder's file.
type entry struct {
	PID    int    `json:"pid"`
	What   string `json:"what"`
	Socket string `json:"socket"`
	URL    string `json:"url"`
}

// message goes both ways on a holder's socket, one JSON line each.
type message struct {
	Op    string `json:"op,omitempty"`    // request: "release"
	State string `json:"state,omitempty"` // answer: released, busy, kept
	PID   int    `json:"pid"`
	What  string `json:"what"`
	// In answers: the holder's Options.Busy and Options.KeepHow.
	Busy    string `json:"busy,omitempty"`
	KeepHow string `json:"keep_how,omitempty"`
}

const (
	maxMessage = 4096
	askTimeout = 5 * time.Second // the holder's Release closes a link (≤ ~3 s)
	pollPeriod = 250 * time.Millisecond
	lockPoll   = 20 * time.Millisecond
)

// Claim is this process's standing for one board.
type Claim struct {
	opts   Options
	wait   time.Duration
	entry  string // path of the board's entry file
	lock   string // path of the folder's lock file (one for all boards: no file left per URL)
	socket string // this process's socket
	pid    int    // os.Getpid(); tests give two claims of one process two PIDs

	mu         sync.Mutex
	held       bool
	busy       bool
	kept       bool
	takenBy    string // who took the board since the last Acquire ("" = nobody)
	tookOver   bool   // the last Acquire took the board from another process
	listener   net.Listener
	listenDone chan struct{}
	closed     bool
}

// New prepares a claim; nothing is taken or written before Acquire.
func New(opts Options) (*Claim, error) {
	if opts.Dir == "" {
		opts.Dir = DefaultDir()
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	wait := opts.Wait
	if wait == 0 {
		var err error
		if wait, err = WaitFromEnv(); err != nil {
			return nil, err
		}
	}
	return newClaim(opts, wait, os.Getpid()), nil
}

func newClaim(opts Options, wait time.Duration, pid int) *Claim {
	k := key(opts.URL)
	return &Claim{
		opts: opts, wait: wait, pid: pid,
		entry:  filepath.Join(opts.Dir, k+".json"),
		lock:   filepath.Join(opts.Dir, "lock"),
		socket: filepath.Join(opts.Dir, fmt.Sprintf("%s-%d.sock", k, pid)),
	}
}

// SetKeep makes this process refuse to let go while it holds the board
// (newcomers wait and then give up naming it), or allows it again.
func (c *Claim) SetKeep(keep bool) {
	c.mu.Lock()
	c.kept = keep
	c.mu.Unlock()
}

// TakenBy reports, once, who used the board since this process last held
// it ("" = nobody): the board's RAM is one, shared by every client.
func (c *Claim) TakenBy() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	who := c.takenBy
	c.takenBy = ""
	return who
}

// TookOver reports whether the last Acquire took the board from another
// process, which let go (closing its link) or had died: the board may
// still be freeing its single client slot, so a connection it turns away
// is worth retrying for a while (webrepl.Options.AfterHandOver).
func (c *Claim) TookOver() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tookOver
}

// Held reports whether this process holds the board now.
func (c *Claim) Held() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held
}

// Acquire makes this process the board's holder and marks it busy until
// Done: it asks the current holder to let go and waits for a busy or kept
// one up to Options.Wait (then a *BusyError).
func (c *Claim) Acquire(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errors.New("hand-over: claim closed")
	}
	if c.held {
		c.busy = true
		c.tookOver = false
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	if err := ensureDir(c.opts.Dir); err != nil {
		return err
	}
	if err := c.listen(); err != nil {
		return err
	}
	start := time.Now()
	told := false
	for {
		last, err := c.tryTake(ctx)
		if err != nil {
			return err
		}
		if last == nil {
			return nil
		}
		if !told && c.opts.Notify != nil {
			c.opts.Notify(waitingLine(c.opts.URL, last))
			told = true
		}
		waited := time.Since(start)
		if waited >= c.wait {
			return &BusyError{URL: c.opts.URL, Holder: last.What, PID: last.PID, Kept: last.State == stateKept,
				KeepHow: last.KeepHow, Waited: waited}
		}
		t := time.NewTimer(min(pollPeriod, c.wait-waited))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// tryTake takes the board when it is free (nil answer) or returns the
// holder's answer when it is busy or kept.
func (c *Claim) tryTake(ctx context.Context) (*message, error) {
	unlock, err := lockFile(ctx, c.lock)
	if err != nil {
		return nil, err
	}
	defer unlock()
	e, err := readEntry(c.entry)
	if err != nil {
		return nil, err
	}
	if e != nil && e.PID != c.pid {
		ans, err := c.ask(ctx, e)
		switch {
		case err != nil:
			c.opts.Logf("handover: holder PID %d is gone (%v); taking its entry", e.PID, err)
			if filepath.Dir(e.Socket) == c.opts.Dir && e.Socket != c.socket {
				_ = os.Remove(e.Socket) // the dead process's socket, if it left one
			}
		case ans.State != stateReleased:
			return ans, nil
		}
	}
	c.mu.Lock()
	c.held, c.busy = true, true
	c.tookOver = e != nil && e.PID != c.pid
	c.mu.Unlock()
	if err := writeEntry(c.entry, entry{PID: c.pid, What: c.opts.What, Socket: c.socket, URL: c.opts.URL}); err != nil {
		c.mu.Lock()
		c.held, c.busy = false, false
		c.mu.Unlock()
		return nil, err
	}
	return nil, nil
}

// ask asks a holder to let go. An error means the holder is gone.
func (c *Claim) ask(ctx context.Context, e *entry) (*message, error) {
	if e.PID <= 0 || syscall.Kill(e.PID, 0) == syscall.ESRCH {
		return nil, fmt.Errorf("no process %d", e.PID)
	}
	actx, cancel := context.WithTimeout(ctx, askTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(actx, "unix", e.Socket)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := actx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	req, _ := json.Marshal(message{Op: "release", PID: c.pid, What: c.opts.What})
	if _, err := conn.Write(append(req, '\n')); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(io.LimitReader(conn, maxMessage)).ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("no answer from PID %d: %w", e.PID, err)
	}
	var ans message
	if err := json.Unmarshal(line, &ans); err != nil {
		return nil, fmt.Errorf("bad answer from PID %d: %w", e.PID, err)
	}
	if ans.What == "" {
		ans.What = e.What
	}
	if ans.PID == 0 {
		ans.PID = e.PID
	}
	return &ans, nil
}

// Done marks the end of a use of the board: this process stays the holder,
// idle, and lets go when asked.
func (c *Claim) Done() {
	c.mu.Lock()
	c.busy = false
	c.mu.Unlock()
}

// Drop gives the board up without being asked (the link was closed, e.g.
// %disconnect): the entry goes, so the next process need not ask.
func (c *Claim) Drop() {
	c.mu.Lock()
	wasHeld := c.held
	c.held, c.busy = false, false
	c.mu.Unlock()
	if wasHeld {
		c.removeOwnEntry()
	}
}

// Close lets go of the board, removes this process's entry and socket and
// stops answering.
func (c *Claim) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	wasHeld := c.held
	c.held, c.busy = false, false
	l, done := c.listener, c.listenDone
	c.mu.Unlock()
	if wasHeld {
		c.removeOwnEntry()
	}
	if l != nil {
		_ = l.Close()
		<-done
		_ = os.Remove(c.socket)
	}
}

func (c *Claim) removeOwnEntry() {
	unlock, err := lockFile(context.Background(), c.lock)
	if err != nil {
		return
	}
	defer unlock()
	if e, err := readEntry(c.entry); err == nil && e != nil && e.PID == c.pid {
		_ = os.Remove(c.entry)
	}
}

// listen starts answering release requests on this process's socket.
func (c *Claim) listen() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.listener != nil {
		return nil
	}
	_ = os.Remove(c.socket) // left by an earlier process with our PID
	l, err := net.Listen("unix", c.socket)
	if err != nil {
		return fmt.Errorf("hand-over socket: %w", err)
	}
	c.listener, c.listenDone = l, make(chan struct{})
	go c.serve(l, c.listenDone)
	return nil
}

func (c *Claim) serve(l net.Listener, done chan struct{}) {
	defer close(done)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.answer(conn)
		}()
	}
}

// answer handles one request. Release runs under c.mu, so a cell starting
// meanwhile (Acquire) waits until the link is closed and then reconnects.
func (c *Claim) answer(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(askTimeout))
	line, err := bufio.NewReader(io.LimitReader(conn, maxMessage)).ReadBytes('\n')
	if err != nil {
		return
	}
	var req message
	if json.Unmarshal(line, &req) != nil || req.Op != "release" {
		return
	}
	c.mu.Lock()
	state := stateReleased
	switch {
	case !c.held:
	case c.busy:
		state = stateBusy
	case c.kept:
		state = stateKept
	default:
		if c.opts.Release != nil {
			c.opts.Release()
		}
		c.held = false
		who := req.What
		if who == "" {
			who = "another process"
		}
		c.takenBy = fmt.Sprintf("%s (PID %d)", who, req.PID)
		c.opts.Logf("handover: let go of %s for %s", c.opts.URL, c.takenBy)
	}
	c.mu.Unlock()
	ans, _ := json.Marshal(message{State: state, PID: c.pid, What: c.opts.What, Busy: c.opts.Busy, KeepHow: c.opts.KeepHow})
	_, _ = conn.Write(append(ans, '\n'))
}

func readEntry(path string) (*entry, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("hand-over entry: %w", err)
	}
	var e entry
	if json.Unmarshal(b, &e) != nil {
		return nil, nil // half-written by a process that died: stale
	}
	return &e, nil
}

func writeEntry(path string, e entry) error {
	b, _ := json.Marshal(e)
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("hand-over entry: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("hand-over entry: %w", err)
	}
	return nil
}

// lockFile takes an exclusive flock (released by the kernel if we die),
// polling so that ctx can end the wait.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("hand-over lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("hand-over lock: %w", err)
		}
		t := time.NewTimer(lockPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			_ = f.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

func ownedByUs(dir string, fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("hand-over folder %s belongs to another user", dir)
	}
	return nil
}

// Unsupported is empty where hand-over works.
const Unsupported = ""

// waitingLine is what a newcomer prints while it waits for a holder, in the
// holder's own words (its What, Busy and KeepHow).
func waitingLine(url string, holder *message) string {
	if holder.State == stateKept {
		return fmt.Sprintf("waiting for %s (PID %d) to let go of %s: it keeps the board%s",
			holder.What, holder.PID, url, parenthesised(holder.KeepHow))
	}
	return fmt.Sprintf("waiting for %s (PID %d) to finish with %s", firstNonEmpty(holder.Busy, holder.What), holder.PID, url)
}
