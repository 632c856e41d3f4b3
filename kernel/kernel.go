// Package kernel is the Jupyter kernel proper: it answers the requests the
// jupyter package hands it by running cells on a MicroPython board through a
// webrepl.Session. It is the only package that knows both Jupyter and
// WebREPL. Everything that can be answered without the board (kernel_info,
// is_complete, history, completion of magics and keywords) is answered on
// the host, and kernel_info never waits for the board.
//
// A cell is: line magics at its top (magics.go), then one raw-REPL program
// (program.go) that runs the rest through a board-side helper giving it an
// Out[n] and input(); its output streams to the frontend as it arrives
// (output.go). The board is connected lazily by the first cell that needs it;
// after a board reset webrepl reconnects and the kernel keeps going (the
// helper is defined again when missing). An interrupt sends Ctrl-C, and a
// board that does not stop within Config.InterruptGrace is given up on with
// advice to press reset: the cell ends and gets none of its further output,
// and later cells say in one line that the board is still busy until webrepl,
// which watches it, sees it stop or reset. %softreset and %hardreset reset the board through
// the Session and say that RAM state is gone. The kernel holds the board
// among this machine's processes through package handover (handover.go):
// another notebook or command may ask an idle kernel to let go, and the
// next cell says the board was used elsewhere.
//
// Files by concern: execute.go (the cell path), cell.go (a running cell and
// its interrupt), input.go (input() answers), board.go (the connection and
// the notices about the board: reset, replaced, new firmware, reconnecting),
// secrets.go (passwords kept out of history, outputs and logs), magics.go
// (parsing) and magictable.go (the magic table, one handler each, %board),
// filemagics.go (board files), complete.go (Tab),
// inspect.go and inspectsource.go (Shift-Tab, obj? and obj??: the object from
// the board, its signature and docstring from cell or board-file source),
// handover.go, restart.go (Restart Kernel soft-resets the board; the next
// kernel says so once).
//
// The file magics (%ls, %cat, %put, %get, %rm, %mkdir, %%writefile, %run)
// are in filemagics.go. Board code displays rich output and plots through
// board messages (boardmsg.go, display.go, plot.go, plotlines.go: %%plot)
// and makes widgets the same way (widgetcomm.go, widgetboard.go).
package kernel

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"webrepl-kernel/handover"
	"webrepl-kernel/jupyter"
	"webrepl-kernel/webrepl"
)

// Defaults for Config.
const (
	// DefaultInterruptGrace is how long the board gets to stop after Ctrl-C
	// before the kernel gives up on it (docs/protocol/webrepl.md §10: ~5 s).
	DefaultInterruptGrace = 5 * time.Second
	// interruptResend is when a second Ctrl-C goes out if the first did not
	// stop the program (a Ctrl-C can be lost in a full input queue).
	interruptResend = time.Second
	// closeGrace bounds how long shutdown waits for an interrupted cell.
	closeGrace = 2 * time.Second
)

// Config says which board to use and how.
type Config struct {
	URL      string // board URL, e.g. ws://192.168.4.1:8266/ ("" until %connect)
	Password string // WebREPL password ("" = ask through stdin when allowed)
	// Version is the kernel's implementation_version in kernel_info.
	Version string
	// InterruptGrace overrides DefaultInterruptGrace.
	InterruptGrace time.Duration
	// Pacing is passed to webrepl.Dial.
	Pacing webrepl.Pacing
	// Window is passed to webrepl.Dial (auto: chosen per board at connect;
	// full: about twice as fast uploads, only for an ESP32 with MicroPython
	// 1.15 or later, never an ESP8266, which would lose bytes).
	Window webrepl.Window
	// Logf receives debug lines; nil discards them.
	Logf func(format string, args ...any)
	// Dir is the local folder that the file magics' local paths (%put,
	// %get) are relative to; "" is the process's working directory, which
	// Jupyter servers set to the notebook's folder when they start a kernel.
	Dir string
	// Keep: never hand the board over to another notebook or command of
	// this machine while connected (env WEBREPL_KEEP=1, or %connect --keep).
	Keep bool
	// Origin says where URL came from, for %board: "WEBREPL_URL …", a
	// board map's file and line, … ("" = not said).
	Origin string
	// BoardProblem: why no usable board (or no password for it) came from
	// where the kernel looked (a board map with a mistake, a password file
	// others can read, …). Until %connect picks a board, a cell that needs
	// the board fails with it as a one-line ConnectionError.
	BoardProblem error
	// RestartNote is a file where a kernel told to restart leaves what it
	// did to the board, for the kernel started after it, which reads and
	// removes it (restart.go); "" = none. The kernel subcommand names it
	// after the connection file, which a Jupyter restart keeps.
	RestartNote string
}

