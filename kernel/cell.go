package kernel

import (
	"context"
	"sync"
	"time"

	"webrepl-kernel/webrepl"
)

// runningCell is the cell being executed, as the interrupt path sees it.
type runningCell struct {
	ctx      context.Context
	cancel   context.CancelFunc // abandons connecting, stdin and, last, the board
	finished chan struct{}

	inputCtx    context.Context // pending input() requests to the frontend
	inputCancel context.CancelFunc
	inputs      sync.WaitGroup

	mu          sync.Mutex
	session     *webrepl.Session // set while the board runs the cell
	typedAhead  []string         // lines of a multi-line answer not yet read by input()
	interrupted bool
	gaveUp      bool // the board did not stop within the grace period
	timers      []*time.Timer
	// cutOutput stops the board's output from reaching the cell (set
	// while the board runs the cell): when the kernel gives up on the
	// board, the cell ends and nothing more flows into it.
	cutOutput func()
}

// interrupt stops the cell: Ctrl-C to the board while it runs the cell
// (again after a second, in case the first was lost), and after grace the
// cell is abandoned. Before the board runs anything (connecting, asking for
// a password) the wait is simply cancelled.
func (c *runningCell) interrupt(grace time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.session
	if c.interrupted {
		if s != nil {
			_ = s.Interrupt() // the user insists; the first Ctrl-C may be lost
		}
		return
	}
	c.interrupted = true
	if s == nil {
		c.cancel()
		return
	}
	c.inputCancel() // the board's input() stops on the Ctrl-C below
	_ = s.Interrupt()
	c.timers = append(c.timers,
		time.AfterFunc(interruptResend, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.session != nil {
				_ = c.session.Interrupt()
			}
		}),
		time.AfterFunc(grace, func() {
			c.mu.Lock()
			cut := func() {}
			if c.session != nil {
				c.gaveUp = true
				if c.cutOutput != nil {
					cut = c.cutOutput
				}
			}
			c.mu.Unlock()
			cut()
			c.cancel()
		}))
}

func (c *runningCell) abandon() { c.cancel() }

func (c *runningCell) setSession(s *webrepl.Session) {
	c.mu.Lock()
	c.session = s
	c.mu.Unlock()
}

// setOutput is setSession for a cell's own program: cut is how its output
// is stopped when the kernel gives up on the board.
func (c *runningCell) setOutput(s *webrepl.Session, cut func()) {
	c.mu.Lock()
	c.session, c.cutOutput = s, cut
	c.mu.Unlock()
}

func (c *runningCell) state() (interrupted, gaveUp bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.interrupted, c.gaveUp
}

// Interrupt stops the running cell, if any (interrupt_request and SIGINT).
// Between cells, a board still running a cell the kernel gave up on is
// sent Ctrl-C again.
func (k *Kernel) Interrupt() {
	k.mu.Lock()
	cell, s := k.cell, k.session
	k.mu.Unlock()
	switch {
	case cell != nil:
		cell.interrupt(k.cfg.InterruptGrace)
	case s != nil && s.StillRunning():
		_ = s.Interrupt()
	}
}

func (k *Kernel) startCell(ctx context.Context) *runningCell {
	cctx, cancel := context.WithCancel(ctx)
	c := &runningCell{ctx: cctx, cancel: cancel, finished: make(chan struct{})}
	c.inputCtx, c.inputCancel = context.WithCancel(cctx)
	k.mu.Lock()
	k.cell = c
	k.mu.Unlock()
	return c
}

func (k *Kernel) endCell(c *runningCell) {
	k.mu.Lock()
	k.cell = nil
	k.mu.Unlock()
	c.mu.Lock()
	for _, t := range c.timers {
		t.Stop()
	}
	c.mu.Unlock()
	c.cancel()
	c.inputs.Wait()
	close(c.finished)
}
