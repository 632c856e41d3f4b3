package sim

// End-to-end tests against the real board process (MicroPython's
// WebAssembly port under Node), through a gorilla/websocket client.
// Byte sequences come from docs/protocol/webrepl.md Appendices A and B, with every
// "\n" a program prints cooked to "\r\n" as on an ESP board.

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// realOptions is a board with a fast drain, so that tests run quickly
// under the same loss rule.
func realOptions(profile string) Options {
	return Options{
		Profile:     profile,
		DrainPeriod: 5 * time.Millisecond,
		BootDelay:   50 * time.Millisecond,
		ResetAfter:  2 * time.Second,
	}
}

func startReal(t *testing.T, opts Options) (*Board, *testClient) {
	t.Helper()
	b := startTestBoard(t, opts)
	c := dialBoard(t, b.URL())
	c.login(b.Password())
	return b, c
}

// enterRaw switches a freshly connected friendly REPL to the raw REPL.
func (c *testClient) enterRaw() {
	c.t.Helper()
	c.sendText("\x01")
	c.expectText("raw REPL; CTRL-B to exit\r\n>")
}

// exchange sends text and expects exactly want as the following output.
func (c *testClient) exchange(send, want string) {
	c.t.Helper()
	c.sendText(send)
	if got := c.expectText(want); got != want {
		c.t.Fatalf("sent %q\n got %q\nwant %q", send, got, want)
	}
}

func TestAppendixAFrameLog(t *testing.T) {
	t.Parallel()
	b, c := func() (*Board, *testClient) {
		b := startTestBoard(t, realOptions("ideal"))
		c := dialBoard(t, b.URL())
		if got := c.nextText(); got != passwordPrompt {
			t.Fatalf("first frame %q", got)
		}
		c.sendText(b.Password() + "\r\n")
		if got := c.nextText(); got != connectedBanner {
			t.Fatalf("got %q, want %q", got, connectedBanner)
		}
		return b, c
	}()
	c.exchange("", "\r\n>>> ") // the extra "\n" reached readline
	c.exchange("1+1\r", "1+1\r\n2\r\n>>> ")
	c.exchange("\r\x01", "\r\n>>> \r\nraw REPL; CTRL-B to exit\r\n>")
	c.exchange("print(123)\x04", "OK123\r\n\x04\x04>")
	c.exchange("\x05A\x01", "R\x01\x80\x00\x01")
	c.exchange("for i in range(3):\n print(i)\n1/0\x04",
		"\x040\r\n1\r\n2\r\n\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 3, in <module>\r\nZeroDivisionError: divide by zero\r\n\x04>")

	c.send(websocket.BinaryMessage, transferRecord(xferGetVer, 0, ""))
	if got := c.expectBinary(); string(got) != "\x01\x1c\x00" { // DefaultFirmware
		t.Fatalf("GET_VER %q", got)
	}
	data := bytes.Repeat([]byte("0123456789"), 60)
	rec := transferRecord(xferPut, 600, "t.txt")
	c.send(websocket.BinaryMessage, rec)
	if got := c.expectBinary(); string(got) != statusOK {
		t.Fatalf("PUT status %q", got)
	}
	c.send(websocket.BinaryMessage, data[:300])
	c.send(websocket.BinaryMessage, data[300:])
	if got := c.expectBinary(); string(got) != statusOK {
		t.Fatalf("PUT final status %q", got)
	}
	c.send(websocket.BinaryMessage, transferRecord(xferGet, 0, "t.txt"))
	if got := c.expectBinary(); string(got) != statusOK {
		t.Fatalf("GET status %q", got)
	}
	for _, want := range [][]byte{
		append([]byte{0x00, 0x01}, data[:256]...),
		append([]byte{0x00, 0x01}, data[256:512]...),
		append([]byte{0x58, 0x00}, data[512:]...),
		{0x00, 0x00},
	} {
		c.send(websocket.BinaryMessage, []byte{0})
		if got := c.expectBinary(); !bytes.Equal(got, want) {
			t.Fatalf("GET chunk % x…, want % x…", got[:2], want[:2])
		}
	}
	if got := c.expectBinary(); string(got) != statusOK {
		t.Fatalf("GET final status %q", got)
	}
	// The board sees the uploaded file.
	c.exchange("print(open('t.txt').read()[590:])\x04", "OK0123456789\r\n\x04\x04>")

	c.sendText("\x02")
	banner := c.expectText("Type \"help()\" for more information.\r\n>>> ")
	if !strings.HasPrefix(banner, "\r\nMicroPython v"+DefaultFirmware+".0 ") {
		t.Fatalf("banner %q", banner)
	}

	// PING "AB" then "\r": swallowed by the file-header parser. Completing
	// the header as a GET_VER request shows where the bytes went.
	if err := c.conn.WriteControl(websocket.PingMessage, []byte("AB"), time.Now().Add(waitLimit)); err != nil {
		t.Fatal(err)
	}
	c.sendText("\r\x03")
	c.sendText(string(make([]byte, xferHeaderSize-3)))
	if got := c.expectBinary(); string(got) != "\x01\x1c\x00" { // 1.28.0, DefaultFirmware
		t.Fatalf("got %q after the leaked ping payload, want GET_VER's answer", got)
	}
	if len(c.text) != 0 {
		t.Fatalf("the swallowed bytes reached the REPL: %q", c.text)
	}
	c.exchange("7\r", "7\r\n7\r\n>>> ")

	if err := c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(waitLimit)); err != nil {
		t.Fatal(err)
	}
	f := c.next()
	ce, ok := f.err.(*websocket.CloseError)
	if !ok || ce.Code != websocket.CloseNoStatusReceived {
		t.Fatalf("after CLOSE 1000 got %v, want the board's empty close frame", f.err)
	}
	// The board serves the next client.
	redialUntilServed(t, b)
}

