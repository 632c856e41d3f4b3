// The machinery of the board-side helpers that are not cells (the inspector
// and the completer): a random token for each answer, defining the helper
// when the board does not know it, and a bounded buffer for what it prints.

package kernel

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"webrepl-kernel/webrepl"
)

// answerToken is a new random prefix for the lines of one answer of a
// board-side helper: output that does not start with it (a __repr__ that
// prints, anything left on the console) cannot pass for the answer.
func answerToken() (string, error) {
	var raw [12]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("making an answer token: %w", err)
	}
	return "\x02" + hex.EncodeToString(raw[:]) + ":", nil
}

// callHelper runs call, a call of the board-side function helper, and
// returns what it printed (at most inspectOutputLimit bytes). When the
// board does not know the function (the first use on this connection, or
// the user deleted it), definition is run once and the call again. Each of
// those steps has its own step time (0: only ctx bounds them), so that
// sending the definition, a kilobyte or two at the board's pace, does not
// eat the time of the call. A link found dead drops the session, as a
// failed cell would.
func (k *Kernel) callHelper(ctx context.Context, s *webrepl.Session, step time.Duration, helper, definition, call string) (string, error) {
	exec := func(code string, out io.Writer) (*webrepl.Result, error) {
		if step > 0 {
			ctx, cancel := context.WithTimeout(ctx, step)
			defer cancel()
			return s.Exec(ctx, []byte(code), out)
		}
		return s.Exec(ctx, []byte(code), out)
	}
	for attempt := 0; ; attempt++ {
		out := &boundedBuffer{limit: inspectOutputLimit}
		res, err := exec(call, out)
		if err == nil && res != nil && res.Exception != nil {
			e := res.Exception
			if attempt == 0 && e.Type == "NameError" && strings.Contains(e.Message, helper) {
				if _, err = exec(definition, &boundedBuffer{limit: inspectOutputLimit}); err == nil {
					continue
				}
			} else {
				err = fmt.Errorf("%s raised %s: %s", helper, e.Type, e.Message)
			}
		}
		if err != nil {
			if !s.Connected() {
				k.dropSession(s)
			}
			return "", err
		}
		return out.String(), nil
	}
}

// boundedBuffer keeps the first limit bytes written to it and drops the
// rest (the answer is then incomplete, never unbounded).
type boundedBuffer struct {
	b     []byte
	limit int
}

func (w *boundedBuffer) Write(p []byte) (int, error) {
	if room := w.limit - len(w.b); room > 0 {
		w.b = append(w.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (w *boundedBuffer) String() string { return string(w.b) }
