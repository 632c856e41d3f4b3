package notebook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"webrepl-kernel/jupyter"
)

// Tags with a meaning for the runner (nbclient's convention and ours).
const (
	TagRaisesException = "raises-exception" // the cell must raise; that is not a failure
	TagOutputVaries    = "output-varies"    // Check does not compare the cell's outputs
)

// interruptGrace is how long a cell that overran its timeout has to end
// after the interrupt before the runner gives up on it (and on its kernel).
const interruptGrace = 30 * time.Second

// Kernel is what the runner needs of a running kernel.
type Kernel interface {
	Execute(ctx context.Context, req jupyter.ExecuteRequest, hooks jupyter.ExecuteHooks) (jupyter.ExecuteReply, error)
	Interrupt(ctx context.Context) error
	Stop() error // ends the kernel
}

// Options configure Run.
type Options struct {
	// StartKernel starts a fresh kernel; each notebook gets its own.
	StartKernel func(ctx context.Context) (Kernel, error)
	// KernelName is the kernelspec name notebooks must have; others are
	// skipped with a note.
	KernelName string
	// OutputDir, if set, receives each executed notebook under its own
	// name. It may be the notebooks' own folder (stored outputs are then
	// updated in place; a notebook that failed is not written there).
	OutputDir string
	// CellTimeout bounds one cell (0: no limit); a cell that overruns is
	// interrupted and fails the notebook.
	CellTimeout time.Duration
	// Check compares each cell's new outputs with the stored ones (cells
	// tagged output-varies excepted); a difference fails the notebook.
	Check bool
	// Out receives one line per cell and the summaries.
	Out io.Writer
	// ShowOutputs prints each cell's outputs under its line.
	ShowOutputs bool
}

// Summary counts what Run did.
type Summary struct {
	Passed, Failed, Skipped       int // notebooks
	Cells, CellsFailed, CellsDiff int
	Stopped                       bool // ctx ended: the rest was not run
}

// OK reports whether no notebook failed and the run was not stopped.
func (s Summary) OK() bool { return s.Failed == 0 && !s.Stopped }

// Run runs the notebooks in order and prints their cells' results and a
// summary to opts.Out. It stops early (Summary.Stopped) when ctx ends,
// interrupting the running cell first.
func Run(ctx context.Context, opts Options, paths []string) Summary {
	var sum Summary
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	for _, path := range paths {
		if ctx.Err() != nil {
			sum.Stopped = true
			break
		}
		r := &notebookRun{opts: opts, path: path, out: opts.Out}
		switch r.run(ctx) {
		case passed:
			sum.Passed++
		case failed:
			sum.Failed++
		case skipped:
			sum.Skipped++
		}
		sum.Cells += r.cells
		sum.CellsFailed += r.cellsFailed
		sum.CellsDiff += r.cellsDiff
		if r.stopped {
			sum.Stopped = true
			break
		}
	}
	fmt.Fprintf(opts.Out, "cells: %d run, %d failed, %d differ from the stored outputs\n", sum.Cells, sum.CellsFailed, sum.CellsDiff)
	if sum.Stopped {
		fmt.Fprintln(opts.Out, "stopped before the end: the remaining notebooks were not run")
	}
	fmt.Fprintf(opts.Out, "notebooks: %d passed, %d failed, %d skipped\n", sum.Passed, sum.Failed, sum.Skipped)
	return sum
}

// Result is how one notebook went, for callers that tabulate runs
// (RunNotebook).
type Result struct {
	Path    string
	Verdict string // "passed", "failed" or "skipped"
	// Cell is the first failing code cell (1 = the first code cell), 0
	// when the notebook failed before or without one (the kernel did not
	// start, outputs differ, the run was stopped).
	Cell int
	// Why is the failure in one line ("raised NameError: …", "ran longer
	// than 2m0s and was interrupted", "starting the kernel: …").
	Why string
	// Ename is the failing cell's error name (from the kernel's reply),
	// e.g. "NameError" or the kernel's own "ConnectionError".
	Ename   string
	Detail  []string // the failing cell's traceback or diff, rendered
	Stopped bool     // ctx ended: the notebook was not run to its end
	Elapsed time.Duration
}

