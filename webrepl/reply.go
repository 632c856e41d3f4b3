package webrepl

import (
	"bytes"
	"io"
	"unicode/utf8"
)

// replyState is where a raw-REPL reply stands: OK, stdout, 0x04, exception
// text, 0x04, '>' (§3.2). Raw-paste replies start at replyStdout (§4.3).
type replyState uint8

const (
	replyWantOK replyState = iota
	replyStdout
	replyException
	replyWantPrompt
	replyDone
)

// maxKept bounds what the parser keeps of exception text and of bytes it
// did not expect, so a babbling peer cannot exhaust memory.
const maxKept = 1 << 20

// replyParser consumes a raw-REPL reply incrementally. Exec and the fuzzer
// share it; it never blocks and never fails: bytes it did not expect before
// OK or before the prompt (unsolicited output, §1.6) are kept aside.
type replyParser struct {
	state     replyState
	sawO      bool // the 'O' of "OK" was the last byte
	exception []byte
	skipped   []byte

	// With marks (docs/protocol/webrepl.md §3.9) the program frames its
	// own output, and a 0x04 in it is program output: only the 0x04 that
	// follows the End mark (or comes before the Start mark: the program
	// never began) ends stdout.
	marks   *Marks
	started bool   // the Start mark was seen
	inError bool   // between the Error and the End mark
	ended   bool   // the End mark was seen
	held    []byte // the end of the last chunk, which may begin a mark
	// framed is the exception the program reported between its Error and
	// End marks; it wins over the raw REPL's (which can only be a
	// KeyboardInterrupt that came after the program reported).
	framed []byte
}

func (p *replyParser) done() bool { return p.state == replyDone }

// feed consumes bytes up to and including the final '>' and returns how many
// it used; bytes after the prompt belong to whatever comes next. Program
// output, in board form, goes to stdout as soon as it is seen.
func (p *replyParser) feed(b []byte, stdout func([]byte)) int {
	i := 0
	for i < len(b) && p.state != replyDone {
		switch p.state {
		case replyWantOK:
			c := b[i]
			i++
			if p.sawO && c == 'K' {
				p.sawO = false
				p.state = replyStdout
				continue
			}
			if p.sawO {
				p.skip('O')
			}
			p.sawO = c == 'O'
			if !p.sawO {
				p.skip(c)
			}
		case replyStdout:
			if p.marks != nil {
				i += p.feedMarked(b[i:], stdout)
				continue
			}
			j := bytes.IndexByte(b[i:], 0x04)
			if j < 0 {
				stdout(b[i:])
				i = len(b)
				continue
			}
			if j > 0 {
				stdout(b[i : i+j])
			}
			i += j + 1
			p.state = replyException
		case replyException:
			j := bytes.IndexByte(b[i:], 0x04)
			end := i + j
			if j < 0 {
				end = len(b)
			}
			if room := maxKept - len(p.exception); room > 0 {
				p.exception = append(p.exception, b[i:min(end, i+room)]...)
			}
			if j < 0 {
				i = len(b)
				continue
			}
			i = end + 1
			p.state = replyWantPrompt
		case replyWantPrompt:
			c := b[i]
			i++
			if c == '>' {
				p.state = replyDone
			} else {
				p.skip(c)
			}
		}
	}
	return i
}

// feedMarked is the stdout part of a marked reply. It returns how many
// bytes of b it used: all of them, unless the raw REPL's end of stdout came.
func (p *replyParser) feedMarked(b []byte, stdout func([]byte)) int {
	base := len(p.held) // buf[k] is b[k-base]; held never holds a 0x04
	buf := append(p.held, b...)
	p.held = nil
	out := func(q []byte) {
		if len(q) == 0 {
			return
		}
		if p.inError {
			if room := maxKept - len(p.framed); room > 0 {
				p.framed = append(p.framed, q[:min(len(q), room)]...)
			}
			return
		}
		stdout(q)
	}
	pos := 0
	for pos < len(buf) {
		if p.ended || !p.started {
			if j := bytes.IndexByte(buf[pos:], 0x04); j >= 0 && (p.ended || !p.marks.anyIn(buf[pos:pos+j])) {
				out(buf[pos : pos+j])
				p.state = replyException
				return pos + j + 1 - base
			}
			if p.ended {
				out(buf[pos:])
				return len(b)
			}
		}
		var wanted [][]byte
		switch {
		case !p.started:
			// An Error or End mark also shows the program began (it was
			// interrupted before it printed Start).
			wanted = [][]byte{p.marks.Start, p.marks.Error, p.marks.End}
		case p.inError:
			wanted = [][]byte{p.marks.End}
		default:
			wanted = [][]byte{p.marks.Error, p.marks.End}
		}
		at, which := -1, -1
		for w, m := range wanted {
			if k := bytes.Index(buf[pos:], m); k >= 0 && (at < 0 || k < at) {
				at, which = k, w
			}
		}
		if at >= 0 {
			out(buf[pos : pos+at])
			pos += at + len(wanted[which])
			p.started = true
			switch m := wanted[which]; {
			case bytes.Equal(m, p.marks.Error):
				p.inError = true
			case bytes.Equal(m, p.marks.End):
				p.inError, p.ended = false, true
			}
			continue
		}
		keep := 0
		for _, m := range wanted {
			keep = max(keep, partialMarkLen(buf[pos:], m))
		}
		out(buf[pos : len(buf)-keep])
		p.held = append([]byte(nil), buf[len(buf)-keep:]...)
		return len(b)
	}
	return len(b)
}

