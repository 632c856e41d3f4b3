package main

// The board client subcommands: exec, put, get, ls (through webrepl.Session)
// and repl (client_repl.go). This file only parses flags and talks to the
// terminal; the protocol lives in webrepl/.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"webrepl-kernel/handover"
	"webrepl-kernel/webrepl"
)

// connFlags are the flags every board command shares.
type connFlags struct {
	url      string
	password string
	timeout  time.Duration
	claim    *handover.Claim // this command's standing for the board (package handover)
}

func addConnFlags(fs *flag.FlagSet) *connFlags {
	c := &connFlags{}
	fs.StringVar(&c.url, "url", os.Getenv("WEBREPL_URL"), "board address, e.g. ws://192.168.4.1:8266/ or serial:///dev/ttyUSB0?baud=115200 (default $WEBREPL_URL)")
	fs.StringVar(&c.password, "password", "", "WebREPL password (default $WEBREPL_PASSWORD, else asked on the terminal)")
	fs.DurationVar(&c.timeout, "connect-timeout", 15*time.Second, "give up connecting after this long")
	return c
}

// resolve fills in what the flags left open: the password from the
// environment or, failing that, from a prompt on the controlling terminal
// (not stdin, which may be carrying the program for `exec -`).
func (c *connFlags) resolve() error {
	if c.url == "" {
		return errors.New("no board address: give --url ws://HOST:8266/ or set WEBREPL_URL")
	}
	u, err := webrepl.NormalizeURL(c.url)
	if err != nil {
		return badValue("%v", err)
	}
	c.url = u
	if webrepl.IsSerial(u) {
		return nil // a serial port takes no password
	}
	if c.password == "" {
		c.password = os.Getenv("WEBREPL_PASSWORD")
	}
	if c.password != "" {
		return nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return errors.New("no password: give --password or set WEBREPL_PASSWORD (no terminal to ask on)")
	}
	defer tty.Close()
	fmt.Fprintf(tty, "Password for %s: ", c.url)
	var line string
	err = withoutEcho(tty, func() error {
		var readErr error
		line, readErr = bufio.NewReader(tty).ReadString('\n')
		return readErr
	})
	if err != nil {
		return fmt.Errorf("reading the password: %w", err)
	}
	c.password = strings.TrimRight(line, "\r\n")
	if c.password == "" {
		return errors.New("no password given")
	}
	return nil
}

// connect logs in and returns a session in the raw REPL.
func (c *connFlags) connect(ctx context.Context, opts webrepl.Options) (*webrepl.Session, error) {
	if err := c.resolve(); err != nil {
		return nil, err
	}
	opts.Password = c.password
	if err := c.holdBoard(ctx); err != nil {
		return nil, err
	}
	opts.AfterHandOver = c.claim.TookOver()
	dialCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	s, err := webrepl.Dial(dialCtx, c.url, opts)
	if err != nil && errors.Is(err, webrepl.ErrBusy) && handover.Unsupported != "" {
		return nil, fmt.Errorf("connecting to %s: %w; %s", c.url, err, handover.Unsupported)
	}
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", c.url, err)
	}
	return s, nil
}

// holdBoard asks a notebook or command of ours that holds the board while
// idle to let go, and waits (saying for what) for a busy one. A command
// is busy as long as it runs: it never lets go before it ends.
func (c *connFlags) holdBoard(ctx context.Context) error {
	claim, err := handover.New(handover.Options{URL: c.url, What: commandName(),
		Notify: func(line string) { fmt.Fprintln(os.Stderr, line) }})
	if err != nil {
		return err
	}
	if err := claim.Acquire(ctx); err != nil {
		claim.Close()
		return err
	}
	c.claim = claim
	return nil
}

// release removes this command's hand-over entry (after its link closed).
func (c *connFlags) release() {
	if c.claim != nil {
		c.claim.Close()
	}
}