func TestAppendixBRawAndFriendly(t *testing.T) {
	t.Parallel()
	_, c := startReal(t, realOptions("ideal"))
	c.exchange("\x01", "\r\nraw REPL; CTRL-B to exit\r\n>")
	for _, step := range []struct{ send, want string }{
		{"\x01", "raw REPL; CTRL-B to exit\r\n>"},
		{"print(1)", ""},
		{"\x01", "raw REPL; CTRL-B to exit\r\n>"},
		{"abc\x03print(7)\x04", "OK7\r\n\x04\x04>"},
		{"1+1\x04", "OK\x04\x04>"},
		{"def f():\n  return 1/0\nf()\x04", "OK\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 3, in <module>\r\n  File \"<stdin>\", line 2, in f\r\nZeroDivisionError: divide by zero\r\n\x04>"},
		{"\x05B\x01", "R\x00>"},
		{"\x05A\x01", "R\x01\x80\x00\x01"},
		{"print(5)\x04", "\x045\r\n\x04\x04>"},
		{"\x05A\x01", "R\x01\x80\x00\x01"},
		{"x=1\nprint(x\x04", "\x04\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 3\r\nSyntaxError: invalid syntax\r\n\x04>"},
		{"\x05A\x01", "R\x01\x80\x00\x01"},
		{"x=1\n\x03", "\x04\x04KeyboardInterrupt: \r\n\x04>"},
		{"\x05A\x01", "R\x01\x80\x00\x01"},
		{"x = = 1\n" + strings.Repeat("y", 80), "\x04"},
		{"\x04", "\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 1\r\nSyntaxError: invalid syntax\r\n\x04>"},
		{"\x05A\x01", "R\x01\x80\x00\x01"},
		{"#" + strings.Repeat("c", 126) + "\n", ""},
		{"#" + strings.Repeat("d", 126) + "\n", "\x01\x01"},
		{"\x04", "\x04\x04\x04>"},
		{"\x05A\x01", "R\x01\x80\x00\x01"},
		{"\x04", "\x04\x04\x04>"},
		{"exec(compile(\"1+1\", \"<stdin>\", \"single\"))\x04", "OK2\r\n\x04\x04>"},
		{"\x02", "\r\nMicroPython v" + DefaultFirmware + ".0"},
	} {
		if step.want == "" {
			c.sendText(step.send)
			continue
		}
		c.exchange(step.send, step.want)
	}
	c.expectText("Type \"help()\" for more information.\r\n>>> ")
	for _, step := range []struct{ send, want string }{
		{"1;2\r", "1;2\r\n1\r\n2\r\n>>> "},
		{"for i in range(2):\r", "for i in range(2):\r\n...     "},
		{"\x03", "\r\n>>> "},
		{"x=[\r", "x=[\r\n... "},
		{"1,\r", "1,\r\n... "},
		{"2]\r", "2]\r\n>>> "},
		{"x\r", "x\r\n[1, 2]\r\n>>> "},
		{"abc\x03", "abc\r\n>>> "},
		{"\x05", "\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== "},
		{"1\r2\r", "1\r\n=== 2\r\n=== "},
		// Appendix B (a newer build) shows "\r\n>>> " alone here; MicroPython
		// 1.27.0, the board's firmware, echoes the lone constants of a paste.
		{"\x04", "\r\n1\r\n2\r\n>>> "},
		{"undefined_name\r", "NameError: name 'undefined_name' isn't defined\r\n>>> "},
		{"open(\"/nonexist\")\r", "OSError: [Errno 2] ENOENT\r\n>>> "},
	} {
		c.sendText(step.send)
		if got := c.expectText(step.want); !strings.HasSuffix(got, step.want) || (!strings.HasPrefix(step.want, "NameError") && !strings.HasPrefix(step.want, "OSError") && got != step.want) {
			t.Fatalf("sent %q\n got %q\nwant %q", step.send, got, step.want)
		}
	}
}