// anyIn reports whether b holds one of the marks.
func (m *Marks) anyIn(b []byte) bool {
	return bytes.Contains(b, m.Start) || bytes.Contains(b, m.Error) || bytes.Contains(b, m.End)
}

// flushHeld passes on bytes held as a possible start of a mark when no
// more of the reply will come (the link dropped, the run was abandoned).
func (p *replyParser) flushHeld(stdout func([]byte)) {
	switch {
	case len(p.held) == 0:
	case p.inError:
		if room := maxKept - len(p.framed); room > 0 {
			p.framed = append(p.framed, p.held[:min(len(p.held), room)]...)
		}
	default:
		stdout(p.held)
	}
	p.held = nil
}

// partialMarkLen is the length of the longest suffix of data that is a
// proper prefix of mark.
func partialMarkLen(data, mark []byte) int {
	for n := min(len(mark)-1, len(data)); n > 0; n-- {
		if bytes.HasSuffix(data, mark[:n]) {
			return n
		}
	}
	return 0
}

func (p *replyParser) skip(c byte) {
	if len(p.skipped) < maxKept {
		p.skipped = append(p.skipped, c)
	}
}

// lfWriter turns the board's CRLF line ends into LF while streaming. A CR at
// the end of one chunk is held until the next byte shows whether it was half
// of a CRLF; a lone CR (progress lines) passes through.
type lfWriter struct {
	w         io.Writer
	pendingCR bool
	err       error // first write error; later output is dropped
	buf       []byte
}

func (c *lfWriter) write(p []byte) {
	if len(p) == 0 {
		return
	}
	out := c.buf[:0]
	if c.pendingCR {
		c.pendingCR = false
		if p[0] != '\n' {
			out = append(out, '\r')
		}
	}
	for i, ch := range p {
		if ch == '\r' {
			if i == len(p)-1 {
				c.pendingCR = true
				continue
			}
			if p[i+1] == '\n' {
				continue
			}
		}
		out = append(out, ch)
	}
	c.buf = out
	c.emit(out)
}

func (c *lfWriter) flush() {
	if c.pendingCR {
		c.pendingCR = false
		c.emit([]byte{'\r'})
	}
}

func (c *lfWriter) emit(p []byte) {
	if c.err != nil || len(p) == 0 || c.w == nil {
		return
	}
	_, c.err = c.w.Write(p)
}

// UTF8Writer passes bytes on as valid UTF-8 text: a character split across
// writes (the board sends one WebSocket frame per write call, so this is
// common) is held back until complete, and bytes that are not UTF-8 become
// U+FFFD, one per byte. Call Flush when the stream ends.
type UTF8Writer struct {
	w       io.Writer
	pending []byte
}

// NewUTF8Writer returns a UTF8Writer writing to w.
func NewUTF8Writer(w io.Writer) *UTF8Writer { return &UTF8Writer{w: w} }

// Write always reports len(p) consumed unless the underlying writer fails.
func (u *UTF8Writer) Write(p []byte) (int, error) {
	data := append(u.pending, p...)
	cut := len(data)
	// Only the last three bytes can start an incomplete character.
	for i := len(data) - 1; i >= 0 && i >= len(data)-3; i-- {
		if utf8.RuneStart(data[i]) {
			if !utf8.FullRune(data[i:]) {
				cut = i
			}
			break
		}
	}
	text := validUTF8(data[:cut])
	u.pending = append([]byte(nil), data[cut:]...)
	if len(text) == 0 {
		return len(p), nil
	}
	if _, err := u.w.Write(text); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes out a trailing incomplete character as U+FFFD.
func (u *UTF8Writer) Flush() error {
	if len(u.pending) == 0 {
		return nil
	}
	text := validUTF8(u.pending)
	u.pending = nil
	_, err := u.w.Write(text)
	return err
}

// validUTF8 replaces every byte that does not start a valid encoding with
// U+FFFD, exactly as Go's []rune conversion decodes.
func validUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return out
}