// RunNotebook runs one notebook as Run does (its lines go to opts.Out, no
// summary) and returns how it went.
func RunNotebook(ctx context.Context, opts Options, path string) Result {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	start := time.Now()
	r := &notebookRun{opts: opts, path: path, out: opts.Out}
	v := r.run(ctx)
	res := Result{Path: path, Verdict: [...]string{passed: "passed", failed: "failed", skipped: "skipped"}[v],
		Cell: r.failedCell, Why: r.failedWhy, Ename: r.failedEname, Detail: r.failedDetail, Stopped: r.stopped,
		Elapsed: time.Since(start)}
	if v == failed && res.Why == "" {
		res.Why = r.verdictWhy
	}
	return res
}

type verdict int

const (
	passed verdict = iota
	failed
	skipped
)

// notebookRun is one notebook's run.
type notebookRun struct {
	opts Options
	path string
	out  io.Writer

	cells, cellsFailed, cellsDiff int
	stopped                       bool
	// The first failing cell, for RunNotebook; verdictWhy: the reason
	// printed on the notebook's failed line.
	failedCell             int
	failedWhy, failedEname string
	failedDetail           []string
	verdictWhy             string
	// widgets: the widget models the cells made, saved in the metadata.
	widgets widgetState
}

func (r *notebookRun) run(ctx context.Context) verdict {
	start := time.Now()
	nb, err := Read(r.path)
	if err != nil {
		fmt.Fprintf(r.out, "%s: failed: %v\n", r.path, err)
		r.verdictWhy = err.Error()
		return failed
	}
	if name := nb.KernelName(); name != r.opts.KernelName {
		why := "no kernelspec in its metadata"
		if name != "" {
			why = "its kernel is " + name
		}
		fmt.Fprintf(r.out, "%s: skipped: %s, not %s\n", r.path, why, r.opts.KernelName)
		return skipped
	}
	var code []*Cell
	for _, c := range nb.Cells {
		if c.Type() == "code" && strings.TrimSpace(c.Source()) != "" {
			code = append(code, c)
		}
	}
	fmt.Fprintf(r.out, "%s (%d code cells)\n", r.path, len(code))
	k, err := r.opts.StartKernel(ctx)
	if err != nil {
		fmt.Fprintf(r.out, "%s: failed: starting the kernel: %v\n", r.path, err)
		r.verdictWhy = "starting the kernel: " + err.Error()
		r.stopped = ctx.Err() != nil
		return failed
	}
	firstFailure := ""
	for i, c := range code {
		res := r.runCell(ctx, k, c)
		r.cells++
		label := fmt.Sprintf("[%d/%d]", i+1, len(code))
		fmt.Fprintf(r.out, "  %-7s %-7s %5.1fs  %s%s\n", label, res.status, res.elapsed.Seconds(), snippet(c.Source()), res.detail)
		if r.opts.ShowOutputs {
			for _, l := range res.shown {
				fmt.Fprintf(r.out, "          | %s\n", l)
			}
		}
		for _, l := range res.extra {
			fmt.Fprintf(r.out, "          %s\n", l)
		}
		if res.failed {
			r.cellsFailed++
			if firstFailure == "" {
				firstFailure = fmt.Sprintf("cell %d %s", i+1, res.why)
				r.failedCell, r.failedWhy, r.failedEname, r.failedDetail = i+1, res.why, res.ename, res.extra
			}
		}
		if res.differs {
			r.cellsDiff++
		}
		if res.fatal {
			if rest := len(code) - i - 1; rest > 0 {
				fmt.Fprintf(r.out, "  [%d-%d/%d] not run: %s\n", i+2, len(code), len(code), res.why)
				for _, later := range code[i+1:] {
					later.SetResult(nil, nil)
				}
			}
			break
		}
	}
	if err := k.Stop(); err != nil {
		fmt.Fprintf(r.out, "  stopping the kernel: %v\n", err)
	}
	if ctx.Err() != nil {
		r.stopped = true
	}
	ok := firstFailure == "" && r.cellsDiff == 0 && !r.stopped
	r.widgets.save(nb)
	r.write(nb, ok)
	elapsed := time.Since(start).Round(100 * time.Millisecond)
	switch {
	case ok:
		fmt.Fprintf(r.out, "%s: passed (%v)\n", r.path, elapsed)
		return passed
	case firstFailure != "":
		fmt.Fprintf(r.out, "%s: failed: %s (%v)\n", r.path, firstFailure, elapsed)
	case r.cellsDiff > 0:
		r.verdictWhy = fmt.Sprintf("%d cell(s) differ from the stored outputs", r.cellsDiff)
		fmt.Fprintf(r.out, "%s: failed: %s (%v)\n", r.path, r.verdictWhy, elapsed)
	default:
		r.verdictWhy = "stopped"
		fmt.Fprintf(r.out, "%s: failed: stopped (%v)\n", r.path, elapsed)
	}
	return failed
}

