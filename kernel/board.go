// The board connection: dialling on first use, the notices about the board
// (reset, replaced, new firmware, reconnecting), and what a failed Exec did
// to the session. Every path to the board goes through connect, so hooks on
// the connection live here.

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

// noteReconnecting is the Session's OnReconnecting: a board that does not
// answer at once (gone, rebooting, out of Wi-Fi range) shows a line in the
// running cell as each attempt begins, so the user sees within a second
// what the cell waits for; the cell's error gives the cause at the end.
// Outside a cell (a completion reconnecting) the line goes to the log only.
func (k *Kernel) noteReconnecting(attempt int, cause error) {
	k.mu.Lock()
	tell, url, before := k.notices, k.url, k.seen.URL == k.url
	k.mu.Unlock()
	verb := "connecting"
	if before {
		verb = "reconnecting" // this kernel has run cells on that board
	}
	line := fmt.Sprintf("%s to %s (attempt %d)", verb, url, attempt)
	k.cfg.Logf("kernel: %s; last error: %v", line, cause)
	if tell != nil {
		tell(line + "\n")
	}
}

// setNotices says where noteReconnecting's lines go: the running cell's
// stderr, or nowhere (nil) between cells and during the kernel's own resets.
func (k *Kernel) setNotices(tell func(string)) {
	k.mu.Lock()
	k.notices = tell
	k.mu.Unlock()
}

// boardExplained is called where the kernel explains a change of the board
// itself (%softreset, an error saying the board reset): the board as it is
// now is taken as seen, so the next cell does not tell it again. resetTold:
// the kernel said the board resets but it has not come back yet (after
// sys.exit()), so the reset it shows when it does is not told again.
func (k *Kernel) boardExplained(s *webrepl.Session, resetTold bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case s.Connected():
		k.seen = s.Board()
		k.resetExplained = false
	case resetTold:
		k.resetExplained = true
	}
}

// tellAboutBoard says, once, what happened to the board since the last cell
// when it matters for what follows: another board answers at the address,
// the firmware changed, or the board reset (a NameError in the cell that
// follows then makes sense). Nothing is said for the first board of a URL,
// nor when nothing changed, except what a restart before this kernel did to
// it (restart.go).
func (k *Kernel) tellAboutBoard(io cellIO, s *webrepl.Session) {
	now := s.Board()
	if now.Pending {
		// Not known yet: webrepl.DialExec asks after the first program. A
		// board met for the first time since it started has no helper
		// either, so a cell's first attempt ran nothing and the retry
		// tells this first (runProgram).
		return
	}
	k.mu.Lock()
	before, explained, note := k.seen, k.resetExplained, k.restartNote
	k.seen = now
	if before.Boot != now.Boot {
		k.resetExplained = false
	}
	k.restartNote = nil // told by the first board this kernel connects to, or never
	k.mu.Unlock()
	msg := boardChange(before, now, explained)
	if note != nil && before.URL == "" {
		msg = restartLine(*note, now)
	}
	if msg != "" {
		io.stderr(msg + "\n")
	}
}

// boardChange is the one-line notice for a board that was before and is
// now now, or "" when there is nothing to tell. explained: the kernel has
// already said that the board resets (sys.exit()).
func boardChange(before, now webrepl.BoardInfo, explained bool) string {
	if before.URL == "" || before.URL != now.URL || before.Boot == "" || now.Boot == "" {
		return ""
	}
	switch {
	case !now.SameBoard(before):
		return fmt.Sprintf("A different board answers at %s since the last cell (%s; it was %s): "+
			"variables and imports are gone, and its files may differ.", now.URL, now, before)
	case !now.SameFirmware(before):
		from, to := "MicroPython "+before.Firmware.String(), "MicroPython "+now.Firmware.String()
		if before.Firmware == now.Firmware {
			from, to = before.Build, now.Build
		}
		return fmt.Sprintf("The board's firmware changed since the last cell (%s → %s, at %s): "+
			"variables and imports are gone; files stay.", from, to, now.URL)
	case now.Boot != before.Boot && !explained:
		return fmt.Sprintf("The board was reset since the last cell (reconnected to %s): "+
			"variables and imports are gone; files stay.", now.URL)
	}
	return ""
}

