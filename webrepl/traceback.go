package webrepl

import (
	"regexp"
	"strconv"
	"strings"
)

// Result is the outcome of a program that ran to its end.
type Result struct {
	Exception *Exception // nil: the program ended normally
	Pacing    Pacing     // how the program was sent: PacingRawPaste or PacingPaced
}

// Exception is an uncaught exception as the board reported it (§7.3).
type Exception struct {
	Type    string  // "ZeroDivisionError"
	Message string  // "divide by zero" ("" for KeyboardInterrupt)
	Frames  []Frame // outermost first
	Text    string  // the traceback exactly as the board printed it (CRLF normalised to LF)
}

// Frame is one "File ..., line N, in f" line of a traceback. Function is ""
// for the frames of a SyntaxError, which carry no block name.
type Frame struct {
	File     string
	Line     int
	Function string
}

var (
	frameLine = regexp.MustCompile(`^  File "(.*)", line (\d+)(?:, in (.*))?$`)
	typeName  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)
)

const tracebackHeader = "Traceback (most recent call last):\n"

// parseException reads the text a board printed between the two 0x04 of a
// raw-REPL reply. It never fails: text it cannot make sense of is kept whole
// in Message (and always in Text).
func parseException(raw []byte) *Exception {
	text := strings.ReplaceAll(string(raw), "\r\n", "\n")
	e := &Exception{Text: text}
	body := text
	hasHeader := false
	if i := strings.Index(text, tracebackHeader); i >= 0 {
		body = text[i+len(tracebackHeader):]
		hasHeader = true
	}
	for strings.HasPrefix(body, "  File ") {
		line, rest, _ := strings.Cut(body, "\n")
		m := frameLine.FindStringSubmatch(line)
		if m == nil {
			break
		}
		n, err := strconv.Atoi(m[2])
		if err != nil {
			break
		}
		e.Frames = append(e.Frames, Frame{File: m[1], Line: n, Function: m[3]})
		body = rest
	}
	body = strings.TrimSuffix(body, "\n")
	if typ, msg, ok := splitExceptionLine(body); ok {
		e.Type, e.Message = typ, msg
		return e
	}
	if !hasHeader {
		// Unexpected text before a bare exception line (e.g. an unsolicited
		// notice): the exception is the last line.
		lines := strings.Split(body, "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			if typ, msg, ok := splitExceptionLine(lines[i]); ok {
				e.Type, e.Message = typ, msg
				return e
			}
		}
	}
	e.Message = body
	return e
}

// splitExceptionLine splits "Type: message" (the message may span lines);
// the board always prints ": ", so "KeyboardInterrupt: " has message "".
func splitExceptionLine(s string) (typ, msg string, ok bool) {
	first, more, multi := strings.Cut(s, "\n")
	typ, msg, found := strings.Cut(first, ": ")
	if !found {
		trimmed := strings.TrimSuffix(strings.TrimSpace(first), ":")
		if !typeName.MatchString(trimmed) || multi {
			return "", "", false
		}
		return trimmed, "", true
	}
	if !typeName.MatchString(typ) {
		return "", "", false
	}
	if multi {
		msg += "\n" + more
	}
	return typ, msg, true
}
