package handover

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultWait is how long Acquire waits for a busy or kept holder.
const DefaultWait = 30 * time.Second

// EnvWait overrides DefaultWait for every process of the project (a Go
// duration such as "90s"); tests use it to keep waits short.
const EnvWait = "WEBREPL_HANDOVER_WAIT"

// Options describe this process as a holder of one board.
type Options struct {
	// Dir is the coordination folder; "" = DefaultDir().
	Dir string
	// URL is the board's normalised URL; one entry per URL.
	URL string
	// What says what this process is, for other processes' messages:
	// "notebook ~/lessons/01-hello-board.ipynb", "command webrepl-kernel exec x.py".
	What string
	// Wait bounds how long Acquire waits for a busy or kept holder; 0 =
	// EnvWait if set, else DefaultWait.
	Wait time.Duration
	// Notify receives, once per Acquire, the line saying what it waits for.
	Notify func(line string)
	// Release closes this process's link to the board; it is called, while
	// the process is idle, when another process takes the board over.
	Release func()
	// Logf receives debug lines; nil discards them.
	Logf func(format string, args ...any)
}

// Holder states as another process sees them.
const (
	stateReleased = "released" // let go (or never held): take the board
	stateBusy     = "busy"     // running a cell or a command
	stateKept     = "kept"     // the user asked to keep the board
)

// BusyError is Acquire's failure when the holder did not let go in time.
type BusyError struct {
	URL    string
	Holder string // what the holder is
	PID    int
	Kept   bool
	Waited time.Duration
}

func (e *BusyError) Error() string {
	why := "is using it"
	if e.Kept {
		why = "keeps it (%connect --keep)"
	}
	return fmt.Sprintf("the board %s is held by %s (PID %d), which %s; gave up after %s",
		e.URL, e.Holder, e.PID, why, e.Waited.Round(time.Second))
}

// WaitingLine is what a newcomer prints while it waits for a holder.
func waitingLine(url, what string, pid int, kept bool) string {
	if kept {
		return fmt.Sprintf("waiting for %s (PID %d) to let go of %s: it keeps the board (%%connect --keep)", what, pid, url)
	}
	if strings.HasPrefix(what, "notebook ") || strings.HasPrefix(what, "a notebook") {
		return fmt.Sprintf("waiting for the cell running in %s (PID %d) to finish with %s", what, pid, url)
	}
	return fmt.Sprintf("waiting for %s (PID %d) to finish with %s", what, pid, url)
}

// DefaultDir is the coordination folder: $XDG_RUNTIME_DIR/webrepl-kernel,
// else <temp>/webrepl-kernel-<uid> (a shared temp folder needs a per-user
// name).
func DefaultDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "webrepl-kernel")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("webrepl-kernel-%d", os.Getuid()))
}

// WaitFromEnv is Options.Wait's default: EnvWait, else DefaultWait.
func WaitFromEnv() (time.Duration, error) {
	v := strings.TrimSpace(os.Getenv(EnvWait))
	if v == "" {
		return DefaultWait, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q: want a duration such as 30s", EnvWait, v)
	}
	return d, nil
}

// key names a board's files: a hash, so any URL makes a short, safe name
// (unix socket paths are limited to ~104 bytes).
func key(url string) string {
	sum := sha256.Sum256([]byte(url))
	return hex.EncodeToString(sum[:8])
}

// ensureDir creates the folder with mode 0700, or checks that an existing
// one is a real folder of ours that nobody else can write.
func ensureDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("hand-over folder: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("hand-over folder: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("hand-over folder: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("hand-over folder %s is not a folder", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("hand-over folder %s is open to other users: %w", dir, err)
		}
	}
	return ownedByUs(dir, fi)
}

// DescribeProcess is Options.What for this process: the notebook when
// Jupyter says which (JPY_SESSION_NAME, set by Jupyter Server 2 for its
// kernels), else the folder the kernel was started in (Notebook 6 starts
// kernels in the notebook's folder and names no file), else the command.
func DescribeProcess(kernel bool) string {
	if !kernel {
		return "command " + shortenHome(strings.Join(append([]string{filepath.Base(os.Args[0])}, os.Args[1:]...), " "))
	}
	if p := os.Getenv("JPY_SESSION_NAME"); p != "" {
		return "notebook " + shortenHome(p)
	}
	if wd, err := os.Getwd(); err == nil {
		return "a notebook in " + shortenHome(wd)
	}
	return "a notebook"
}

func shortenHome(s string) string {
	if home, err := os.UserHomeDir(); err == nil && home != "" && home != "/" {
		if s == home || strings.HasPrefix(s, home+"/") {
			return "~" + s[len(home):]
		}
	}
	return s
}
