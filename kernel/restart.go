// Restart Kernel and the board: the frontend's restart says "all variables
// will be lost", and the variables are in the board's RAM, not in this
// process. So a shutdown_request with restart=true soft-resets the board
// before the kernel exits (Ctrl-D at the raw prompt: boot.py runs, main.py
// does not, docs/protocol/webrepl.md §3.3), and leaves a note for the kernel
// Jupyter starts next with the same connection file (Config.RestartNote),
// whose first cell on that board says in one line what the restart did.

package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"webrepl-kernel/webrepl"
)

// restartResetLimit bounds the soft reset on restart: jupyter_client sends
// SIGTERM half its shutdown_wait_time (5 s) after shutdown_request
// (docs/protocol/jupyter.md, shutdown_request).
const restartResetLimit = 2 * time.Second

// restartNote is what a restarting kernel tells its successor.
type restartNote struct {
	URL   string `json:"url"`  // the board
	Boot  string `json:"boot"` // its boot marker before the reset (webrepl.BoardInfo.Boot)
	Reset bool   `json:"reset"`
	Why   string `json:"why,omitempty"` // why it was not reset
}

// resetForRestart soft-resets the board of session s (nil: the kernel holds
// none, so there is nothing of this kernel's to reset) and closes s; it
// writes the note for the next kernel.
func (k *Kernel) resetForRestart(ctx context.Context, s *webrepl.Session) {
	k.mu.Lock()
	pending := k.restartNote // a note this kernel got and has not told yet
	k.mu.Unlock()
	if s == nil {
		if pending != nil {
			k.writeRestartNote(*pending) // pass it on
		}
		return
	}
	before := s.Board()
	note := restartNote{URL: before.URL, Boot: before.Boot, Reset: true}
	// Written first: a SIGTERM may end this process once the Ctrl-D is out.
	// The next kernel tells of a reset only if the board's boot marker
	// changed (restartLine), so an optimistic note never says a false thing.
	k.writeRestartNote(note)
	rctx, cancel := context.WithTimeout(ctx, restartResetLimit)
	err := s.SoftResetAndClose(rctx)
	cancel()
	if err != nil {
		note.Reset = false
		note.Why = err.Error()
		if errors.Is(err, webrepl.ErrStillRunning) {
			note.Why = "it is still running code that did not stop at Ctrl-C"
		}
		k.cfg.Logf("kernel: restart: the board was not reset: %v", err)
		k.writeRestartNote(note)
		return
	}
	k.cfg.Logf("kernel: restart: soft-reset the board at %s", before.URL)
}

func (k *Kernel) writeRestartNote(note restartNote) {
	if k.cfg.RestartNote == "" {
		return
	}
	b, err := json.Marshal(note)
	if err == nil {
		err = os.WriteFile(k.cfg.RestartNote, b, 0o600)
	}
	if err != nil {
		k.cfg.Logf("kernel: restart: writing the note for the next kernel: %v", err)
	}
}

// readRestartNote takes the note a restarting predecessor left (nil if
// none), removing it so that it is told by one kernel only.
func readRestartNote(path string, logf func(string, ...any)) *restartNote {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			logf("kernel: reading the restart note: %v", err)
		}
		return nil
	}
	if err := os.Remove(path); err != nil {
		logf("kernel: removing the restart note: %v", err)
	}
	var note restartNote
	if err := json.Unmarshal(b, &note); err != nil || note.URL == "" {
		logf("kernel: ignoring a restart note that is not one (%d bytes)", len(b))
		return nil
	}
	return &note
}

// restartLine is what the first cell after a restart says about the board
// now, or "" when there is nothing to say (another board, a reset that did
// not show).
func restartLine(note restartNote, now webrepl.BoardInfo) string {
	switch {
	case note.URL != now.URL:
		return ""
	case !note.Reset:
		return fmt.Sprintf("Restart Kernel did not reset the board at %s (%s): "+
			"the previous kernel's variables and imports may still be there.", now.URL, note.Why)
	case note.Boot != "" && now.Boot == note.Boot:
		return "" // its RAM survived: not a reset to tell of
	}
	return fmt.Sprintf("Restart Kernel soft-reset the board at %s: variables and imports are gone; "+
		"files stay (boot.py ran, main.py did not).", now.URL)
}