func runExec(ctx context.Context, fs *flag.FlagSet, args []string) error {
	conn := addConnFlags(fs)
	defer conn.release() // deferred first, so after the session's Close
	pacingName := fs.String("pacing", "auto", "how the program is sent: auto, raw-paste or paced")
	fullWindow := fs.Bool("full-window", false, "same as --window full (kept for older scripts)")
	windowName := fs.String("window", "auto", "raw-paste window: auto (2·W on an ESP32 with MicroPython 1.15+, identified at connect;\n2·W−1 elsewhere), full (2·W; never on ESP8266 or ESP32 1.14), safe (2·W−1)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usage("want one program file (or - for stdin), got %d arguments", len(pos))
	}
	pacing, err := webrepl.ParsePacing(*pacingName)
	if err != nil {
		return badValue("--pacing: %v", err)
	}
	window, err := webrepl.ParseWindow(*windowName)
	if err != nil {
		return badValue("--window: %v", err)
	}
	if *fullWindow {
		if window == webrepl.WindowSafe {
			return usage("--full-window (--window full) contradicts --window safe")
		}
		window = webrepl.WindowFull
	}
	code, err := readProgram(pos[0])
	if err != nil {
		return err
	}
	s, err := conn.connect(ctx, webrepl.Options{Pacing: pacing, Window: window})
	if err != nil {
		return err
	}
	defer s.Close()
	defer quitOnSecondSignal(s)()

	res, err := s.ExecInterruptible(ctx, code, os.Stdout, execInterruptGrace)
	switch {
	case errors.Is(err, webrepl.ErrProgramExited):
		return nil // sys.exit(): the program chose to end; its output is shown
	case err != nil:
		return fmt.Errorf("running %s: %w", pos[0], err)
	case res.Exception != nil:
		text := res.Exception.Text
		if text == "" {
			text = res.Exception.Type + ": " + res.Exception.Message
		}
		fmt.Fprint(os.Stderr, strings.TrimRight(text, "\n")+"\n")
		return exitError{code: 1}
	}
	return nil
}

func readProgram(name string) ([]byte, error) {
	var code []byte
	var err error
	if name == "-" {
		code, err = io.ReadAll(os.Stdin)
	} else {
		code, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the program: %w", err)
	}
	return code, nil
}

// execInterruptGrace is how long exec lets the board take to stop after
// Ctrl-C before abandoning the program.
const execInterruptGrace = 5 * time.Second

// quitOnSecondSignal makes a second SIGINT/SIGTERM end the process at once:
// main's signal context turns the first one into a cancelled ctx (exec then
// interrupts the board and waits for it), and swallows any later one, so a
// user pressing Ctrl-C again would otherwise wait out the grace periods. The
// session gets a best-effort close, bounded because the link may be what
// is stuck. The first signal only gets a note on stderr saying so. The
// returned stop ends the watch; call it before returning.
func quitOnSecondSignal(s *webrepl.Session) (stop func()) {
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	stopped := make(chan struct{})
	watcherDone := make(chan struct{})
	go func() {
		defer close(watcherDone)
		for seen := 0; ; {
			select {
			case <-stopped:
				return
			case sig := <-signals:
				if seen++; seen < 2 {
					fmt.Fprintln(os.Stderr, "webrepl-kernel: interrupting the program on the board (Ctrl-C again quits at once)")
					continue
				}
				closed := make(chan struct{})
				go func() { s.Close(); close(closed) }()
				select {
				case <-closed:
				case <-time.After(time.Second):
				}
				fmt.Fprintln(os.Stderr, "webrepl-kernel: interrupted again: quitting without waiting for the board")
				os.Exit(exitStatusForSignal(sig))
			}
		}
	}()
	return func() {
		signal.Stop(signals)
		close(stopped)
		<-watcherDone
	}
}

// exitStatusForSignal is the shell's convention: 128 + the signal number
// (130 for Ctrl-C).
func exitStatusForSignal(sig os.Signal) int {
	if n, ok := sig.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 1
}

// remoteName is where put stores LOCAL: REMOTE as given, or LOCAL's base
// name (inside REMOTE if REMOTE ends with a slash).
func remoteName(local, remote string) string {
	base := filepath.Base(local)
	switch {
	case remote == "":
		return base
	case strings.HasSuffix(remote, "/"):
		return remote + base
	}
	return remote
}

