package kernel

import (
	"fmt"
	"strconv"
	"strings"

	"webrepl-kernel/jupyter"
	"webrepl-kernel/webrepl"
)

// askInput answers the board's input(): it asks the frontend for a line
// (input_request) and types it on the board's console. It runs beside the
// cell, which keeps streaming output; an interrupt abandons the question.
// An answer of several lines (pasted text) is read the way a console reads
// pasted lines: the first answers this input(), the others the next
// input() calls of the cell without asking again, shown after their prompt
// by the board's echo. It is called under output's lock, so it must not
// block.
func (k *Kernel) askInput(cell *runningCell, r jupyter.Request, s *webrepl.Session, output *cellOutput, prompt string) {
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
		lines, removed := typeable(splitAnswer(value))
		if removed != "" && output.errStream != nil {
			output.errStream(fmt.Sprintf("input(): the board's line editor cannot take control characters; "+
				"removed from the answer: %s\n", removed))
		}
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

// typeable removes from typed lines what the board's line editor would act
// on instead of inserting (shared/readline/readline.c: Ctrl-C interrupts
// the program, Ctrl-A/B/E/F/K/N/P/U edit, Tab completes, ESC starts a key
// sequence; only 32–126 and UTF-8 are inserted), and names what it removed,
// so that nothing typed goes missing silently.
func typeable(lines []string) (kept []string, removed string) {
	var gone []string
	kept = make([]string, len(lines))
	for i, line := range lines {
		kept[i] = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				gone = append(gone, strconv.QuoteRune(r))
				return -1
			}
			return r
		}, line)
	}
	return kept, strings.Join(gone, " ")
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
