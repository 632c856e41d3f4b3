// The board connection: dialling on first use, the notices about resets
// between cells, and what a failed Exec did to the session. Every path to
// the board goes through connect, so hooks on the connection live here.

package kernel

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"webrepl-kernel/handover"
	"webrepl-kernel/jupyter"
	"webrepl-kernel/webrepl"
)

// noteReconnect is the Session's OnReconnect: it remembers a reset of the
// board that happened while no operation ran, for the next cell to tell.
func (k *Kernel) noteReconnect(ramLost bool) {
	if !ramLost {
		return // a dropped link only: variables and imports are still there
	}
	k.mu.Lock()
	k.resetUntold = true
	k.mu.Unlock()
}

// forgetReset is called where the kernel explains a reset itself.
func (k *Kernel) forgetReset() {
	k.mu.Lock()
	k.resetUntold = false
	k.mu.Unlock()
}

// tellAboutReset says, once, that the board reset since the last cell, so
// that a NameError in the cell that follows makes sense.
func (k *Kernel) tellAboutReset(io cellIO, s *webrepl.Session) {
	k.mu.Lock()
	untold := k.resetUntold
	k.resetUntold = false
	k.mu.Unlock()
	if untold {
		io.stderr(fmt.Sprintf("The board was reset since the last cell (reconnected to %s): "+
			"variables and imports are gone; files stay.\n", s.URL()))
	}
}

// defineHelper defines the board-side function that gives cells an Out[n].
func (k *Kernel) defineHelper(cell *runningCell, s *webrepl.Session) *cellError {
	var discard strings.Builder
	cell.setSession(s)
	res, err := s.Exec(cell.ctx, []byte(helperProgram), &discard)
	cell.setSession(nil)
	if err != nil {
		return k.execFailure(cell, s, err)
	}
	if res != nil && res.Exception != nil {
		return hostError("RuntimeError", "preparing the board for cells failed: "+res.Exception.Type+": "+res.Exception.Message)
	}
	return nil
}

// execFailure explains an Exec that did not finish normally. After a reset
// or a dropped link webrepl has reconnected when it could, and that session
// is kept (the helper is defined again on demand, see missingHelper);
// otherwise the session is dropped and the next cell connects afresh.
func (k *Kernel) execFailure(cell *runningCell, s *webrepl.Session, err error) *cellError {
	interrupted, gaveUp := cell.state()
	lostBoard := errors.Is(err, webrepl.ErrProgramExited) || errors.Is(err, webrepl.ErrBoardReset) || errors.Is(err, webrepl.ErrLinkLost)
	// After sys.exit() webrepl does not wait for the board to come back:
	// the session reconnects when the next cell needs it.
	exited := errors.Is(err, webrepl.ErrProgramExited)
	keep := lostBoard && !gaveUp && cell.ctx.Err() == nil && (s.Connected() || exited)
	k.forgetReset() // the error below says what happened to the board
	if !keep {
		k.dropSession(s)
	}
	next := "; the next cell connects again"
	switch {
	case keep && s.Connected():
		next = "; reconnected to the board"
	case keep:
		next = "; the next cell reconnects"
	}
	switch {
	case gaveUp:
		return hostError("KeyboardInterrupt", fmt.Sprintf(
			"the board did not stop within %s of Ctrl-C: it is busy in code that cannot be interrupted over WebREPL "+
				"(on an ESP32, a loop that never sleeps). Press the board's reset button or power-cycle it; the next cell reconnects.",
			k.cfg.InterruptGrace))
	case interrupted && errors.Is(err, context.Canceled):
		return interruptedError()
	case errors.Is(err, webrepl.ErrProgramExited):
		return hostError("SystemExit", err.Error()+next)
	case lostBoard:
		return hostError("ConnectionResetError", err.Error()+next)
	case errors.Is(err, context.Canceled):
		return hostError("KernelShutdown", "the kernel is shutting down")
	}
	return hostError("ConnectionError", err.Error())
}

// dropSession forgets a session whose state is unknown and closes it.
func (k *Kernel) dropSession(s *webrepl.Session) {
	k.mu.Lock()
	if k.session == s {
		k.session = nil
		k.resetUntold = false // the next connection is fresh anyway
	}
	k.mu.Unlock()
	if err := s.Close(); err != nil {
		k.cfg.Logf("kernel: closing WebREPL session: %v", err)
	}
	k.dropClaim()
}

// connect returns the board session, dialling on first use.
func (k *Kernel) connect(cell *runningCell, r *jupyter.Request, req jupyter.ExecuteRequest, io cellIO) (*webrepl.Session, *cellError) {
	k.mu.Lock()
	url, closed := k.url, k.closed
	k.mu.Unlock()
	if closed {
		return nil, hostError("KernelShutdown", "the kernel is shutting down")
	}
	if url == "" {
		return nil, hostError("ConnectionError",
			"no board chosen: run %connect ws://HOST:8266/ in a cell, or install the kernel with --url")
	}
	if failure := k.holdBoard(cell, io, url); failure != nil {
		return nil, failure
	}
	k.mu.Lock()
	s, password := k.session, k.password
	k.mu.Unlock()
	if s != nil {
		return s, nil
	}
	if password == "" {
		var err error
		password, err = r.Input(cell.ctx, fmt.Sprintf("WebREPL password for %s: ", url), true)
		switch {
		case errors.Is(err, jupyter.ErrStdinNotAllowed):
			return nil, hostError("ConnectionError",
				"no WebREPL password: use %connect URL --password PW, or install the kernel with --password")
		case err != nil && cell.ctx.Err() != nil:
			return nil, interruptedError()
		case err != nil:
			return nil, hostError("ConnectionError", "asking for the WebREPL password: "+err.Error())
		}
	}
	s, err := webrepl.Dial(cell.ctx, url, webrepl.Options{Password: password, Pacing: k.cfg.Pacing,
		FullRawPasteWindow: k.cfg.FullRawPasteWindow, Window: k.cfg.Window, Logf: k.cfg.Logf, OnReconnect: k.noteReconnect})
	if err != nil {
		if interrupted, _ := cell.state(); interrupted && errors.Is(err, context.Canceled) {
			return nil, interruptedError()
		}
		if errors.Is(err, webrepl.ErrWrongPassword) {
			k.mu.Lock()
			if k.password == password {
				k.password = "" // ask again next time
			}
			k.mu.Unlock()
		}
		if errors.Is(err, webrepl.ErrBusy) && handover.Unsupported != "" {
			return nil, hostError("ConnectionError", err.Error()+"; "+handover.Unsupported)
		}
		return nil, hostError("ConnectionError", err.Error())
	}
	if failure := k.defineHelper(cell, s); failure != nil {
		_ = s.Close()
		return nil, failure
	}
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		_ = s.Close()
		return nil, hostError("KernelShutdown", "the kernel is shutting down")
	}
	k.session, k.password, k.resetUntold = s, password, false
	k.mu.Unlock()
	// Silent when it works: a first cell shows only what it printed, so
	// stored lesson outputs are the same on any board (%board tells).
	return s, nil
}
