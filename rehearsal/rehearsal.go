// Package rehearsal runs every lesson on every board of a classroom, the
// evening before (`webrepl-kernel run --boards FILE`): boards in parallel
// (a bounded number at once), the lessons of one board one after another
// (a board takes one WebREPL client), each lesson in a fresh kernel through
// package notebook. Each board × lesson gets one status, and a board that
// cannot be used (unreachable, wrong password, busy with another client,
// no readable password) is told apart from a lesson that fails on it: the
// board is probed with a WebREPL login of its own before its lessons and
// again after a lesson fails on the connection; once a probe fails, the
// board's remaining lessons take its status. It knows no Jupyter wire
// and no board map format (the caller turns a map into Boards).
package rehearsal

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"webrepl-kernel/notebook"
	"webrepl-kernel/webrepl"
)

// Status is how one lesson went on one board.
type Status string

// The statuses, in the order the summary counts them.
const (
	OK            Status = "ok"
	Failed        Status = "failed"         // the lesson failed on a board that answered
	Unreachable   Status = "unreachable"    // nothing answered, or not as a WebREPL server (dial failure, timeout)
	WrongPassword Status = "wrong password" // the board said "Access denied"
	Busy          Status = "busy"           // another WebREPL client holds the board
	NoPassword    Status = "no password"    // the map's password for the board could not be read
	Skipped       Status = "skipped"        // the notebook is for another kernel
	NotRun        Status = "not run"        // the rehearsal was stopped first
)

var statusOrder = []Status{OK, Failed, Unreachable, WrongPassword, Busy, NoPassword, Skipped, NotRun}

// Board is one board to rehearse on.
type Board struct {
	Name        string   // as the map names it: "alice", "@table3"
	URL         string   // ws://HOST:PORT/
	Learners    []string // who uses it (for the report)
	Password    string
	PasswordErr error // the password could not be read: the board's lessons are not run
}

// Options configure Run.
type Options struct {
	// Jobs is how many boards are worked on at once (default 8).
	Jobs int
	// Notebook is passed to notebook.RunNotebook (KernelName, CellTimeout,
	// Check); its StartKernel and Out are set per board.
	Notebook notebook.Options
	// StartKernel returns a notebook.Options.StartKernel for a kernel on
	// the board at url with password.
	StartKernel func(url, password string) func(context.Context) (notebook.Kernel, error)
	// Probe logs in to the board and leaves (nil: webrepl.Dial, Close);
	// its error is classified with errors.Is against webrepl's errors.
	Probe func(ctx context.Context, url, password string) error
	// ProbeTimeout bounds one probe (default 30 s).
	ProbeTimeout time.Duration
	// Progress, if set, is told each board × lesson as it ends (from the
	// board's goroutine: calls for different boards may overlap).
	Progress func(b Board, o Outcome)
}

// Outcome is one board × lesson.
type Outcome struct {
	Lesson  string   `json:"lesson"`
	Status  Status   `json:"status"`
	Cell    int      `json:"cell,omitempty"`   // the failing code cell (1 = the first)
	Error   string   `json:"error,omitempty"`  // one line
	Detail  []string `json:"detail,omitempty"` // the failing cell's traceback or diff
	Seconds float64  `json:"seconds"`
	Log     []string `json:"log,omitempty"`   // the run's lines, as `run` prints them
	Ename   string   `json:"ename,omitempty"` // the failing cell's error name (NameError, ConnectionError)
}

// BoardReport is one board's row.
type BoardReport struct {
	Name     string    `json:"name"`
	URL      string    `json:"url"`
	Learners []string  `json:"learners,omitempty"`
	Results  []Outcome `json:"results"`
}

// Report is the whole rehearsal; it is also the JSON report.
type Report struct {
	Map     string         `json:"map,omitempty"`
	Lessons []string       `json:"lessons"`
	Boards  []BoardReport  `json:"boards"`
	Counts  map[Status]int `json:"counts"` // board × lesson pairs per status
	// BoardsReady: boards on which every lesson passed (or was skipped).
	BoardsReady int     `json:"boards_ready"`
	Seconds     float64 `json:"seconds"`
	OK          bool    `json:"ok"`
}

// Run rehearses lessons on boards and returns the report; it returns early,
// with the rest NotRun, when ctx ends.
func Run(ctx context.Context, boards []Board, lessons []string, opts Options) *Report {
	if opts.Jobs <= 0 {
		opts.Jobs = 8
	}
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = 30 * time.Second
	}
	if opts.Probe == nil {
		opts.Probe = probe
	}
	start := time.Now()
	rep := &Report{Lessons: lessons, Boards: make([]BoardReport, len(boards))}
	slots := make(chan struct{}, opts.Jobs)
	var wg sync.WaitGroup
	for i, b := range boards {
		rep.Boards[i] = BoardReport{Name: b.Name, URL: b.URL, Learners: b.Learners}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			case <-ctx.Done():
			}
			rep.Boards[i].Results = rehearseBoard(ctx, b, lessons, opts)
		}()
	}
	wg.Wait()
	rep.Seconds = time.Since(start).Seconds()
	rep.count()
	return rep
}

