package webrepl

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeBoard is a small in-test WebREPL server for unit tests: it speaks the
// login, the friendly/raw/raw-paste REPL framing and the file protocol, and
// "runs" programs written in a tiny line language instead of Python:
//
//	out TEXT      print TEXT and CRLF
//	raw HEX       write the bytes as one frame, uncooked
//	raise T MSG   uncaught exception T with message MSG
//	wait          run until Ctrl-C (KeyboardInterrupt)
//	deaf N        run until Ctrl-C, printing "ignored" for the first N of them
//	exit          sys.exit()
//	reset         machine.reset()
//	drop          the link drops, the board keeps running
//	x = = 1       syntax error (raw-paste ends early)
//
// Anything else prints "len=N sha=HEX" of the whole program, so tests can
// check every byte arrived. The helper programs of Stat/Put/verify are
// recognised by their shape.
type fakeBoard struct {
	t        *testing.T
	ln       net.Listener
	srv      *http.Server
	password string

	mu          sync.Mutex
	mode        string // "friendly", "raw", "paste", "running"
	line        []byte // friendly line or raw buffer
	ram         map[string]string
	files       map[string][]byte
	connected   bool
	rawPaste    bool
	html        bool // answer plain HTTP
	mute        bool // never send the Password: prompt
	corruptPut  bool
	soft, hard  int
	violations  []string
	maxExcess   int  // most bytes ever received beyond the credit granted (−1 = 2W−1 outstanding)
	fullWindow  bool // the client may use all 2W bytes of credit
	maxFrame    int  // largest text frame received while a program was sent
	frames      [][]byte
	interrupted int
}

func newFakeBoard(t *testing.T) *fakeBoard {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeBoard{t: t, ln: ln, password: "secret", mode: "friendly", ram: map[string]string{},
		files: map[string][]byte{}, rawPaste: true, maxExcess: math.MinInt}
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serve)}
	go f.srv.Serve(ln)
	t.Cleanup(func() { f.srv.Close() })
	return f
}

func (f *fakeBoard) URL() string { return "ws://" + f.ln.Addr().String() + "/" }

func (f *fakeBoard) get(fn func(f *fakeBoard) bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fn(f)
}

func (f *fakeBoard) set(fn func(f *fakeBoard)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeBoard) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	html := f.html
	f.mu.Unlock()
	if html {
		w.Write([]byte("<base href=\"https://micropython.org/webrepl/\"></base>\r\n<script src=\"webrepl_content.js\"></script>\r\n"))
		return
	}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	f.mu.Lock()
	if f.connected {
		f.mu.Unlock()
		ws.NetConn().Close() // 101 then an immediate close (§1.6)
		return
	}
	f.connected = true
	mute := f.mute
	f.mu.Unlock()
	c := &fakeConn{f: f, ws: ws, in: make(chan fakeMsg, 1024)}
	defer func() {
		ws.NetConn().Close()
		f.mu.Lock()
		f.connected = false
		f.mu.Unlock()
	}()
	go c.readLoop()
	if mute {
		for range c.in {
		}
		return
	}
	c.run()
}

type fakeMsg struct {
	binary bool
	data   []byte
}

type fakeConn struct {
	f      *fakeBoard
	ws     *websocket.Conn
	in     chan fakeMsg
	text   []byte // pending REPL input
	bin    []byte // pending file input
	closed bool
	fileOp *fakeFileOp
}

type fakeFileOp struct {
	put       bool
	name      string
	remaining int
	data      []byte
	getPos    int
}

func (c *fakeConn) readLoop() {
	defer close(c.in)
	for {
		mt, p, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		c.in <- fakeMsg{binary: mt == websocket.BinaryMessage, data: p}
	}
}

func (c *fakeConn) send(s string) {
	if c.closed {
		return
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.closed = true
	}
}

func (c *fakeConn) sendBin(p []byte) { c.ws.WriteMessage(websocket.BinaryMessage, p) }

// nextByte returns the next REPL byte, handling file frames meanwhile.
func (c *fakeConn) nextByte(block bool) (byte, bool) {
	for len(c.text) == 0 {
		var m fakeMsg
		var ok bool
		if block {
			m, ok = <-c.in
		} else {
			select {
			case m, ok = <-c.in:
			default:
				return 0, false
			}
		}
		if !ok {
			c.closed = true
			return 0, false
		}
		if m.binary {
			c.fileBytes(m.data)
			continue
		}
		c.f.mu.Lock()
		c.f.frames = append(c.f.frames, m.data)
		c.f.mu.Unlock()
		c.text = append(c.text, m.data...)
	}
	b := c.text[0]
	c.text = c.text[1:]
	return b, true
}