func TestOfficialClientBehaviours(t *testing.T) {
	t.Parallel()
	flash := t.TempDir()
	opts := realOptions("esp32")
	opts.FlashDir = flash
	b, c := startReal(t, opts)
	c.enterRaw()

	data := make([]byte, 100*1024)
	for i := range data {
		data[i] = byte(i*31 + i>>8)
	}
	c.putFile("big.bin", data)
	if got := c.getFile("big.bin"); !bytes.Equal(got, data) {
		t.Fatalf("GET returned %d bytes differing from the %d uploaded", len(got), len(data))
	}
	c.exchange("print(len(open('big.bin','rb').read()))\x04", "OK102400\r\n\x04\x04>")
	// A file written by a program reaches the host folder.
	c.exchange("f=open('made.txt','w')\nf.write('on board')\nf.close()\x04", "OK\x04\x04>")
	waitFor(t, "made.txt in the flash folder", func() bool {
		got, err := os.ReadFile(filepath.Join(flash, "made.txt"))
		return err == nil && string(got) == "on board"
	})
	if got := c.getFile("made.txt"); string(got) != "on board" {
		t.Fatalf("GET made.txt = %q", got)
	}

	// A second client: 101 then closed; the first hears about it and carries on.
	second := dialBoard(t, b.URL())
	if f := second.next(); f.err == nil {
		t.Fatalf("second client got a frame %q", f.data)
	}
	c.expectText("rejected\r\n")
	c.exchange("print('still')\x04", "OKstill\r\n\x04\x04>")

	// Malformed frame: a 64-bit length closes the socket.
	raw := c.conn.UnderlyingConn()
	if _, err := raw.Write([]byte{0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 'x'}); err != nil {
		t.Fatal(err)
	}
	c.expectEnd()

	// Wrong password, then the right one: the board still serves.
	wrong := dialUntilPrompt(t, b)
	wrong.sendText("nope\r")
	if got := wrong.expectEnd(); got != accessDenied {
		t.Fatalf("wrong password: %q", got)
	}
	c = redialUntilServed(t, b)
	// The REPL stayed raw while nobody was connected.
	c.exchange("\x01", "raw REPL; CTRL-B to exit\r\n>")
	c.exchange("print(open('made.txt').read())\x04", "OKon board\r\n\x04\x04>")
}

// program2K is a program of about 2 KB whose output proves it arrived whole.
func program2K() (code, want string) {
	var sb strings.Builder
	sb.WriteString("total = 0\n")
	n := 0
	for sb.Len() < 2000 {
		n++
		sb.WriteString("total = total + 1  # padding padding padding padding\n")
	}
	sb.WriteString("print('sum', total)\n")
	return sb.String(), "sum " + strconv.Itoa(n)
}

// rawPaste sends code with raw-paste flow control (docs/protocol/webrepl.md §4.3): credit
// starts at the window, grows by the window for every 0x01. Outstanding
// bytes stay below 2·W, which a 255-byte ring needs (§4.4).
func (c *testClient) rawPaste(code string) {
	c.t.Helper()
	c.exchange("\x05A\x01", "R\x01")
	for len(c.text) < 3 {
		c.text = append(c.text, c.nextText()...)
	}
	window := int(binary.LittleEndian.Uint16(c.text[:2]))
	c.text = c.text[2:]
	credit := window - 1
	data := []byte(code)
	for len(data) > 0 {
		for credit == 0 || len(c.text) > 0 {
			if len(c.text) == 0 {
				c.text = append(c.text, c.nextText()...)
				continue
			}
			switch c.text[0] {
			case 0x01:
				credit += window
			default:
				c.t.Fatalf("unexpected byte %q on the raw-paste reverse channel", c.text[0])
			}
			c.text = c.text[1:]
		}
		n := min(credit, window, len(data))
		c.sendText(string(data[:n]))
		data = data[n:]
		credit -= n
	}
	c.sendText("\x04")
}