// defineHelper defines the board-side function that gives cells an Out[n].
func (k *Kernel) defineHelper(cell *runningCell, s *webrepl.Session) *cellError {
	k.cfg.Logf("kernel: defining %s on the board", helperName)
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
	// A board the kernel gave up on keeps its session, which watches it
	// and refuses work until it stops (webrepl.ErrStillRunning).
	stuck := gaveUp && s.StillRunning()
	keep = keep || stuck || errors.Is(err, webrepl.ErrStillRunning) || errors.Is(err, webrepl.ErrFirstProgramUnseen)
	if lostBoard {
		k.boardExplained(s, exited) // the error below says what happened to the board
	}
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
	case stuck:
		return hostError("KeyboardInterrupt", fmt.Sprintf(
			"the board did not stop within %s of Ctrl-C: it is busy in code that cannot be interrupted over WebREPL "+
				"(on an ESP32, a loop that never sleeps). Its further output is not shown; cells say the board is busy "+
				"until it stops. Press the board's reset button or power-cycle it; the next cell then reconnects.",
			k.cfg.InterruptGrace))
	case gaveUp:
		return hostError("KeyboardInterrupt", fmt.Sprintf(
			"the board did not stop within %s of Ctrl-C: it is busy in code that cannot be interrupted over WebREPL "+
				"(on an ESP32, a loop that never sleeps). Press the board's reset button or power-cycle it; the next cell reconnects.",
			k.cfg.InterruptGrace))
	case errors.Is(err, webrepl.ErrFirstProgramUnseen):
		return hostError("ConnectionError", err.Error()+": run the cell again if it did not do its work")
	case errors.Is(err, webrepl.ErrStillRunning):
		return hostError("RuntimeError", err.Error()+
			": press the board's reset button, or wait until that code ends (Interrupt sends Ctrl-C again)")
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
	}
	k.mu.Unlock()
	if err := s.Close(); err != nil {
		k.cfg.Logf("kernel: closing WebREPL session: %v", err)
	}
	k.dropClaim()
}

// connect returns the board session, dialling on first use.
func (k *Kernel) connect(cell *runningCell, r jupyter.Request, req jupyter.ExecuteRequest, io cellIO) (*webrepl.Session, *cellError) {
	return k.connectWith(cell, r, req, io, nil)
}

// firstRun is a cell's program that rides with the connect when the kernel
// has no session yet (webrepl.DialExec: connect and first output within one
// round trip), and what came of it: ran once DialExec connected, with the
// program's result and error as ExecMarked would give them.
type firstRun struct {
	program cellProgram
	// output makes the writer the program's output goes to; started is told
	// the session before that output is read (input(), Interrupt).
	output  func() *cellOutput
	started func(*webrepl.Session)
	ran     bool
	res     *webrepl.Result
	err     error
}

// connectWith is connect; when it dials and first is not nil, first's
// program runs as part of the connect. The board's files are tidied after
// it (Recover), so its output comes first.
func (k *Kernel) connectWith(cell *runningCell, r jupyter.Request, req jupyter.ExecuteRequest, io cellIO, first *firstRun) (*webrepl.Session, *cellError) {
	k.mu.Lock()
	url, closed, problem := k.url, k.closed, k.problem
	k.mu.Unlock()
	if closed {
		return nil, hostError("KernelShutdown", "the kernel is shutting down")
	}
	if problem != nil {
		return nil, hostError("ConnectionError", problem.Error()+"; %connect URL picks a board meanwhile")
	}
	if url == "" {
		return nil, hostError("ConnectionError",
			"no board chosen: run %connect ws://HOST:8266/ (or %connect serial:///dev/ttyUSB0) in a cell, or install the kernel with --url")
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
	if password == "" && !webrepl.IsSerial(url) { // a serial port takes no password
		var err error
		password, err = r.Input(cell.ctx, fmt.Sprintf("WebREPL password for %s: ", url), true)
		k.addSecret(password)
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
	k.mu.Lock()
	tookOver := k.claim != nil && k.claim.TookOver()
	k.mu.Unlock()
	opts := webrepl.Options{Password: password, Pacing: k.cfg.Pacing,
		Window: k.cfg.Window, Logf: k.cfg.Logf, OnReconnecting: k.noteReconnecting,
		AfterHandOver: tookOver}
	var err error
	if first != nil {
		var res *webrepl.Result
		marks := first.program.marks
		out := first.output()
		s, res, err = webrepl.DialExec(cell.ctx, url, opts, webrepl.FirstProgram{Code: first.program.code,
			Stdout: out, Marks: &marks, Started: func(s *webrepl.Session) {
				k.tellAboutBoard(io, s) // before the cell's output, as for later cells (unless Pending)
				first.started(s)
			}})
		if s != nil {
			first.ran, first.res, first.err, err = true, res, err, nil
		} else {
			out.Close()
		}
	} else {
		s, err = webrepl.Dial(cell.ctx, url, opts)
	}
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
	// The helper that runs cells is defined when a cell finds it missing
	// (runProgram): a board that met this kernel's helper since it started
	// still has it, and the first cell rides with the connect.
	//
	// A transfer into / cut off between its two renames (a reset there)
	// left main.py or boot.py under its backup name: put it back now
	// (webrepl/atomic.go). Other folders are tidied by their next transfer.
	if _, err := s.Recover(cell.ctx, "/"); err != nil {
		k.cfg.Logf("kernel: tidying / after earlier transfers: %v", err)
	}
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		_ = s.Close()
		return nil, hostError("KernelShutdown", "the kernel is shutting down")
	}
	k.session, k.password = s, password
	k.mu.Unlock()
	if first == nil {
		k.tellAboutBoard(io, s) // a board replaced or reset while no session was open
	}
	// Silent when it works: a first cell shows only what it printed, so
	// stored lesson outputs are the same on any board (%board tells).
	return s, nil
}
