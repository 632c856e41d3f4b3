package kernel

import (
	"context"
	"regexp"
	"strings"
	"time"

	"webrepl-kernel/jupyter"
	"webrepl-kernel/webrepl"
)

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

// exitCell is a cell that only asks to leave: exit, quit, exit(), quit(),
// exit(keep_kernel=True).
var exitCell = regexp.MustCompile(`^(?:exit|quit)(?:\(\s*(?:keep_kernel\s*=\s*(True|False)\s*)?\))?$`)

// exitRequest reports whether code is an exit cell and whether it keeps the
// kernel. IPython's exit is a host-side object, so the board never sees it.
func exitRequest(code string) (keepKernel, ok bool) {
	m := exitCell.FindStringSubmatch(strings.TrimSpace(code))
	if m == nil {
		return false, false
	}
	return m[1] == "True", true
}

// execute runs one execute_request.
func (k *Kernel) execute(ctx context.Context, r jupyter.Request) {
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
		k.history.add(k.executionCount, req.Code) // without %connect's password
	}
	count := k.executionCount
	if !req.Silent {
		// Broadcast to every frontend of the kernel: without %connect's password.
		k.publish(r, "execute_input", jupyter.ExecuteInput{Code: redactPasswordArgs(req.Code), ExecutionCount: count})
	}
	var failure *cellError
	var payload []any
	if keep, ok := exitRequest(req.Code); ok {
		// As ipykernel's exit: the frontend (jupyter console) ends, and
		// shuts the kernel down unless keep_kernel=True.
		payload = []any{map[string]any{"source": "ask_exit", "keepkernel": keep}}
	} else if q, ok := parseHelpQuery(req.Code); ok {
		failure, payload = k.runHelp(ctx, r, req, count, q)
	} else {
		failure = k.runCell(ctx, r, req, count)
		// What a frontend changed of the board's widgets while the cell
		// ran, and the cell did not read, reaches the board now.
		k.deliverWidgets(ctx, r, cellIO{k: k, r: r, silent: req.Silent, count: count})
	}
	if failure == nil {
		k.reply(r, jupyter.ExecuteReply{Status: jupyter.StatusOK, ExecutionCount: count, Payload: payload})
		return
	}
	k.noteUncompiled(count, failure)
	// The cut-off is taken before the error is told: a request the client
	// sends once it has seen the error reply is received after it and
	// runs. Taken after the reply, a loaded machine could let the next cell
	// arrive first and abort it.
	if req.StopOnError {
		k.abortBefore = time.Now()
	}
	failure = k.secrets.redactError(failure)
	if !req.Silent {
		k.publish(r, "error", jupyter.Error{Ename: failure.ename, Evalue: failure.evalue, Traceback: failure.traceback})
	}
	k.reply(r, jupyter.ExecuteReply{Status: jupyter.StatusError, ExecutionCount: count,
		Ename: failure.ename, Evalue: failure.evalue, Traceback: failure.traceback})
}

