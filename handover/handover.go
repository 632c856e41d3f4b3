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
	// Busy names this process while it uses the board, for the line a
	// newcomer prints while it waits: "the cell running in notebook
	// ~/lessons/01-hello-board.ipynb"; "" means What.
	Busy string
	// KeepHow says how the user made this process keep the board (SetKeep)
	// and so how to stop it, for other processes' messages: "%connect
	// --keep"; "" says nothing.
	KeepHow string
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
	// KeepHow is the holder's Options.KeepHow ("" if it said nothing).
	KeepHow string
	Waited  time.Duration
}

func (e *BusyError) Error() string {
	why := "is using it"
	if e.Kept {
		why = "keeps it" + parenthesised(e.KeepHow)
	}
	return fmt.Sprintf("the board %s is held by %s (PID %d), which %s; gave up after %s",
		e.URL, e.Holder, e.PID, why, e.Waited.Round(time.Second))
}

func parenthesised(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
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

// ShortenHome writes the user's home folder at the start of s as "~", to
// keep a path in Options.What short.
func ShortenHome(s string) string {
	if home, err := os.UserHomeDir(); err == nil && home != "" && home != "/" {
		if s == home || strings.HasPrefix(s, home+"/") {
			return "~" + s[len(home):]
		}
	}
	return s
}