// write stores the executed notebook in OutputDir, if one was given.
func (r *notebookRun) write(nb *Notebook, ok bool) {
	if r.opts.OutputDir == "" {
		return
	}
	dest := filepath.Join(r.opts.OutputDir, filepath.Base(r.path))
	if !ok && sameFile(dest, r.path) {
		fmt.Fprintf(r.out, "  not written: it failed, and %s keeps its stored outputs\n", dest)
		return
	}
	if err := nb.Write(dest); err != nil {
		fmt.Fprintf(r.out, "  not written: %v\n", err)
		return
	}
	fmt.Fprintf(r.out, "  written to %s\n", dest)
}

func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// cellResult is how one cell went.
type cellResult struct {
	status  string   // the word on the cell's line
	detail  string   // appended to the line
	extra   []string // lines under it (a traceback, a diff)
	shown   []string // the outputs, rendered (Options.ShowOutputs)
	why     string   // for the notebook's verdict
	elapsed time.Duration
	ename   string // the kernel's error name when the cell raised
	failed  bool   // the cell failed
	fatal   bool   // the notebook cannot go on (later cells are not run)
	differs bool   // Check found other outputs than the stored ones
}

// runCell executes one cell, stores its outputs in it and says how it went.
func (r *notebookRun) runCell(ctx context.Context, k Kernel, c *Cell) cellResult {
	stored := render(c.Outputs())
	answers, allowStdin, err := c.InputAnswers()
	if err != nil {
		return cellResult{status: "FAILED", detail: "  — " + err.Error(), why: err.Error(), failed: true, fatal: true}
	}
	start := time.Now()
	var outs outputs
	var interrupts sync.WaitGroup
	interrupt := func() {
		interrupts.Add(1)
		go func() {
			defer interrupts.Done()
			ictx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = k.Interrupt(ictx) // if it fails the timeout below still ends the wait
		}()
	}
	var inputProblem error
	given := 0
	hooks := jupyter.ExecuteHooks{
		Output: func(m jupyter.Message) {
			if strings.HasPrefix(m.Type, "comm_") {
				r.widgets.add(m)
				return
			}
			outs.add(m)
		},
		Input: func(req jupyter.InputRequest) (string, error) {
			if given < len(answers) {
				given++
				return answers[given-1], nil
			}
			inputProblem = fmt.Errorf("input() asked a %s time (prompt %q) but metadata webrepl.input gives %d answer(s)",
				ordinal(given+1), req.Prompt, len(answers))
			interrupt() // the kernel waits for an answer that will not come
			return "", inputProblem
		},
	}
	execCtx, cancelExec := context.WithCancelCause(ctx)
	var timedOut atomic.Bool
	stop := make(chan struct{})
	watcher := make(chan struct{})
	go func() {
		defer close(watcher)
		if r.opts.CellTimeout <= 0 {
			return
		}
		t := time.NewTimer(r.opts.CellTimeout)
		defer t.Stop()
		select {
		case <-stop:
			return
		case <-t.C:
		}
		timedOut.Store(true)
		interrupt()
		t.Reset(interruptGrace)
		select {
		case <-stop:
		case <-t.C:
			cancelExec(fmt.Errorf("it did not end within %v of the interrupt", interruptGrace))
		}
	}()
	reply, execErr := k.Execute(execCtx, jupyter.ExecuteRequest{
		Code: c.Source(), StoreHistory: true, AllowStdin: allowStdin, StopOnError: true,
		UserExpressions: map[string]string{},
	}, hooks)
	close(stop)
	<-watcher
	cancelExec(nil)
	if execErr != nil && ctx.Err() != nil {
		interrupt() // Ctrl-C: the board must not go on running the cell
	}
	interrupts.Wait()

	got := outs.list
	res := cellResult{elapsed: time.Since(start), shown: render(got)}
	if execErr == nil {
		count := reply.ExecutionCount
		c.SetResult(&count, got)
	} else {
		c.SetResult(nil, got)
	}
	tagged := c.HasTag(TagRaisesException)
	switch {
	case ctx.Err() != nil:
		res.status, res.why, res.failed, res.fatal = "STOPPED", "the run was stopped", true, true
		return res
	case timedOut.Load():
		res.status, res.failed, res.fatal = "TIMEOUT", true, true
		res.why = fmt.Sprintf("ran longer than %v and was interrupted", r.opts.CellTimeout)
		if execErr != nil {
			res.why += "; " + execErr.Error()
		}
		res.detail = "  — " + res.why
		return res
	case inputProblem != nil:
		res.status, res.why, res.failed, res.fatal = "FAILED", inputProblem.Error(), true, true
		res.detail = "  — " + res.why
		return res
	case execErr != nil:
		res.status, res.why, res.failed, res.fatal = "FAILED", execErr.Error(), true, true
		res.detail = "  — " + res.why
		return res
	case reply.Status == jupyter.StatusError && !tagged:
		res.status, res.failed, res.fatal, res.ename = "FAILED", true, true, reply.Ename
		res.why = "raised " + errorLine(reply)
		res.detail = "  — " + errorLine(reply)
		if !r.opts.ShowOutputs {
			res.extra = render(errorOutputs(got))
		}
		return res
	case reply.Status == jupyter.StatusOK && tagged:
		res.status, res.failed = "FAILED", true
		res.why = "is tagged " + TagRaisesException + " but raised nothing"
		res.detail = "  — " + res.why
	case reply.Status != jupyter.StatusOK && reply.Status != jupyter.StatusError:
		res.status, res.failed, res.fatal = "FAILED", true, true
		res.why = fmt.Sprintf("the kernel answered %q", reply.Status)
		res.detail = "  — " + res.why
		return res
	case reply.Status == jupyter.StatusError:
		res.status, res.detail = "raised", "  — "+errorLine(reply)+" (tagged "+TagRaisesException+")"
	default:
		res.status = "ok"
	}
	if r.opts.Check && !c.HasTag(TagOutputVaries) {
		if now := render(got); !equalLines(stored, now) {
			res.differs = true
			if !res.failed {
				res.status = "DIFFERS"
			}
			res.extra = append(res.extra, "--- stored", "+++ this run")
			res.extra = append(res.extra, diffLines(stored, now)...)
		}
	}
	return res
}

