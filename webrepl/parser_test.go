package webrepl

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"webrepl-kernel/sim"
)

// Replies captured in spec Appendix B (unix build, LF not cooked) and their
// ESP forms with CRLF.
var replySeeds = []struct {
	name      string
	standard  bool // starts with OK
	reply     string
	stdout    string
	exception string
}{
	{"print", true, "OK123\n\x04\x04>", "123\n", ""},
	{"print crlf", true, "OK123\r\n\x04\x04>", "123\r\n", ""},
	{"expression", true, "OK\x04\x04>", "", ""},
	{"zero division", true, "OK\x04Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\nZeroDivisionError: divide by zero\n\x04>",
		"", "Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\nZeroDivisionError: divide by zero\n"},
	{"nested", true, "OK\x04Traceback (most recent call last):\n  File \"<stdin>\", line 3, in <module>\n  File \"<stdin>\", line 2, in f\nZeroDivisionError: divide by zero\n\x04>",
		"", "Traceback (most recent call last):\n  File \"<stdin>\", line 3, in <module>\n  File \"<stdin>\", line 2, in f\nZeroDivisionError: divide by zero\n"},
	{"syntax", true, "OK\x04Traceback (most recent call last):\n  File \"<stdin>\", line 2\nSyntaxError: invalid syntax\n\x04>",
		"", "Traceback (most recent call last):\n  File \"<stdin>\", line 2\nSyntaxError: invalid syntax\n"},
	{"junk before OK", true, "\r\nConcurrent WebREPL connection from ('1.2.3.4', 5) rejected\r\nOK7\n\x04\x04>", "7\n", ""},
	{"raw-paste print", false, "5\n\x04\x04>", "5\n", ""},
	{"raw-paste interrupt", false, "\x04KeyboardInterrupt: \n\x04>", "", "KeyboardInterrupt: \n"},
	{"sys.exit", true, "OK\x04\x04", "", ""},
	{"input echo", true, "OKname? abc\r\nABC\n\x04\x04>", "name? abc\r\nABC\n", ""},
}

func runParser(reply []byte, standard bool, chunks []int) (stdout []byte, p replyParser, consumed int) {
	if !standard {
		p.state = replyStdout
	}
	rest := reply
	for _, n := range append(chunks, len(reply)) {
		if len(rest) == 0 || p.done() {
			break
		}
		n = min(max(n, 1), len(rest))
		used := p.feed(rest[:n], func(b []byte) { stdout = append(stdout, b...) })
		consumed += used
		if used < n {
			break
		}
		rest = rest[n:]
	}
	return stdout, p, consumed
}

func TestReplyParserSeeds(t *testing.T) {
	for _, c := range replySeeds {
		for _, size := range []int{1, 2, 3, 7, 1000} {
			var chunks []int
			for i := 0; i < len(c.reply); i += size {
				chunks = append(chunks, size)
			}
			stdout, p, _ := runParser([]byte(c.reply), c.standard, chunks)
			if string(stdout) != c.stdout || string(p.exception) != c.exception {
				t.Errorf("%s in %d-byte pieces: stdout %q exception %q", c.name, size, stdout, p.exception)
			}
			if wantDone := strings.HasSuffix(c.reply, ">"); p.done() != wantDone {
				t.Errorf("%s: done = %v", c.name, p.done())
			}
		}
	}
}

func TestReplyParserLeavesBytesAfterPrompt(t *testing.T) {
	var p replyParser
	reply := []byte("OKhi\x04\x04>tail")
	n := p.feed(reply, func([]byte) {})
	if !p.done() || string(reply[n:]) != "tail" {
		t.Errorf("done %v, left %q", p.done(), reply[n:])
	}
}

func TestLFWriter(t *testing.T) {
	cases := map[string]string{
		"a\r\nb":         "a\nb",
		"a\r":            "a\r",
		"50%\r100%\r\n":  "50%\r100%\n",
		"\r\r\n\n":       "\r\n\n",
		"x\r\n\r\ny\r\n": "x\n\ny\n",
	}
	for in, want := range cases {
		for size := 1; size <= len(in); size++ {
			var out bytes.Buffer
			w := &lfWriter{w: &out}
			for i := 0; i < len(in); i += size {
				w.write([]byte(in[i:min(i+size, len(in))]))
			}
			w.flush()
			if out.String() != want {
				t.Errorf("%q in %d-byte pieces → %q, want %q", in, size, out.String(), want)
			}
		}
	}
}