func testESP32Loss(t *testing.T, drain time.Duration) {
	opts := realOptions("esp32")
	opts.Firmware = "1.27" // an idle REPL sees input only at a drain
	opts.DrainPeriod = drain
	b, c := startReal(t, opts)
	c.enterRaw()
	code, want := program2K()

	// The whole program in one frame: the drain hands 2 KB to a 259-byte ring.
	c.sendText(code)
	waitFor(t, "bytes to be dropped", func() bool { return b.DroppedBytes() > 0 })
	c.sendText("\x04")
	out := c.expectText("\x04>")
	if strings.Contains(out, want) {
		t.Fatalf("the program ran whole although %d bytes were dropped: %q", b.DroppedBytes(), out)
	}
	t.Logf("standard raw REPL: %d of %d bytes dropped", b.DroppedBytes(), len(code))

	dropped := b.DroppedBytes()
	c.rawPaste(code)
	c.expectText("\x04") // end of data acknowledged
	if got := c.expectText("\x04\x04>"); got != want+"\r\n\x04\x04>" {
		t.Fatalf("raw-paste output %q, want %q", got, want+"\r\n\x04\x04>")
	}
	if d := b.DroppedBytes(); d != dropped {
		t.Fatalf("raw-paste lost %d bytes", d-dropped)
	}
}

func TestESP32LossFastDrain(t *testing.T) {
	t.Parallel()
	testESP32Loss(t, 5*time.Millisecond)
}

func TestESP32LossRealDrain(t *testing.T) {
	t.Parallel()
	testESP32Loss(t, DefaultDrainPeriod)
}

func TestESP8266RawPasteWithLatency(t *testing.T) {
	t.Parallel()
	opts := realOptions("esp8266")
	opts.Latency = 20 * time.Millisecond
	b, c := startReal(t, opts)
	c.enterRaw()
	code, want := program2K()
	c.rawPaste(code)
	c.expectText("\x04")
	if got := c.expectText("\x04\x04>"); got != want+"\r\n\x04\x04>" {
		t.Fatalf("output %q", got)
	}
	if d := b.DroppedBytes(); d != 0 {
		t.Fatalf("%d bytes dropped", d)
	}
}

func TestInterruptSleepLoop(t *testing.T) {
	t.Parallel()
	_, c := startReal(t, realOptions("esp32"))
	c.enterRaw()
	c.sendText("import time\nprint('start')\nwhile True:\n    time.sleep(0.05)\n\x04")
	c.expectText("OKstart\r\n")
	c.sendText("\x03")
	out := c.expectText("\x04>")
	if !strings.HasSuffix(out, "KeyboardInterrupt: \r\n\x04>") || !strings.HasPrefix(out, "\x04Traceback (most recent call last):\r\n") {
		t.Fatalf("after Ctrl-C got %q", out)
	}
	c.exchange("print('alive')\x04", "OKalive\r\n\x04\x04>")
}

func TestInterruptPrintLoop(t *testing.T) {
	t.Parallel()
	_, c := startReal(t, realOptions("ideal"))
	c.enterRaw()
	c.sendText("i = 0\nwhile True:\n    i += 1\n    print(i)\n\x04")
	c.expectText("\r\n100\r\n")
	c.sendText("\x03")
	c.expectText("KeyboardInterrupt: \r\n\x04>")
}

// An ESP32 of either generation cannot interrupt a loop that never calls
// out (docs/protocol/simulator.md §4).
func TestResetAfterUninterruptibleLoop(t *testing.T) {
	t.Parallel()
	for _, fw := range []string{"1.27", "1.28"} {
		t.Run(fw, func(t *testing.T) { testResetAfterUninterruptibleLoop(t, fw) })
	}
}

func testResetAfterUninterruptibleLoop(t *testing.T, fw string) {
	opts := realOptions("esp32")
	opts.Firmware = fw
	opts.ResetAfter = time.Second
	b, c := startReal(t, opts)
	c.enterRaw()
	c.exchange("x = 42\x04", "OK\x04\x04>")
	c.sendText("print('spin')\nwhile True:\n    pass\n\x04")
	c.expectText("OKspin\r\n")
	c.sendText("\x03")
	c.expectEnd()
	if soft, hard := b.Resets(); soft != 0 || hard != 1 {
		t.Fatalf("Resets = %d, %d; want a hard reset", soft, hard)
	}
	c = redial(t, b.URL())
	c.login(b.Password())
	// Hard reset: friendly REPL, RAM lost.
	c.exchange("x\r", "x\r\n")
	c.expectText("NameError: name 'x' isn't defined\r\n>>> ")
}

