// Secrets: the WebREPL passwords the kernel knows (from Config, %connect
// --password or typed at the password prompt) are kept out of history,
// execute_input, error messages and every log line, debug logs included.
// What a program itself prints is passed on unchanged: the kernel never
// alters a cell's own output.

package kernel

import (
	"regexp"
	"strings"
	"sync"
)

// passwordMask stands for a password wherever one would be shown; it does
// not tell the password's length.
const passwordMask = "********"

// secrets is a set of passwords to redact. Its own lock: the log redactor
// runs from any goroutine, also while Kernel.mu is held.
type secrets struct {
	mu   sync.Mutex
	list []string
}

func (k *Kernel) addSecret(pw string) { k.secrets.add(pw) }

func (s *secrets) add(pw string) {
	if pw == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, known := range s.list {
		if known == pw {
			return
		}
	}
	s.list = append(s.list, pw)
}

// redact replaces every known password in text with passwordMask.
func (s *secrets) redact(text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, pw := range s.list {
		text = strings.ReplaceAll(text, pw, passwordMask)
	}
	return text
}

func (s *secrets) redactError(e *cellError) *cellError {
	out := &cellError{ename: s.redact(e.ename), evalue: s.redact(e.evalue)}
	for _, line := range e.traceback {
		out.traceback = append(out.traceback, s.redact(line))
	}
	return out
}

// passwordArg is the value of --password (or --password=) on a %connect line.
var passwordArg = regexp.MustCompile(`(?m)^([ \t]*%connect\b.*?--password(?:=|[ \t]+))(\S+)`)

// redactPasswordArgs masks the value of --password in a cell's %connect
// lines, whether or not the kernel has seen that password yet.
func redactPasswordArgs(code string) string {
	if !strings.Contains(code, "--password") {
		return code
	}
	return passwordArg.ReplaceAllString(code, "${1}"+passwordMask)
}
