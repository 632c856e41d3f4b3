package kernel

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"webrepl-kernel/handover"
	"webrepl-kernel/jupyter"
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
			if c.session != nil {
				c.gaveUp = true
			}
			c.mu.Unlock()
			c.cancel()
		}))
}

func (c *runningCell) abandon() { c.cancel() }

func (c *runningCell) setSession(s *webrepl.Session) {
	c.mu.Lock()
	c.session = s
	c.mu.Unlock()
}

func (c *runningCell) state() (interrupted, gaveUp bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.interrupted, c.gaveUp
}

// Interrupt stops the running cell, if any (interrupt_request and SIGINT).
func (k *Kernel) Interrupt() {
	k.mu.Lock()
	cell := k.cell
	k.mu.Unlock()
	if cell != nil {
		cell.interrupt(k.cfg.InterruptGrace)
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

// cellError is a failed cell as Jupyter shows it.
type cellError struct {
	ename, evalue string
	traceback     []string
}

// hostError is a failure found by the kernel rather than raised on the
// board: one readable line.
func hostError(ename, evalue string) *cellError {
	return &cellError{ename: ename, evalue: evalue, traceback: []string{"\x1b[0;31m" + ename + "\x1b[0m: " + evalue}}
}

func interruptedError() *cellError { return hostError("KeyboardInterrupt", "") }

// execute runs one execute_request.
func (k *Kernel) execute(ctx context.Context, r *jupyter.Request) {
	var req jupyter.ExecuteRequest
	if err := r.Decode(&req); err != nil {
		k.reply(r, jupyter.ExecuteReply{Status: jupyter.StatusError, ExecutionCount: k.executionCount,
			Ename: "ValueError", Evalue: err.Error(), Traceback: []string{err.Error()}})
		return
	}
	// stop_on_error: requests that were already queued when a cell failed
	// are not run (ipykernel's behaviour).
	if r.Received().Before(k.abortBefore) {
		k.reply(r, jupyter.ExecuteReply{Status: jupyter.StatusAborted, ExecutionCount: k.executionCount})
		return
	}
	if req.StoreHistory {
		k.executionCount++
		k.history.add(k.executionCount, req.Code)
	}
	count := k.executionCount
	if !req.Silent {
		k.publish(r, "execute_input", jupyter.ExecuteInput{Code: req.Code, ExecutionCount: count})
	}
	failure := k.runCell(ctx, r, req, count)
	if failure == nil {
		k.reply(r, jupyter.ExecuteReply{Status: jupyter.StatusOK, ExecutionCount: count})
		return
	}
	if !req.Silent {
		k.publish(r, "error", jupyter.Error{Ename: failure.ename, Evalue: failure.evalue, Traceback: failure.traceback})
	}
	k.reply(r, jupyter.ExecuteReply{Status: jupyter.StatusError, ExecutionCount: count,
		Ename: failure.ename, Evalue: failure.evalue, Traceback: failure.traceback})
	if req.StopOnError {
		k.abortBefore = time.Now()
	}
}

// cellIO publishes a cell's output unless the request is silent.
type cellIO struct {
	k      *Kernel
	r      *jupyter.Request
	silent bool
	count  int
	store  bool
}

func (io cellIO) stdout(text string) {
	if !io.silent && text != "" {
		io.k.publish(io.r, "stream", jupyter.Stream{Name: jupyter.Stdout, Text: text})
	}
}

func (io cellIO) stderr(text string) {
	if !io.silent && text != "" {
		io.k.publish(io.r, "stream", jupyter.Stream{Name: jupyter.Stderr, Text: text})
	}
}

func (io cellIO) result(repr string) {
	if io.silent {
		return
	}
	io.k.publish(io.r, "execute_result", jupyter.ExecuteResult{ExecutionCount: io.count,
		Data: jupyter.MIMEBundle{"text/plain": repr}})
	if io.store {
		io.k.history.setOutput(io.count, repr)
	}
}

func (k *Kernel) runCell(ctx context.Context, r *jupyter.Request, req jupyter.ExecuteRequest, count int) *cellError {
	io := cellIO{k: k, r: r, silent: req.Silent, count: count, store: req.StoreHistory}
	magics, code := splitMagics(req.Code)
	if len(magics) == 0 && strings.TrimSpace(code) == "" {
		return nil // an empty cell does not need the board
	}
	cell := k.startCell(ctx)
	defer k.reportUnreadInput(cell, io) // after endCell: deferred calls run last first
	defer k.endCell(cell)
	defer k.boardDone()
	for _, m := range magics {
		if failure := k.runMagic(cell, r, req, io, m); failure != nil {
			return failure
		}
	}
	if strings.TrimSpace(code) == "" {
		return nil
	}
	s, failure := k.connect(cell, r, req, io)
	if failure != nil {
		return failure
	}
	program := buildProgram(code, req.AllowStdin)
	for attempt := 0; ; attempt++ {
		k.tellAboutReset(io, s) // noticed earlier, e.g. by a completion
		var output *cellOutput
		output = newCellOutput(io.stdout, io.result, func(prompt string) { k.askInput(cell, r, s, output, prompt) })
		output.errStream = io.stderr
		cell.setSession(s)
		res, err := s.Exec(cell.ctx, program.code, output)
		cell.setSession(nil)
		output.Close()
		if err != nil {
			return k.execFailure(cell, s, err)
		}
		// Exec reconnects before it sends the program; a board that had
		// reset lost the helper too, so a wrapped cell has printed nothing
		// yet (missingHelper below) and the notice comes before its output.
		k.tellAboutReset(io, s)
		if res == nil || res.Exception == nil {
			return nil
		}
		e := boardError{Type: res.Exception.Type, Message: res.Exception.Message, Text: res.Exception.Text}
		if program.wrapped && attempt == 0 && missingHelper(e) {
			// The cell's globals lost the helper (globals().clear(), del);
			// nothing of the cell ran yet, so define it again and retry.
			if failure := k.defineHelper(cell, s); failure != nil {
				return failure
			}
			continue
		}
		ename, evalue, tb := errorOutput(e, program.wrapped)
		return &cellError{ename: ename, evalue: evalue, traceback: tb}
	}
}

// askInput answers the board's input(): it asks the frontend for a line
// (input_request) and types it on the board's console. It runs beside the
// cell, which keeps streaming output; an interrupt abandons the question.
// An answer of several lines (pasted text) is read the way a console reads
// pasted lines: the first answers this input(), the others the next
// input() calls of the cell without asking again, shown after their prompt
// by the board's echo. It is called under output's lock, so it must not
// block.
func (k *Kernel) askInput(cell *runningCell, r *jupyter.Request, s *webrepl.Session, output *cellOutput, prompt string) {
	cell.inputs.Add(1)
	if line, ok := cell.nextTypedAhead(); ok {
		output.stream(prompt) // the frame hid it; the echo follows it
		go func() {
			defer cell.inputs.Done()
			k.typeLine(s, line)
		}()
		return
	}
	go func() {
		defer cell.inputs.Done()
		value, err := r.Input(cell.inputCtx, prompt, false)
		if err != nil {
			// Interrupted (the Ctrl-C stops the board's input() too) or the
			// frontend went away: the user can still interrupt the cell.
			k.cfg.Logf("kernel: input(): %v", err)
			return
		}
		// One line at a time: a newline would end the board's readline early.
		lines := splitAnswer(value)
		cell.typeAhead(lines[1:])
		output.expectEcho(lines[0])
		k.typeLine(s, lines[0])
	}()
}

// typeLine types one line on the board's console, as Enter ends it.
func (k *Kernel) typeLine(s *webrepl.Session, line string) {
	if err := s.SendInput([]byte(line + "\r")); err != nil {
		k.cfg.Logf("kernel: typing input on the board: %v", err)
	}
}

// splitAnswer cuts an input_reply value into lines (CRLF, CR or LF); a final
// line end only ends the last line. There is always at least one line.
func splitAnswer(value string) []string {
	value = strings.ReplaceAll(strings.ReplaceAll(value, "\r\n", "\n"), "\r", "\n")
	return strings.Split(strings.TrimSuffix(value, "\n"), "\n")
}

func (c *runningCell) typeAhead(lines []string) {
	c.mu.Lock()
	c.typedAhead = append(c.typedAhead, lines...)
	c.mu.Unlock()
}

func (c *runningCell) nextTypedAhead() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.typedAhead) == 0 {
		return "", false
	}
	line := c.typedAhead[0]
	c.typedAhead = c.typedAhead[1:]
	return line, true
}