// cellIO publishes a cell's output unless the request is silent.
type cellIO struct {
	k      *Kernel
	r      jupyter.Request
	silent bool
	count  int
	store  bool
	// display reads the board messages of the cell (display.go); nil
	// where nothing displays (help).
	display *cellDisplay
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

func (k *Kernel) runCell(ctx context.Context, r jupyter.Request, req jupyter.ExecuteRequest, count int) *cellError {
	io := cellIO{k: k, r: r, silent: req.Silent, count: count, store: req.StoreHistory}
	io.display = &cellDisplay{io: io}
	magics, code := splitMagics(req.Code)
	if len(magics) == 0 && strings.TrimSpace(code) == "" {
		return nil // an empty cell does not need the board
	}
	k.widgets.setCellRunning(true) // a frontend's widget changes wait beside the cell
	defer k.widgets.setCellRunning(false)
	cell := k.startCell(ctx)
	defer k.reportUnreadInput(cell, io) // after endCell: deferred calls run last first
	defer k.endCell(cell)
	defer k.boardDone()
	k.setNotices(io.stderr) // "reconnecting to …" lines while this cell waits for the board
	defer k.setNotices(nil)
	defer io.display.finish() // the chart's last drawing, before the reply
	for _, m := range magics {
		if failure := k.runMagic(cell, r, req, io, m); failure != nil {
			return failure
		}
	}
	if strings.TrimSpace(code) == "" {
		return nil
	}
	return k.runOnBoard(cell, r, req, io, code, nil)
}

// runOnBoard runs code as a cell on the board (a cell's own code, or what
// %run sends); tidy, if set, edits the board's exception before it is shown.
func (k *Kernel) runOnBoard(cell *runningCell, r jupyter.Request, req jupyter.ExecuteRequest, io cellIO, code string, tidy func(boardError) boardError) *cellError {
	return k.runProgram(cell, r, req, io, buildProgram(code, req.AllowStdin, k.cells.add(io.count, code)), tidy)
}

// runProgram runs a built program on the board (a cell's, or the kernel's
// own, such as widgetboard.go's callbacks), connecting first if needed.
func (k *Kernel) runProgram(cell *runningCell, r jupyter.Request, req jupyter.ExecuteRequest, io cellIO, program cellProgram, tidy func(boardError) boardError) *cellError {
	var s *webrepl.Session
	var output *cellOutput
	// newOutput makes the writer of one attempt's output; what it does with
	// input() and widget answers goes to s, the session of that attempt.
	newOutput := func() *cellOutput {
		stdout := io.stdout
		if io.display != nil {
			stdout = io.display.text // %%plot reads the printed lines
		}
		out := newTokenOutput(program.token, stdout, io.result, func(prompt string) { k.askInput(cell, r, s, output, prompt) })
		out.errStream = io.stderr
		if io.display != nil {
			out.message = io.display.message
			// A widget's value asked for by the cell (widgetboard.go),
			// typed as an input() answer is.
			io.display.answer = func(line string) {
				cell.inputs.Add(1)
				go func() {
					defer cell.inputs.Done()
					out.expectEcho(line)
					k.typeLine(s, line)
				}()
			}
		}
		output = out
		return out
	}
	// With no session yet, the program rides with the connect.
	first := &firstRun{program: program, output: newOutput, started: func(started *webrepl.Session) {
		s = started
		cell.setOutput(s, output.cut)
	}}
	s, failure := k.connectWith(cell, r, req, io, first)
	if failure != nil {
		return failure
	}
	for attempt := 0; ; attempt++ {
		var res *webrepl.Result
		var err error
		if attempt == 0 && first.ran {
			res, err = first.res, first.err
		} else {
			k.tellAboutBoard(io, s) // noticed earlier, e.g. by a completion
			newOutput()
			cell.setOutput(s, output.cut)
			res, err = s.ExecMarked(cell.ctx, program.code, output, program.marks)
		}
		cell.setOutput(nil, nil)
		output.Close()
		if err != nil {
			return k.execFailure(cell, s, err)
		}
		// Exec reconnects before it sends the program; a board that had
		// reset lost the helper too, so a wrapped cell has printed nothing
		// yet (missingHelper below) and the notice comes before its output.
		k.tellAboutBoard(io, s)
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
		if program.wrapped && attempt <= 1 && missingJupyter(e) {
			// The cell mentions the module jupyter, which this board does
			// not have yet; nothing of the cell ran.
			if failure := k.defineJupyter(cell, s); failure != nil {
				return failure
			}
			attempt++ // once: a second miss is an error to show
			continue
		}
		if tidy != nil {
			e = tidy(e)
		}
		ename, evalue, tb := errorOutput(e, program.wrapped, &k.cells)
		if ename == "ImportError" && strings.Contains(evalue, "'jupyter'") {
			tb = append(tb, "The kernel puts the module jupyter on the board before a cell that mentions it: run `import jupyter` in a cell first.")
		}
		return &cellError{ename: ename, evalue: evalue, traceback: tb}
	}
}