func TestParseException(t *testing.T) {
	cases := []struct {
		text   string
		typ    string
		msg    string
		frames []Frame
	}{
		{"Traceback (most recent call last):\r\n  File \"<stdin>\", line 3, in <module>\r\n  File \"<stdin>\", line 2, in f\r\nZeroDivisionError: divide by zero\r\n",
			"ZeroDivisionError", "divide by zero", []Frame{{"<stdin>", 3, "<module>"}, {"<stdin>", 2, "f"}}},
		{"Traceback (most recent call last):\n  File \"<stdin>\", line 2\nSyntaxError: invalid syntax\n",
			"SyntaxError", "invalid syntax", []Frame{{"<stdin>", 2, ""}}},
		{"KeyboardInterrupt: \r\n", "KeyboardInterrupt", "", nil},
		{"Traceback (most recent call last):\n  File \"main.py\", line 9, in <module>\nOSError: [Errno 2] ENOENT\n",
			"OSError", "[Errno 2] ENOENT", []Frame{{"main.py", 9, "<module>"}}},
		{"Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\nValueError: ('bad', 3)\n",
			"ValueError", "('bad', 3)", []Frame{{"<stdin>", 1, "<module>"}}},
		{"Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\nValueError: two\nlines\n",
			"ValueError", "two\nlines", []Frame{{"<stdin>", 1, "<module>"}}},
		{"\r\nConcurrent WebREPL connection from ('1.2.3.4', 5) rejected\r\nKeyboardInterrupt: \r\n", "KeyboardInterrupt", "", nil},
	}
	for _, c := range cases {
		e := parseException([]byte(c.text))
		if e.Type != c.typ || e.Message != c.msg || len(e.Frames) != len(c.frames) {
			t.Errorf("%q → %+v", c.text, e)
			continue
		}
		for i := range c.frames {
			if e.Frames[i] != c.frames[i] {
				t.Errorf("%q frame %d = %+v, want %+v", c.text, i, e.Frames[i], c.frames[i])
			}
		}
		if e.Text != strings.ReplaceAll(c.text, "\r\n", "\n") {
			t.Errorf("Text = %q", e.Text)
		}
	}
}

func TestUTF8WriterMatchesWholeDecode(t *testing.T) {
	in := []byte("a€b\xe2\x82\xff😀\xf0\x9f\x98z\xc3")
	want := string([]rune(string(in)))
	for size := 1; size <= len(in); size++ {
		var out bytes.Buffer
		w := NewUTF8Writer(&out)
		for i := 0; i < len(in); i += size {
			w.Write(in[i:min(i+size, len(in))])
		}
		w.Flush()
		if out.String() != want {
			t.Errorf("%d-byte pieces: %q, want %q", size, out.String(), want)
		}
	}
}

func TestFileRecordLayout(t *testing.T) {
	rec := fileRecord(fileOpPut, 600, "t.txt")
	want := append([]byte("WA\x01\x00"+strings.Repeat("\x00", 8)+"\x58\x02\x00\x00\x05\x00t.txt"), make([]byte, 59)...)
	if !bytes.Equal(rec, want) {
		t.Errorf("PUT record\n got % x\nwant % x", rec, want)
	}
	if err := checkRemoteName(strings.Repeat("a", 63)); err != nil {
		t.Errorf("63 bytes refused: %v", err)
	}
}

// The literal encoder of file paths is tested in internal/boardpy (TestStr, and under MicroPython).

// checkException holds parseException to what every caller relies on,
// whatever the board sent: a name, and printable, bounded text.
func checkException(t *testing.T, raw []byte, e *Exception) {
	t.Helper()
	if !typeName.MatchString(e.Type) {
		t.Fatalf("%q: exception name %q is not a name", raw, e.Type)
	}
	if len(e.Message) > MaxMessageBytes {
		t.Fatalf("%q: message of %d bytes, want at most %d", raw, len(e.Message), MaxMessageBytes)
	}
	for what, text := range map[string]string{"message": e.Message, "text": e.Text} {
		if !utf8.ValidString(text) {
			t.Fatalf("%q: %s %q is not UTF-8", raw, what, text)
		}
		for _, r := range text {
			if !unicode.IsPrint(r) && r != '\n' && r != '\t' {
				t.Fatalf("%q: %s %q holds the unprintable %U", raw, what, text, r)
			}
		}
	}
	if e.Type == UnknownBoardError && e.Message == "" {
		t.Fatalf("%q: an unknown error without a message", raw)
	}
}