// rehearseBoard runs the lessons on one board, one after another. Once
// the board could not be used (a probe failed), its remaining lessons get
// the same status without trying again: a board that does not answer costs
// one probe timeout, not one a lesson.
func rehearseBoard(ctx context.Context, b Board, lessons []string, opts Options) []Outcome {
	out := make([]Outcome, len(lessons))
	var down *Outcome // the probe that found the board unusable
	probed := false
	for i, lesson := range lessons {
		switch {
		case ctx.Err() != nil:
			out[i] = Outcome{Lesson: lesson, Status: NotRun, Error: "the rehearsal was stopped"}
		case b.PasswordErr != nil:
			out[i] = Outcome{Lesson: lesson, Status: NoPassword, Error: b.PasswordErr.Error()}
		case down != nil:
			out[i] = Outcome{Lesson: lesson, Status: down.Status, Error: down.Error}
		default:
			if !probed {
				probed = true
				if st, err := probeBoard(ctx, b, opts); err != nil {
					down = &Outcome{Status: st, Error: err.Error()}
					out[i] = Outcome{Lesson: lesson, Status: st, Error: err.Error()}
					break
				}
			}
			out[i] = runLesson(ctx, b, lesson, opts)
			if out[i].Status == Failed && connectionFailure(out[i]) {
				// The lesson failed on the link: was it the board?
				if st, err := probeBoard(ctx, b, opts); err != nil {
					down = &Outcome{Status: st, Error: err.Error()}
					out[i].Status, out[i].Error = st, err.Error()+" (during the lesson: "+out[i].Error+")"
				}
			}
		}
		if opts.Progress != nil {
			opts.Progress(b, out[i])
		}
	}
	return out
}

// runLesson runs one notebook on the board in a fresh kernel.
func runLesson(ctx context.Context, b Board, lesson string, opts Options) Outcome {
	var log lineLog
	nbOpts := opts.Notebook
	nbOpts.Out, nbOpts.ShowOutputs, nbOpts.OutputDir = &log, false, ""
	nbOpts.StartKernel = opts.StartKernel(b.URL, b.Password)
	res := notebook.RunNotebook(ctx, nbOpts, lesson)
	o := Outcome{Lesson: lesson, Seconds: res.Elapsed.Seconds(), Log: log.lines(), Detail: res.Detail, Cell: res.Cell}
	switch {
	case res.Verdict == "passed":
		o.Status = OK
	case res.Verdict == "skipped":
		o.Status = Skipped
		if n := len(o.Log); n > 0 {
			o.Error = o.Log[n-1]
		}
	case res.Stopped:
		o.Status, o.Error = NotRun, "the rehearsal was stopped"
	default:
		o.Status, o.Error = Failed, res.Why
		o.Ename = res.Ename
	}
	return o
}

// connectionFailure: the lesson failed where the link, not the lesson,
// may be the cause (the kernel's own connection errors, a kernel that
// did not start).
func connectionFailure(o Outcome) bool {
	switch o.Ename {
	case "ConnectionError", "ConnectionResetError":
		return true
	}
	return o.Cell == 0
}

// probeBoard logs in to the board and says what kept it from answering.
func probeBoard(ctx context.Context, b Board, opts Options) (Status, error) {
	pctx, cancel := context.WithTimeout(ctx, opts.ProbeTimeout)
	defer cancel()
	err := opts.Probe(pctx, b.URL, b.Password)
	switch {
	case err == nil:
		return OK, nil
	case ctx.Err() != nil:
		return NotRun, errors.New("the rehearsal was stopped")
	case errors.Is(err, webrepl.ErrWrongPassword):
		return WrongPassword, err
	case errors.Is(err, webrepl.ErrBusy):
		return Busy, err
	}
	return Unreachable, err
}

// probe is the default Options.Probe.
func probe(ctx context.Context, url, password string) error {
	s, err := webrepl.Dial(ctx, url, webrepl.Options{Password: password})
	if err != nil {
		return err
	}
	return s.Close()
}

// count fills in the summary fields.
func (r *Report) count() {
	r.Counts = map[Status]int{}
	r.OK = true
	for _, b := range r.Boards {
		ready := true
		for _, o := range b.Results {
			r.Counts[o.Status]++
			if o.Status != OK && o.Status != Skipped {
				ready, r.OK = false, false
			}
		}
		if ready {
			r.BoardsReady++
		}
	}
}

// lessonName is a lesson's column title: the file name without .ipynb.
func lessonName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".ipynb")
}

// lineLog keeps the lines a notebook run prints (bounded: the runner
// prints one line a cell and a failing cell's traceback).
type lineLog struct {
	mu  sync.Mutex
	buf strings.Builder
}

const maxLog = 256 << 10

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := maxLog - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (l *lineLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.TrimRight(l.buf.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