func (c *fakeConn) run() {
	c.send("Password: ")
	var pw []byte
	for {
		b, ok := c.nextByte(true)
		if !ok {
			return
		}
		if b == '\r' || b == '\n' {
			break
		}
		if len(pw) < 10 {
			pw = append(pw, b)
		}
	}
	if string(pw) != c.f.password {
		c.send("\r\nAccess denied\r\n")
		return
	}
	c.send("\r\nWebREPL connected\r\n>>> ")
	for !c.closed {
		c.f.mu.Lock()
		mode := c.f.mode
		c.f.mu.Unlock()
		if mode == "running" {
			c.runMain()
			continue
		}
		b, ok := c.nextByte(true)
		if !ok {
			return
		}
		c.replByte(b)
	}
}

// runMain is main.py printing until Ctrl-C.
func (c *fakeConn) runMain() {
	for !c.closed {
		if b, ok := c.nextByte(false); ok && b == 0x03 {
			c.send("Traceback (most recent call last):\r\n  File \"main.py\", line 3, in <module>\r\nKeyboardInterrupt: \r\n")
			c.send("MicroPython v1.27.0\r\n>>> ")
			c.f.set(func(f *fakeBoard) { f.mode = "friendly"; f.line = nil })
			return
		}
		c.send("tick\r\n")
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *fakeConn) replByte(b byte) {
	f := c.f
	f.mu.Lock()
	mode := f.mode
	f.mu.Unlock()
	switch mode {
	case "friendly":
		switch b {
		case 0x03:
			f.set(func(f *fakeBoard) { f.line = nil })
			c.send("\r\n>>> ")
		case 0x01:
			f.mu.Lock()
			empty := len(f.line) == 0
			if empty {
				f.mode = "raw"
			}
			f.mu.Unlock()
			if empty {
				c.send("\r\nraw REPL; CTRL-B to exit\r\n>")
			}
		case 0x02:
			f.set(func(f *fakeBoard) { f.line = nil })
			c.send("\r\nMicroPython v1.27.0\r\n>>> ")
		case 0x04:
			f.mu.Lock()
			empty := len(f.line) == 0
			f.mu.Unlock()
			if empty { // soft reset; the friendly REPL stays friendly
				c.send("\r\nMPY: soft reboot\r\n")
				c.reset(true)
				f.set(func(f *fakeBoard) { f.mode = "friendly" })
			}
		case 0x05:
			f.set(func(f *fakeBoard) { f.mode = "paste"; f.line = nil })
			c.send("\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ")
		case '\r':
			f.set(func(f *fakeBoard) { f.line = nil })
			c.send("\r\n>>> ")
		default:
			f.set(func(f *fakeBoard) { f.line = append(f.line, b) })
			c.send(string([]byte{b}))
		}
	case "paste":
		if b == 0x03 {
			f.set(func(f *fakeBoard) { f.mode = "friendly"; f.line = nil })
			c.send("\r\n>>> ")
			return
		}
		c.send(string([]byte{b}))
	case "raw":
		f.mu.Lock()
		buf := f.line
		f.mu.Unlock()
		switch b {
		case 0x01:
			if len(buf) == 2 && buf[0] == 0x05 && buf[1] == 'A' && f.rawPaste {
				f.set(func(f *fakeBoard) { f.line = nil })
				c.rawPasteMode()
				return
			}
			f.set(func(f *fakeBoard) { f.line = nil })
			c.send("raw REPL; CTRL-B to exit\r\n>")
		case 0x02:
			f.set(func(f *fakeBoard) { f.mode = "friendly"; f.line = nil })
			c.send("\r\nMicroPython v1.27.0\r\n>>> ")
		case 0x03:
			f.set(func(f *fakeBoard) { f.line = nil })
		case 0x04:
			if len(buf) == 0 {
				c.send("OK\r\n")
				c.reset(true)
				return
			}
			f.set(func(f *fakeBoard) { f.line = nil })
			c.send("OK")
			c.execute(string(buf))
		default:
			f.set(func(f *fakeBoard) { f.line = append(f.line, b) })
		}
	}
}

func (c *fakeConn) reset(soft bool) {
	c.f.set(func(f *fakeBoard) {
		f.ram = map[string]string{}
		f.line = nil
		if soft {
			f.soft++
			f.mode = "raw"
		} else {
			f.hard++
			f.mode = "friendly"
		}
	})
	c.closed = true
}

// fakeDrainPause is how long the fake raw-paste reader waits after granting
// credit before it looks at its input again, like an ESP32 that drains its
// socket only now and then: the client meanwhile sends all the credit it
// allows itself, which is what the flow-control tests check.
const fakeDrainPause = 20 * time.Millisecond

// rawPasteMode is §4 with W=128. It consumes whatever has arrived, grants
// the windows consumed only when nothing more is waiting (a drain), and
// records how close the client came to its credit and any byte beyond it.
func (c *fakeConn) rawPasteMode() {
	const w = 128
	c.send("R\x01")
	c.send("\x80\x00\x01")
	granted, received, consumed, owed := 2*w, 0, 0, 0
	full := c.f.get(func(f *fakeBoard) bool { return f.fullWindow })
	var prog []byte
	c.f.mu.Lock()
	c.f.frames = nil
	c.f.mu.Unlock()
	for {
		b, ok := c.nextByte(false)
		if !ok {
			if c.closed {
				return
			}
			for ; owed > 0; owed-- {
				granted += w
				c.send("\x01")
			}
			time.Sleep(fakeDrainPause)
			if b, ok = c.nextByte(true); !ok {
				return
			}
		}
		received++
		c.f.set(func(f *fakeBoard) { f.maxExcess = max(f.maxExcess, received-granted) })
		if received > granted || (!full && received > granted-1) {
			c.f.set(func(f *fakeBoard) {
				f.violations = append(f.violations, fmt.Sprintf("byte %d received with %d granted", received, granted))
			})
		}
		switch b {
		case 0x03:
			c.send("\x04")
			c.send("\x04KeyboardInterrupt: \r\n\x04>")
			c.f.set(func(f *fakeBoard) { f.interrupted++ })
			return
		case 0x04:
			c.send("\x04")
			c.runProgram(string(prog))
			return
		}
		prog = append(prog, b)
		consumed++
		if consumed%w == 0 {
			owed++
		}
		if bytes.Contains(prog, []byte("x = = 1\n")) {
			c.send("\x04") // early end; discard until 0x04 or 0x03
			for {
				b, ok := c.nextByte(true)
				if !ok || b == 0x03 || b == 0x04 {
					break
				}
			}
			c.send("\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 1\r\nSyntaxError: invalid syntax\r\n\x04>")
			return
		}
	}
}

func (c *fakeConn) execute(code string) {
	c.f.mu.Lock()
	for _, fr := range c.f.frames {
		c.f.maxFrame = max(c.f.maxFrame, len(fr))
	}
	c.f.frames = nil
	c.f.mu.Unlock()
	c.runProgram(code)
}

var (
	markerRe = regexp.MustCompile(`setdefault\('__webrepl_session_marker','(\w+)'\)`)
	statRe   = regexp.MustCompile(`o\.stat\('([^']*)'\)`)
	openRe   = regexp.MustCompile(`open\('([^']*)','rb'\)`)
)

func (c *fakeConn) traceback(typ, msg string) {
	c.send("\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\n" + typ + ": " + msg + "\r\n\x04>")
}

// runProgram "runs" code after OK (standard) or the 0x04 ack (raw-paste).
func (c *fakeConn) runProgram(code string) {
	f := c.f
	switch {
	case markerRe.MatchString(code):
		tok := markerRe.FindStringSubmatch(code)[1]
		f.mu.Lock()
		if old, ok := f.ram["marker"]; ok {
			tok = old
		} else {
			f.ram["marker"] = tok
		}
		f.mu.Unlock()
		c.send(tok + "\r\n\x04\x04>")
		return
	case strings.HasPrefix(code, "def _webrepl_op(o):"):
		c.helper(code)
		return
	case code == "import machine\nmachine.reset()\n":
		c.reset(false)
		return
	}
	var out strings.Builder
	for _, line := range strings.Split(code, "\n") {
		cmd, arg, _ := strings.Cut(line, " ")
		switch cmd {
		case "out":
			c.send(arg)
			c.send("\r\n")
		case "raw":
			b, _ := hex.DecodeString(arg)
			c.send(string(b))
		case "raise":
			typ, msg, _ := strings.Cut(arg, " ")
			c.traceback(typ, msg)
			return
		case "wait":
			for {
				b, ok := c.nextByte(true)
				if !ok {
					return
				}
				if b == 0x03 {
					c.f.set(func(f *fakeBoard) { f.interrupted++ })
					c.traceback("KeyboardInterrupt", "")
					return
				}
			}
		case "deaf": // like wait, but the first N Ctrl-Cs only print "ignored"
			ignore, _ := strconv.Atoi(arg)
			for {
				b, ok := c.nextByte(true)
				if !ok {
					return
				}
				if b != 0x03 {
					continue
				}
				if ignore > 0 {
					ignore--
					c.send("ignored\r\n")
					continue
				}
				c.f.set(func(f *fakeBoard) { f.interrupted++ })
				c.traceback("KeyboardInterrupt", "")
				return
			}
		case "exit":
			c.send("\x04\x04")
			c.reset(true)
			return
		case "reset":
			c.reset(false)
			return
		case "drop":
			c.closed = true
			return
		case "set":
			k, v, _ := strings.Cut(arg, "=")
			f.set(func(f *fakeBoard) { f.ram[k] = v })
		default:
			if out.Len() == 0 {
				sum := sha256.Sum256([]byte(code))
				fmt.Fprintf(&out, "len=%d sha=%x\r\n", len(code), sum[:4])
			}
		}
	}
	c.send(out.String() + "\x04\x04>")
}

func (c *fakeConn) helper(code string) {
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	path := ""
	if m := statRe.FindStringSubmatch(code); m != nil {
		path = m[1]
	}
	switch {
	case strings.Contains(code, "hashlib"):
		name := openRe.FindStringSubmatch(code)[1]
		sum := sha256.Sum256(f.files[name])
		c.send(fmt.Sprintf("sha256 %x\r\n\x04\x04>", sum))
	case strings.Contains(code, "raise OSError(21)"):
		c.send("\x04\x04>")
	case strings.Contains(code, "print(s[0],s[6])"):
		data, ok := f.files[path]
		if !ok {
			c.traceback("OSError", "[Errno 2] ENOENT")
			return
		}
		c.send(fmt.Sprintf("32768 %d\r\n\x04\x04>", len(data)))
	default:
		c.send("\x04Traceback (most recent call last):\r\nNotImplementedError: fake\r\n\x04>")
	}
}

// fileBytes is the binary channel (§2).
func (c *fakeConn) fileBytes(p []byte) {
	c.bin = append(c.bin, p...)
	for {
		op := c.fileOp
		switch {
		case op == nil:
			if len(c.bin) < 82 {
				return
			}
			rec := c.bin[:82]
			c.bin = c.bin[82:]
			name := string(bytes.TrimRight(rec[18:], "\x00"))
			switch rec[2] {
			case 3:
				c.sendBin([]byte{1, 27, 0})
			case 1:
				c.fileOp = &fakeFileOp{put: true, name: name, remaining: int(binary.LittleEndian.Uint32(rec[12:]))}
				c.sendBin([]byte("WB\x00\x00"))
				if c.fileOp.remaining == 0 {
					c.finishPut()
				}
			case 2:
				c.f.mu.Lock()
				data := c.f.files[name]
				c.f.mu.Unlock()
				c.fileOp = &fakeFileOp{name: name, data: data}
				c.sendBin([]byte("WB\x00\x00"))
			}
		case op.put:
			if len(c.bin) == 0 {
				return
			}
			n := min(len(c.bin), op.remaining)
			op.data = append(op.data, c.bin[:n]...)
			c.bin = c.bin[n:]
			op.remaining -= n
			if op.remaining == 0 {
				c.finishPut()
			}
		default: // get: one 0x00 per chunk
			if len(c.bin) == 0 {
				return
			}
			c.bin = c.bin[1:]
			n := min(256, len(op.data)-op.getPos)
			chunk := binary.LittleEndian.AppendUint16(nil, uint16(n))
			chunk = append(chunk, op.data[op.getPos:op.getPos+n]...)
			op.getPos += n
			c.sendBin(chunk)
			if n == 0 {
				c.sendBin([]byte("WB\x00\x00"))
				c.fileOp = nil
			}
		}
	}
}

func (c *fakeConn) finishPut() {
	op := c.fileOp
	c.f.mu.Lock()
	data := op.data
	if c.f.corruptPut && len(data) > 0 {
		data = bytes.Clone(data)
		data[len(data)/2] ^= 0x40
	}
	c.f.files[op.name] = data
	c.f.mu.Unlock()
	c.sendBin([]byte("WB\x00\x00"))
	c.fileOp = nil
}