func TestParseExceptionOfBadText(t *testing.T) {
	t.Parallel()
	cases := []struct{ text, typ, msg string }{
		{"\x00\x01\xffgarbage\x80", UnknownBoardError, `\x00\x01\xffgarbage\x80`},
		{"Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\nValueError: bell\a esc\x1b[2J\n",
			"ValueError", `bell\x07 esc\x1b[2J`},
		{"no exception line here\n", UnknownBoardError, "no exception line here"},
		{" \n", UnknownBoardError, "the board reported an error without text"},
		{strings.Repeat("A", 300) + "\n", UnknownBoardError, strings.Repeat("A", 300)}, // too long for a name
		{"é\u200b\xe2\x82", UnknownBoardError, `é\u200b\xe2\x82`},
	}
	for _, c := range cases {
		e := parseException([]byte(c.text))
		checkException(t, []byte(c.text), e)
		if e.Type != c.typ || e.Message != c.msg {
			t.Errorf("%q → %q, %q; want %q, %q", c.text, e.Type, e.Message, c.typ, c.msg)
		}
	}
	long := parseException([]byte("ValueError: " + strings.Repeat("é", 5000)))
	checkException(t, nil, long)
	if long.Type != "ValueError" || !strings.HasSuffix(long.Message, "… (10000 bytes in all)") || !strings.Contains(long.Text, strings.Repeat("é", 5000)) {
		t.Errorf("long message: %q, %.80q…; want it cut, the text whole", long.Type, long.Message)
	}
}

// Random bytes, bare or behind a traceback header, as a broken peer or a
// garbled link would deliver them between the two 0x04 of a reply.
func TestParseExceptionOfRandomBytes(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 1500 {
		raw := make([]byte, rng.IntN(3000))
		for j := range raw {
			raw[j] = byte(rng.Uint32())
		}
		switch i % 3 {
		case 1:
			raw = append([]byte(tracebackHeader), raw...)
		case 2:
			raw = append(append([]byte(tracebackHeader+"  File \"<stdin>\", line 1, in <module>\n"), raw...), "\r\n"...)
		}
		checkException(t, raw, parseException(raw))
	}
}

// End to end: a message holding control characters (a bell, a terminal
// escape that would clear the screen, a NUL) reaches the caller as
// printable escapes, the name intact.
func TestExceptionWithControlCharactersIsPrintable(t *testing.T) {
	t.Parallel()
	b := startBoard(t, sim.Options{Profile: "ideal"})
	s := dialBoard(t, b, Options{})
	_, res := execString(t, s, "raise ValueError('bell' + chr(7) + ' clear' + chr(27) + '[2J nul' + chr(0))")
	if res.Exception == nil {
		t.Fatal("no exception")
	}
	e := res.Exception
	checkException(t, nil, e)
	if e.Type != "ValueError" || e.Message != `bell\x07 clear\x1b[2J nul\x00` {
		t.Errorf("got %q: %q", e.Type, e.Message)
	}
}

var testMarks = Marks{Start: []byte("\x02B1234\x02"), Error: []byte("\x02X1234\x02"), End: []byte("\x02Z1234\x02")}

// markedReference splits a whole marked reply (after OK) the plain way:
// what the incremental parser must produce in any pieces.
func markedReference(reply []byte, m Marks) (stdout, framed, exception []byte, done bool, consumed int) {
	rest := reply
	started, inError := false, false
	first := func(b []byte, marks ...[]byte) (int, []byte) {
		at, which := -1, []byte(nil)
		for _, mk := range marks {
			if k := bytes.Index(b, mk); k >= 0 && (at < 0 || k < at) {
				at, which = k, mk
			}
		}
		return at, which
	}
	for {
		var at int
		var which []byte
		switch {
		case !started:
			at, which = first(rest, m.Start, m.Error, m.End)
			if e := bytes.IndexByte(rest, 4); e >= 0 && (at < 0 || e < at) {
				stdout = append(stdout, rest[:e]...)
				rest = rest[e+1:]
				goto raw
			}
		case inError:
			at, which = first(rest, m.End)
		default:
			at, which = first(rest, m.Error, m.End)
		}
		if at < 0 {
			if inError {
				framed = append(framed, rest...)
			} else {
				stdout = append(stdout, rest...)
			}
			return stdout, framed, nil, false, len(reply)
		}
		if inError {
			framed = append(framed, rest[:at]...)
		} else {
			stdout = append(stdout, rest[:at]...)
		}
		rest = rest[at+len(which):]
		started = true
		if bytes.Equal(which, m.Error) {
			inError = true
			continue
		}
		if bytes.Equal(which, m.End) {
			e := bytes.IndexByte(rest, 4)
			if e < 0 {
				return append(stdout, rest...), framed, nil, false, len(reply)
			}
			stdout = append(stdout, rest[:e]...)
			rest = rest[e+1:]
			goto raw
		}
	}
raw:
	exc, after, found := bytes.Cut(rest, []byte{4})
	if !found {
		return stdout, framed, exc, false, len(reply)
	}
	if i := bytes.IndexByte(after, '>'); i >= 0 {
		return stdout, framed, exc, true, len(reply) - len(after) + i + 1
	}
	return stdout, framed, exc, false, len(reply)
}