// Kernel implements jupyter.Handler.
type Kernel struct {
	cfg  Config
	done chan struct{} // closed once shutdown_request has been answered

	// Owned by the shell goroutine.
	executionCount int
	history        history
	abortBefore    time.Time    // execute requests received before this are aborted
	uncompiled     map[int]bool // cells the board could not compile: none of their defs ran (inspect.go)
	cells          cellSources  // the text of the cells run, for tracebacks

	mu       sync.Mutex // guards what follows; never held while talking to the board
	url      string
	password string
	origin   string // where url came from (Config.Origin, or %connect)
	problem  error  // Config.BoardProblem until %connect
	session  *webrepl.Session
	cell     *runningCell // the cell being executed, nil when idle
	// seen: the board as the last cell saw it (URL "" before the first);
	// a cell compares it with the board it finds and tells what changed
	// (board.go). resetExplained: the kernel said that the board resets
	// (sys.exit()) before it came back, so its new boot is not told again.
	seen           webrepl.BoardInfo
	resetExplained bool
	// restartNote: what the kernel before this one did to the board as it
	// restarted, until the first cell on a board tells it (restart.go).
	restartNote *restartNote
	// notices receives the running cell's "reconnecting to …" lines; nil
	// between cells.
	notices  func(string)
	closed   bool
	doneOnce sync.Once
	// claim: this kernel's standing for the board at claimURL among the
	// machine's processes (handover); keep: %connect --keep or Config.Keep.
	claim    *handover.Claim
	claimURL string
	keep     bool

	secrets secrets // passwords to keep out of history, outputs and logs (secrets.go)

	usage *jupyter.UsageMeter // usage_request: the kernel process's CPU and memory

	widgets widgetRegistry // the board's widgets and their comms (widgetcomm.go)
}

