package kernel

import (
	"errors"
	"fmt"
	"os"

	"webrepl-kernel/handover"
)

// holdBoard makes this kernel the holder of the board at url among this
// machine's processes (package handover): an idle holder elsewhere lets go,
// a busy or kept one is waited for and named. It says once, when the board
// was used elsewhere since this kernel last held it.
func (k *Kernel) holdBoard(cell *runningCell, io cellIO, url string) *cellError {
	k.mu.Lock()
	c := k.claim
	if c != nil && k.claimURL != url {
		k.claim = nil
		k.mu.Unlock()
		c.Close()
		k.mu.Lock()
		c = nil
	}
	keep := k.keep
	k.mu.Unlock()
	if c == nil {
		var err error
		what := notebookName()
		c, err = handover.New(handover.Options{URL: url, What: what,
			Busy: "the cell running in " + what, KeepHow: "%connect --keep",
			Notify:  func(line string) { io.stderr(line + "\n") },
			Release: k.letGo, Logf: k.cfg.Logf})
		if err != nil {
			return hostError("ConnectionError", err.Error())
		}
		k.mu.Lock()
		k.claim, k.claimURL = c, url
		k.mu.Unlock()
	}
	c.SetKeep(keep)
	if err := c.Acquire(cell.ctx); err != nil {
		var busy *handover.BusyError
		switch {
		case errors.As(err, &busy):
			return hostError("ConnectionError", err.Error())
		case cell.ctx.Err() != nil:
			return interruptedError()
		}
		return hostError("ConnectionError", "hand-over: "+err.Error())
	}
	if who := c.TakenBy(); who != "" {
		io.stderr(fmt.Sprintf("The board was used by %s since this notebook's last cell: "+
			"its RAM is shared by every client, so variables and imports may have changed.\n", who))
	}
	return nil
}

// notebookName is how other processes' messages name this kernel: the
// notebook when Jupyter says which (JPY_SESSION_NAME, set by Jupyter Server
// 2 for its kernels), else the folder the kernel was started in (Notebook 6
// starts kernels in the notebook's folder and names no file).
func notebookName() string {
	if p := os.Getenv("JPY_SESSION_NAME"); p != "" {
		return "notebook " + handover.ShortenHome(p)
	}
	if wd, err := os.Getwd(); err == nil {
		return "a notebook in " + handover.ShortenHome(wd)
	}
	return "a notebook"
}

// letGo is the claim's Release: another of our processes wants the board
// while this kernel is idle, so the link is closed cleanly; the next cell
// connects again.
func (k *Kernel) letGo() {
	k.mu.Lock()
	s := k.session
	k.session = nil
	k.mu.Unlock()
	if s != nil {
		if err := s.Close(); err != nil {
			k.cfg.Logf("kernel: closing WebREPL session for a hand-over: %v", err)
		}
	}
}

// boardDone ends a cell's use of the board: the kernel stays the holder,
// idle, and lets go when asked.
func (k *Kernel) boardDone() {
	k.mu.Lock()
	c := k.claim
	k.mu.Unlock()
	if c != nil {
		c.Done()
	}
}

// dropClaim gives the board up (the link was closed); closeClaim also stops
// answering (shutdown).
func (k *Kernel) dropClaim() {
	k.mu.Lock()
	c := k.claim
	k.mu.Unlock()
	if c != nil {
		c.Drop()
	}
}

func (k *Kernel) closeClaim() {
	k.mu.Lock()
	c := k.claim
	k.claim = nil
	k.mu.Unlock()
	if c != nil {
		c.Close()
	}
}