func runMarked(reply []byte, m Marks, piece int) (stdout []byte, p replyParser, consumed int) {
	p = replyParser{state: replyStdout, marks: &m}
	rest := reply
	for len(rest) > 0 && !p.done() {
		n := min(piece, len(rest))
		used := p.feed(rest[:n], func(b []byte) { stdout = append(stdout, b...) })
		consumed += used
		if used < n {
			break
		}
		rest = rest[n:]
	}
	if !p.done() {
		p.flushHeld(func(b []byte) { stdout = append(stdout, b...) })
	}
	return stdout, p, consumed
}

var markedSeeds = []struct{ name, reply, stdout, framed string }{
	{"plain", "\x02B1234\x02hi\n\x02Z1234\x02\x04\x04>", "hi\n", ""},
	{"0x04 and the prompt in output", "\x02B1234\x02OK\x04\x04>x\n\x02Z1234\x02\x04\x04>", "OK\x04\x04>x\n", ""},
	{"framed error with 0x04", "\x02B1234\x02out\x02X1234\x02Traceback (most recent call last):\nValueError: a\x04b\n\x02Z1234\x02\x04\x04>", "out", "Traceback (most recent call last):\nValueError: a\x04b\n"},
	{"never began", "\x04Traceback (most recent call last):\nNameError: name '__wk_cell' isn't defined\n\x04>", "", ""},
	{"interrupted before Start", "\x02X1234\x02KeyboardInterrupt: \n\x02Z1234\x02\x04\x04>", "", "KeyboardInterrupt: \n"},
	{"forged marks", "\x02B1234\x02\x02Z1235\x02\x02X123\x02\x02B1234\x02\x02Z1234\x02\x04\x04>", "\x02Z1235\x02\x02X123\x02\x02B1234\x02", ""},
	{"late interrupt", "\x02B1234\x02\x02Z1234\x02\x04KeyboardInterrupt: \n\x04>", "", ""},
	{"cut short", "\x02B1234\x02abc\x02Z12", "abc\x02Z12", ""},
}

func TestMarkedReplyParser(t *testing.T) {
	for _, c := range markedSeeds {
		for _, size := range []int{1, 2, 3, 5, 7, 1000} {
			stdout, p, _ := runMarked([]byte(c.reply), testMarks, size)
			if string(stdout) != c.stdout || string(p.framed) != c.framed {
				t.Errorf("%s in %d-byte pieces: stdout %q framed %q", c.name, size, stdout, p.framed)
			}
			if want := strings.HasSuffix(c.reply, ">"); p.done() != want {
				t.Errorf("%s in %d-byte pieces: done = %v", c.name, size, p.done())
			}
		}
	}
}

// FuzzMarkedReplyParser checks the marked parser, in pieces, against the
// whole-reply reference.
func FuzzMarkedReplyParser(f *testing.F) {
	for _, c := range markedSeeds {
		f.Add([]byte(c.reply), uint8(1))
		f.Add([]byte(c.reply), uint8(6))
	}
	f.Fuzz(func(t *testing.T, reply []byte, piece uint8) {
		stdout, p, consumed := runMarked(reply, testMarks, int(piece)+1)
		ws, wf, we, wd, wc := markedReference(reply, testMarks)
		if !bytes.Equal(stdout, ws) || !bytes.Equal(p.framed, wf) || !bytes.Equal(p.exception, we) || p.done() != wd || (wd && consumed != wc) {
			t.Errorf("reply %q in %d-byte pieces:\nstdout %q want %q\nframed %q want %q\nexception %q want %q\ndone %v want %v, consumed %d want %d",
				reply, int(piece)+1, stdout, ws, p.framed, wf, p.exception, we, p.done(), wd, consumed, wc)
		}
	})
}