// reportUnreadInput tells, in one line, which typed lines no input() of the
// cell read: what the user typed is never dropped silently. It runs after
// endCell, when no answer can still arrive.
func (k *Kernel) reportUnreadInput(cell *runningCell, io cellIO) {
	cell.mu.Lock()
	unread := cell.typedAhead
	cell.typedAhead = nil
	cell.mu.Unlock()
	if len(unread) == 0 || io.silent {
		return
	}
	quoted := make([]string, len(unread))
	for i, line := range unread {
		quoted[i] = strconv.Quote(line)
	}
	what := "line was"
	if len(unread) > 1 {
		what = "lines were"
	}
	io.k.publish(io.r, "stream", jupyter.Stream{Name: jupyter.Stderr,
		Text: fmt.Sprintf("input(): %d typed %s not read by the cell: %s\n", len(unread), what, strings.Join(quoted, ", "))})
}

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
	io.stdout(fmt.Sprintf("Connected to %s (MicroPython %s)\n", s.URL(), s.Firmware()))
	return s, nil
}

// runMagic runs one line magic.
func (k *Kernel) runMagic(cell *runningCell, r *jupyter.Request, req jupyter.ExecuteRequest, io cellIO, m magicLine) *cellError {
	switch m.name {
	case "%lsmagic":
		var b strings.Builder
		for _, name := range magicNames() {
			b.WriteString(magicHelp[name] + "\n")
		}
		io.stdout(b.String())
		return nil
	case "%disconnect":
		k.mu.Lock()
		s := k.session
		k.mu.Unlock()
		if s == nil {
			io.stdout("Not connected.\n")
			return nil
		}
		k.dropSession(s)
		io.stdout(fmt.Sprintf("Disconnected from %s.\n", s.URL()))
		return nil
	case "%softreset", "%hardreset":
		return k.resetBoard(cell, r, req, io, m.name == "%hardreset")
	case "%connect":
		args, err := parseConnect(m.args)
		if err != nil {
			return hostError("UsageError", "%connect: "+err.Error())
		}
		k.mu.Lock()
		old := k.session
		k.url = args.url
		k.keep = args.keep || k.cfg.Keep
		if args.password != "" {
			k.password = args.password
		}
		k.mu.Unlock()
		if old != nil {
			k.dropSession(old)
		}
		_, failure := k.connect(cell, r, req, io)
		return failure
	}
	return hostError("UsageError", fmt.Sprintf("unknown magic %s (%%lsmagic lists the magics)", m.name))
}

// resetBoard resets the board and reconnects (webrepl does both). An
// interrupt abandons the wait, not the reset.
func (k *Kernel) resetBoard(cell *runningCell, r *jupyter.Request, req jupyter.ExecuteRequest, io cellIO, hard bool) *cellError {
	s, failure := k.connect(cell, r, req, io)
	if failure != nil {
		return failure
	}
	what, reset := "Soft reset", s.SoftReset
	if hard {
		what, reset = "Hard reset", s.HardReset
	}
	err := reset(cell.ctx)
	k.forgetReset() // said below, as done or failed
	if err != nil {
		if interrupted, _ := cell.state(); interrupted && errors.Is(err, context.Canceled) {
			k.dropSession(s)
			return interruptedError()
		}
		if !s.Connected() {
			k.dropSession(s)
		}
		return hostError("ConnectionError", err.Error())
	}
	io.stdout(what + " done: the board's RAM state (variables, imports) is cleared; files stay.\n")
	return nil
}