func TestSoftAndHardResets(t *testing.T) {
	t.Parallel()
	flash := t.TempDir()
	opts := realOptions("esp32")
	opts.FlashDir = flash
	b, c := startReal(t, opts)
	c.enterRaw()
	c.exchange("x = 1\nwith open('keep.txt','w') as f:\n    f.write('kept')\n\x04", "OK\x04\x04>")

	// Empty Ctrl-D in the raw REPL: "OK\r\n", then the link drops.
	c.sendText("\x04")
	if got := c.expectEnd(); got != "OK\r\n" {
		t.Fatalf("soft reset: got %q before the drop", got)
	}
	c = redial(t, b.URL())
	c.login(b.Password())
	// Still raw after a soft reset; RAM lost; flash kept.
	c.exchange("print(open('keep.txt').read())\x04", "OKkept\r\n\x04\x04>")
	c.sendText("print(x)\x04")
	c.expectText("NameError: name 'x' isn't defined\r\n\x04>")

	c.sendText("import sys\nsys.exit()\x04")
	if got := c.expectEnd(); got != "OK\x04\x04" {
		t.Fatalf("sys.exit(): got %q", got)
	}
	c = redial(t, b.URL())
	c.login(b.Password())
	c.sendText("import machine\nmachine.soft_reset()\x04")
	c.expectEnd()
	if soft, hard := b.Resets(); soft != 3 || hard != 0 {
		t.Fatalf("Resets = %d, %d; want 3, 0", soft, hard)
	}

	c = redial(t, b.URL())
	c.login(b.Password())
	c.sendText("import machine\nmachine.reset()\x04")
	c.expectEnd()
	if _, hard := b.Resets(); hard != 1 {
		t.Fatalf("hard resets = %d, want 1", hard)
	}
	c = redial(t, b.URL())
	c.login(b.Password())
	// A hard reset boots the friendly REPL; files survive.
	c.exchange("open('keep.txt').read()\r", "open('keep.txt').read()\r\n'kept'\r\n>>> ")
	// Friendly Ctrl-D on an empty line is a soft reset too.
	c.sendText("\x04")
	c.expectEnd()
	if soft, _ := b.Resets(); soft != 4 {
		t.Fatalf("soft resets = %d, want 4", soft)
	}
}

func TestInputRoundTrip(t *testing.T) {
	t.Parallel()
	_, c := startReal(t, realOptions("esp32"))
	c.enterRaw()
	c.exchange("print(input('name? ').upper())\x04", "OKname? ")
	c.exchange("abc\r", "abc\r\nABC\r\n\x04\x04>")
}

func TestPinObservable(t *testing.T) {
	t.Parallel()
	b, c := startReal(t, realOptions("esp32"))
	c.enterRaw()
	if _, ok := b.Pin(2); ok {
		t.Fatalf("pin 2 has a value before any program set it")
	}
	c.exchange("import machine\nmachine.Pin(2).value(1)\x04", "OK\x04\x04>")
	waitFor(t, "pin 2 to read 1", func() bool { v, ok := b.Pin(2); return ok && v == 1 })
	c.exchange("machine.Pin(2).value(0)\x04", "OK\x04\x04>")
	waitFor(t, "pin 2 to read 0", func() bool { v, ok := b.Pin(2); return ok && v == 0 })
}

func TestPressResetIsAHardReset(t *testing.T) {
	t.Parallel()
	flash := t.TempDir()
	opts := realOptions("esp32")
	opts.FlashDir = flash
	b, c := startReal(t, opts)
	c.enterRaw()
	c.exchange("x = 5\nimport machine\nmachine.Pin(2).value(1)\nwith open('keep.txt','w') as f:\n    f.write('kept')\n\x04", "OK\x04\x04>")
	waitFor(t, "pin 2 to read 1", func() bool { v, ok := b.Pin(2); return ok && v == 1 })

	b.PressReset()
	c.expectEnd() // the client is dropped, as a rebooting board drops it
	if soft, hard := b.Resets(); soft != 0 || hard != 1 {
		t.Fatalf("Resets = %d, %d; want one hard reset", soft, hard)
	}
	if _, ok := b.Pin(2); ok {
		t.Errorf("pin 2 kept its value through the reset")
	}
	c = redial(t, b.URL())
	c.login(b.Password())
	// Friendly REPL after the reset; RAM lost; flash kept.
	c.exchange("x\r", "x\r\n")
	c.expectText("NameError: name 'x' isn't defined\r\n>>> ")
	c.exchange("open('keep.txt').read()\r", "open('keep.txt').read()\r\n'kept'\r\n>>> ")
}