// New returns a kernel for the board cfg names.
func New(cfg Config) *Kernel {
	if cfg.InterruptGrace <= 0 {
		cfg.InterruptGrace = DefaultInterruptGrace
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	url := cfg.URL
	if u, err := webrepl.NormalizeURL(url); err == nil && url != "" {
		url = u // "192.168.4.1" → "ws://192.168.4.1:8266/", as %connect takes it
	}
	k := &Kernel{cfg: cfg, done: make(chan struct{}), url: url, password: cfg.Password, keep: cfg.Keep,
		origin: cfg.Origin, problem: cfg.BoardProblem,
		usage: jupyter.NewUsageMeter()}
	// Every log line, the WebREPL session's included, passes the
	// redactor: no password the kernel knows reaches a log.
	logf := cfg.Logf
	k.cfg.Logf = func(format string, args ...any) { logf("%s", k.secrets.redact(fmt.Sprintf(format, args...))) }
	k.addSecret(cfg.Password)
	k.restartNote = readRestartNote(cfg.RestartNote, k.cfg.Logf)
	return k
}

// Done is closed when a frontend asked the kernel to shut down (or restart);
// the caller then stops jupyter.Serve and calls Close.
func (k *Kernel) Done() <-chan struct{} { return k.done }

// HandleShell answers a shell request (jupyter.Handler).
func (k *Kernel) HandleShell(ctx context.Context, r jupyter.Request) {
	switch r.Type() {
	case "execute_request":
		k.execute(ctx, r)
	case "kernel_info_request":
		k.reply(r, k.kernelInfo())
	case "is_complete_request":
		k.isComplete(r)
	case "complete_request":
		k.complete(ctx, r)
	case "inspect_request":
		k.inspect(ctx, r)
	case "history_request":
		k.historyReply(r)
	case "comm_info_request": // usually taken beside (Beside, widgetcomm.go)
		k.commInfo(r)
	case "comm_open":
		k.commOpen(r)
	case "comm_close":
		k.commClose(r)
	case "comm_msg": // a widget's change between cells: the board gets it now
		k.commMsg(ctx, r, true)
	case "shutdown_request": // deprecated on shell (5.4) but still sent by old clients
		k.shutdown(ctx, r)
	default:
		// Unknown requests are ignored (messaging spec, "Compatibility").
		k.cfg.Logf("kernel: ignoring %s on shell", r.Type())
	}
}

// HandleControl answers a control request (jupyter.Handler). It runs while
// a cell may be executing on the shell goroutine.
func (k *Kernel) HandleControl(ctx context.Context, r jupyter.Request) {
	switch r.Type() {
	case "interrupt_request":
		k.Interrupt()
		k.reply(r, jupyter.InterruptReply{Status: jupyter.StatusOK})
	case "shutdown_request":
		k.shutdown(ctx, r)
	case "kernel_info_request":
		k.reply(r, k.kernelInfo())
	case "usage_request":
		// jupyter-resource-usage's kernel panel (docs/protocol/jupyter.md
		// §1.10): the kernel process on the host, not the board.
		k.reply(r, k.usage.Sample())
	default:
		k.cfg.Logf("kernel: ignoring %s on control", r.Type())
	}
}

func (k *Kernel) reply(r jupyter.Request, content any) {
	if err := r.Reply(content); err != nil {
		k.cfg.Logf("kernel: replying to %s: %v", r.Type(), err)
	}
}

func (k *Kernel) publish(r jupyter.Request, msgType string, content any) {
	if err := r.Publish(msgType, content); err != nil {
		k.cfg.Logf("kernel: publishing %s: %v", msgType, err)
	}
}

func (k *Kernel) kernelInfo() jupyter.KernelInfoReply {
	return jupyter.KernelInfoReply{
		Status:                jupyter.StatusOK,
		ProtocolVersion:       jupyter.ProtocolVersion,
		Implementation:        "webrepl-kernel",
		ImplementationVersion: k.cfg.Version,
		LanguageInfo: jupyter.LanguageInfo{
			// "python" so frontends highlight, indent and export cells as
			// Python; the board's exact MicroPython version is in the
			// banner once known and in %board: kernel_info never waits
			// for the board.
			Name:              "python",
			Version:           "3.4",
			Mimetype:          "text/x-python",
			FileExtension:     ".py",
			PygmentsLexer:     "python3",
			CodemirrorMode:    map[string]any{"name": "python", "version": 3},
			NbconvertExporter: "python",
		},
		Banner: k.banner(),
		HelpLinks: []jupyter.HelpLink{
			{Text: "MicroPython", URL: "https://docs.micropython.org/"},
			{Text: "WebREPL", URL: "https://docs.micropython.org/en/latest/esp32/quickref.html#webrepl-web-browser-interactive-prompt"},
		},
	}
}

// banner names the board from what the kernel already knows: kernel_info
// is answered at once, so it never connects or asks the board; the
// firmware is named once a cell has connected (%board asks the board).
func (k *Kernel) banner() string {
	k.mu.Lock()
	url, seen, connected := k.url, k.seen, k.session != nil
	k.mu.Unlock()
	var board string
	switch {
	case url == "":
		board = "No board chosen yet: %connect ws://HOST:8266/ picks one."
	case seen.URL == url && connected:
		board = fmt.Sprintf("Board: %s (%s).", url, seen)
	case seen.URL == url:
		board = fmt.Sprintf("Board: %s (was %s; the next cell connects again).", url, seen)
	default:
		board = fmt.Sprintf("Board: %s (the first cell connects).", url)
	}
	return "MicroPython over WebREPL: cells run on the board.\n" + board +
		"\n%board describes it, %connect picks another, %lsmagic lists the magics."
}

func (k *Kernel) isComplete(r jupyter.Request) {
	var req jupyter.IsCompleteRequest
	if err := r.Decode(&req); err != nil {
		k.reply(r, jupyter.IsCompleteReply{Status: jupyter.Unknown})
		return
	}
	status, indent := cellIsComplete(req.Code)
	reply := jupyter.IsCompleteReply{Status: status}
	if status == statusIncomplete {
		reply.Indent = indent
	}
	k.reply(r, reply)
}

// cellIsComplete is isComplete for a cell as this kernel reads it: a help
// query ("obj?") is complete; a %% cell magic's body is not Python and ends
// with a blank line (IPython's rule); line magics at the top are not
// Python, the rest of the cell is.
func cellIsComplete(code string) (status, indent string) {
	if _, ok := parseHelpQuery(code); ok {
		return statusComplete, ""
	}
	magics, rest := splitMagics(code)
	if len(magics) == 1 && magics[0].cellMagic {
		lines := strings.Split(strings.TrimSuffix(code, "\n"), "\n")
		if len(lines) > 1 && strings.TrimSpace(lines[len(lines)-1]) == "" {
			return statusComplete, ""
		}
		return statusIncomplete, ""
	}
	return isComplete(rest)
}

func (k *Kernel) historyReply(r jupyter.Request) {
	var q historyQuery
	if err := r.Decode(&q); err != nil {
		k.reply(r, jupyter.ErrorReply{Ename: "ValueError", Evalue: err.Error()})
		return
	}
	k.reply(r, map[string]any{"status": jupyter.StatusOK, "history": k.history.query(q)})
}

// shutdown answers shutdown_request. A restart (Restart Kernel: "all
// variables will be lost") also soft-resets the board before the kernel
// exits, so the board's RAM goes with the kernel's (restart.go); a plain
// shutdown leaves the board as it is.
func (k *Kernel) shutdown(ctx context.Context, r jupyter.Request) {
	var req jupyter.ShutdownRequest
	_ = r.Decode(&req) // a malformed request still means "shut down"
	k.reply(r, jupyter.ShutdownReply{Status: jupyter.StatusOK, Restart: req.Restart})
	if req.Restart {
		k.close(func(s *webrepl.Session) { k.resetForRestart(ctx, s) })
	} else {
		k.Close()
	}
	k.doneOnce.Do(func() { close(k.done) })
}

// Close interrupts a running cell and closes the WebREPL session cleanly, so
// the board accepts the next client (a restarted kernel). Safe to call more
// than once and from any goroutine.
func (k *Kernel) Close() { k.close(nil) }

// close is Close; with leave, the session (nil if the kernel holds none)
// goes to leave, which closes it, instead of being closed here.
func (k *Kernel) close(leave func(*webrepl.Session)) {
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return
	}
	k.closed = true
	cell := k.cell
	k.mu.Unlock()
	if cell != nil {
		cell.interrupt(k.cfg.InterruptGrace)
		select {
		case <-cell.finished:
		case <-time.After(closeGrace):
			cell.abandon()
		}
	}
	k.mu.Lock()
	s := k.session
	k.session = nil
	k.mu.Unlock()
	switch {
	case leave != nil:
		leave(s)
	case s != nil:
		if err := s.Close(); err != nil {
			k.cfg.Logf("kernel: closing WebREPL session: %v", err)
		}
	}
	k.closeClaim()
}
