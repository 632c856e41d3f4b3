package webrepl

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Result is the outcome of a program that ran to its end.
type Result struct {
	Exception *Exception // nil: the program ended normally
	Pacing    Pacing     // how the program was sent: PacingRawPaste or PacingPaced
}

// Exception is an uncaught exception as the board reported it (§7.3).
// Whatever the board sent, Type is a name and Message and Text are
// printable text: a byte that is not (binary from a broken peer, a control
// character in a message) appears as an escape such as \x00.
type Exception struct {
	Type    string  // "ZeroDivisionError"; UnknownBoardError when the text has no exception line
	Message string  // "divide by zero" ("" for KeyboardInterrupt), at most MaxMessageBytes
	Frames  []Frame // outermost first
	Text    string  // the traceback as the board printed it (CRLF normalised to LF, escapes as above)
}

// UnknownBoardError is the Type of an exception whose text does not end in
// a MicroPython exception line (§7.3): a board that printed something else
// between the two 0x04 of its reply, or a peer sending random bytes. Its
// Message is the start of that text.
const UnknownBoardError = "UnknownBoardError"

// MaxMessageBytes bounds Exception.Message, which callers show as one
// error value (Jupyter's evalue); the whole text stays in Text.
const MaxMessageBytes = 2048

// Frame is one "File ..., line N, in f" line of a traceback. Function is ""
// for the frames of a SyntaxError, which carry no block name.
type Frame struct {
	File     string
	Line     int
	Function string
}

var (
	frameLine = regexp.MustCompile(`^  File "(.*)", line (\d+)(?:, in (.*))?$`)
	typeName  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]{0,99}$`) // bounded: a name, not a page
)

const tracebackHeader = "Traceback (most recent call last):\n"

// parseException reads the text a board printed between the two 0x04 of a
// raw-REPL reply. It never fails: text it cannot make sense of is kept in
// Message (bounded, see MaxMessageBytes) under the name UnknownBoardError,
// and always whole in Text.
func parseException(raw []byte) *Exception {
	text := printable(strings.ReplaceAll(string(raw), "\r\n", "\n"))
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
		e.Type, e.Message = typ, boundMessage(msg)
		return e
	}
	if !hasHeader {
		// Unexpected text before a bare exception line (e.g. an unsolicited
		// notice): the exception is the last line.
		lines := strings.Split(body, "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			if typ, msg, ok := splitExceptionLine(lines[i]); ok {
				e.Type, e.Message = typ, boundMessage(msg)
				return e
			}
		}
	}
	e.Type = UnknownBoardError
	if e.Message = boundMessage(strings.TrimSpace(body)); e.Message == "" {
		e.Message = "the board reported an error without text"
	}
	return e
}

// printable returns s with every byte that is not printable text written
// as an escape: invalid UTF-8 as \xNN, control characters other than
// newline and tab as \xNN or \uNNNN. Printable text comes back unchanged.
func printable(s string) string {
	clean := true
	for i := 0; i < len(s) && clean; {
		r, size := utf8.DecodeRuneInString(s[i:])
		clean = plainRune(r, size)
		i += size
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case plainRune(r, size):
			b.WriteString(s[i : i+size])
		case r == utf8.RuneError || r < 0x80:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
		i += size
	}
	return b.String()
}

// plainRune: r, decoded from size bytes, is printable as it is.
func plainRune(r rune, size int) bool {
	if r == utf8.RuneError && size <= 1 {
		return false // not UTF-8
	}
	return r == '\n' || r == '\t' || unicode.IsPrint(r)
}

// boundMessage cuts msg to MaxMessageBytes at a character boundary and
// says how long it was.
func boundMessage(msg string) string {
	if len(msg) <= MaxMessageBytes {
		return msg
	}
	cut := MaxMessageBytes - 40 // room for the note
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes in all)", msg[:cut], len(msg))
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