func runPut(ctx context.Context, fs *flag.FlagSet, args []string) error {
	conn := addConnFlags(fs)
	force := fs.Bool("force", false, "write a .py file even if it does not compile on the board")
	defer conn.release() // deferred first, so after the session's Close
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usage("want LOCAL [REMOTE], got %d arguments", len(pos))
	}
	local, remote := pos[0], ""
	if len(pos) == 2 {
		remote = pos[1]
	}
	remote = remoteName(local, remote)
	data, err := os.ReadFile(local)
	if err != nil {
		return fmt.Errorf("reading %s: %w", local, err)
	}
	s, err := conn.connect(ctx, webrepl.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	progress, finish := newProgress(os.Stderr, "put "+remote)
	// Staged under a temporary name and renamed once checked: a transfer
	// cut off leaves the old file (webrepl/atomic.go).
	res, err := s.PutAtomic(ctx, remote, data, webrepl.PutOptions{Compile: strings.HasSuffix(remote, ".py") && !*force}, progress)
	finish()
	if err != nil {
		if errors.Is(err, webrepl.ErrSyntax) {
			return fmt.Errorf("%w; %s on the board is unchanged (-force writes it anyway)", err, remote)
		}
		return fmt.Errorf("copying %s to %s on the board: %w", local, remote, err)
	}
	if res.CompileNote != "" {
		fmt.Fprintf(os.Stderr, "put %s: not compiled on the board: %s\n", remote, res.CompileNote)
	}
	return nil
}

func runGet(ctx context.Context, fs *flag.FlagSet, args []string) error {
	conn := addConnFlags(fs)
	defer conn.release() // deferred first, so after the session's Close
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usage("want REMOTE [LOCAL], got %d arguments", len(pos))
	}
	remote, local := pos[0], path.Base(pos[0])
	if len(pos) == 2 {
		local = pos[1]
	}
	if info, err := os.Stat(local); err == nil && info.IsDir() {
		local = filepath.Join(local, path.Base(remote))
	}
	s, err := conn.connect(ctx, webrepl.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	progress, finish := newProgress(os.Stderr, "get "+remote)
	data, err := s.Get(ctx, remote, progress)
	finish()
	if err != nil {
		return fmt.Errorf("copying %s from the board: %w", remote, err)
	}
	if local == "-" {
		if _, err := os.Stdout.Write(data); err != nil {
			return fmt.Errorf("writing to stdout: %w", err)
		}
		return nil
	}
	return writeFileAtomically(local, data)
}

// writeFileAtomically writes through a temporary file in the same folder so
// that an existing LOCAL is never left half-written.
func writeFileAtomically(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

func runLs(ctx context.Context, fs *flag.FlagSet, args []string) error {
	conn := addConnFlags(fs)
	defer conn.release() // deferred first, so after the session's Close
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usage("want at most one folder, got %d arguments", len(pos))
	}
	dir := "/"
	if len(pos) == 1 {
		dir = pos[0]
	}
	s, err := conn.connect(ctx, webrepl.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	entries, err := s.List(ctx, dir)
	if err != nil {
		return fmt.Errorf("listing %s: %w", dir, err)
	}
	out := bufio.NewWriter(os.Stdout)
	for _, e := range entries {
		if e.IsDir {
			fmt.Fprintf(out, "%9s  %s/\n", "<dir>", e.Name)
		} else {
			fmt.Fprintf(out, "%9d  %s\n", e.Size, e.Name)
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("writing the listing: %w", err)
	}
	return nil
}

// newProgress returns a progress callback that redraws one status line on
// w, and the function that ends that line. Both do nothing unless w is a
// terminal, so redirected stderr stays clean.
func newProgress(w *os.File, label string) (progress func(done, total int), finish func()) {
	if !isTerminal(w) {
		return nil, func() {}
	}
	const redrawEvery = 100 * time.Millisecond
	var last time.Time
	drawn := false
	progress = func(done, total int) {
		now := time.Now()
		if done < total && now.Sub(last) < redrawEvery {
			return
		}
		last = now
		drawn = true
		percent := 100
		if total > 0 {
			percent = done * 100 / total
		}
		fmt.Fprintf(w, "\r%s: %3d%% (%d/%d bytes)", label, percent, done, total)
	}
	finish = func() {
		if drawn {
			fmt.Fprintln(w)
		}
	}
	return progress, finish
}

// commandName is how other processes' messages name this command: "command
// webrepl-kernel exec x.py".
func commandName() string {
	return "command " + handover.ShortenHome(strings.Join(append([]string{filepath.Base(os.Args[0])}, os.Args[1:]...), " "))
}