// errorOutputs keeps the error outputs (a failed cell shows its traceback).
func errorOutputs(outs []map[string]any) []map[string]any {
	var errs []map[string]any
	for _, o := range outs {
		if o["output_type"] == "error" {
			errs = append(errs, o)
		}
	}
	return errs
}

func errorLine(reply jupyter.ExecuteReply) string {
	if reply.Evalue == "" {
		return reply.Ename
	}
	return reply.Ename + ": " + reply.Evalue
}

// snippet is the cell's first non-blank line, shortened for its line.
func snippet(source string) string {
	for _, l := range strings.Split(source, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if r := []rune(l); len(r) > 40 {
			l = string(r[:39]) + "…"
		}
		return l
	}
	return ""
}

func ordinal(n int) string {
	switch n {
	case 1:
		return "1st"
	case 2:
		return "2nd"
	case 3:
		return "3rd"
	}
	return fmt.Sprintf("%dth", n)
}

// LaunchKernel returns an Options.StartKernel that starts argv as a
// kernel process (jupyter.Launch) with env added to its environment and
// its output on output.
func LaunchKernel(argv, env []string, output io.Writer) func(context.Context) (Kernel, error) {
	return func(ctx context.Context) (Kernel, error) {
		k, err := jupyter.Launch(ctx, jupyter.LaunchOptions{Argv: argv, Env: env, Output: output})
		if err != nil {
			return nil, err
		}
		return launched{k}, nil
	}
}

// launched adapts a jupyter.LaunchedKernel: an Execute ends, with the
// cause, when the kernel process dies.
type launched struct{ k *jupyter.LaunchedKernel }

func (l launched) Execute(ctx context.Context, req jupyter.ExecuteRequest, hooks jupyter.ExecuteHooks) (jupyter.ExecuteReply, error) {
	ctx, cancel := l.k.Context(ctx)
	defer cancel()
	reply, err := l.k.Execute(ctx, req, hooks)
	if err != nil && errors.Is(context.Cause(ctx), jupyter.ErrKernelExited) {
		return reply, context.Cause(ctx)
	}
	return reply, err
}

func (l launched) Interrupt(ctx context.Context) error { return l.k.Interrupt(ctx) }

func (l launched) Stop() error { return l.k.Stop(5 * time.Second) }
