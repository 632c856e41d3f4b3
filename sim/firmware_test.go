package sim

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// Firmware generations (docs/protocol/simulator.md §4):
// what each modelled release reports, and how its input path behaves.

func TestFirmwareReported(t *testing.T) {
	t.Parallel()
	for _, fw := range []struct {
		name, release, getVer string
	}{
		{"1.27", "1.27.0", "\x01\x1b\x00"},
		{"1.28", "1.28.0", "\x01\x1c\x00"},
		{"", "1.28.0", "\x01\x1c\x00"}, // the default: the newest
	} {
		t.Run("firmware="+fw.name, func(t *testing.T) {
			t.Parallel()
			opts := realOptions("esp32")
			opts.Firmware = fw.name
			b, c := startReal(t, opts)
			if got := b.Firmware() + ".0"; got != fw.release {
				t.Errorf("Board.Firmware = %s, want %s", b.Firmware(), fw.release)
			}
			c.sendText("\x02")
			banner := c.expectText(">>> ")
			if !strings.HasPrefix(banner, "\r\nMicroPython v"+fw.release+" on ") {
				t.Errorf("banner %q does not name v%s", banner, fw.release)
			}
			c.enterRaw()
			c.exchange("import sys, os\nprint(sys.implementation.version, os.uname().release, sys.version.split('v')[1].split(' ')[0])\x04",
				fmt.Sprintf("OK(%s, '') %s %s\r\n\x04\x04>", strings.ReplaceAll(fw.release, ".", ", "), fw.release, fw.release))
			// The rest of sys is the interpreter's own, writable where it is.
			c.exchange("sys.path.append('/x')\nprint(sys.path[-1], sys.platform, sys.implementation.name)\x04", "OK/x webassembly micropython\r\n\x04\x04>")
			c.send(websocket.BinaryMessage, transferRecord(xferGetVer, 0, ""))
			if got := c.expectBinary(); string(got) != fw.getVer {
				t.Errorf("GET_VER answered %x, want %x", got, fw.getVer)
			}
		})
	}
}

func TestUnknownFirmwareRefused(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"1.26", "2.0", "latest"} {
		if _, err := Start(t.Context(), Options{Firmware: name}); err == nil || !strings.Contains(err.Error(), "unknown firmware") {
			t.Errorf("Firmware %q: err = %v, want unknown firmware", name, err)
		}
	}
}

// A burst far beyond the 259-byte ring, sent to the idle raw REPL: v1.27
// sees it only at the next drain and loses what does not fit; v1.28 reads
// it from the socket while the REPL waits and loses nothing.
func TestESP32IdleBurstByFirmware(t *testing.T) {
	t.Parallel()
	code, want := program2K()
	for _, fw := range []string{"1.27", "1.28"} {
		t.Run(fw, func(t *testing.T) {
			t.Parallel()
			opts := realOptions("esp32")
			opts.Firmware = fw
			b, c := startReal(t, opts)
			c.enterRaw()
			c.sendText(code)
			if fw == "1.27" {
				waitFor(t, "bytes to be dropped", func() bool { return b.DroppedBytes() > 0 })
			}
			c.sendText("\x04") // on its own: a dropped end would leave the REPL waiting
			out := c.expectText("\x04>")
			switch fw {
			case "1.27":
				if b.DroppedBytes() == 0 || strings.Contains(out, want) {
					t.Fatalf("v1.27 ran a %d-byte burst whole (%d bytes dropped): %q", len(code), b.DroppedBytes(), out)
				}
			case "1.28":
				if d := b.DroppedBytes(); d != 0 || out != "OK"+want+"\r\n\x04\x04>" {
					t.Fatalf("v1.28: %d bytes dropped, output %q", d, out)
				}
			}
		})
	}
}

// v1.28 still drains the socket into the ring while code runs: a burst that
// arrives then overflows the ring as on v1.27.
func TestESP32v128BurstWhileRunningLoses(t *testing.T) {
	t.Parallel()
	opts := realOptions("esp32")
	opts.Firmware = "1.28"
	b, c := startReal(t, opts)
	c.enterRaw()
	// The program runs until it reads a '#' from stdin; the burst's own
	// '#' is beyond the ring, so it ends at the one sent afterwards.
	// It says how many bytes it has read so far, so that the test sends
	// that '#' only once the program has emptied the ring: sent while the
	// ring is still full (a loaded machine runs the program slowly), the
	// '#' would be dropped too and the program would wait for ever.
	c.sendText("import sys\nprint('ready')\nn = 0\nwhile sys.stdin.read(1) != '#':\n    n += 1\n    print('read', n)\nprint('kept', n)\n\x04")
	c.expectText("OKready\r\n")
	c.sendText(strings.Repeat("x", 1000) + "#")
	waitFor(t, "the ring to overflow", func() bool { return b.DroppedBytes() > 0 })
	if d := b.DroppedBytes(); d != 1001-259 {
		t.Fatalf("dropped %d bytes, want %d (all beyond the 259-byte ring)", d, 1001-259)
	}
	c.expectText("read 259\r\n")
	c.sendText("#")
	if got := c.expectText("kept 259\r\n\x04\x04>"); got != "kept 259\r\n\x04\x04>" {
		t.Fatalf("after the ring's 259 bytes the program read more: %q", got)
	}
}

// ESP8266's VM hook: Ctrl-C interrupts a loop that never calls out, once
// (one Ctrl-C, one KeyboardInterrupt, also around sleeps and input()), and
// the board neither resets nor loses the session.
func TestESP8266InterruptsTightLoop(t *testing.T) {
	t.Parallel()
	opts := realOptions("esp8266")
	opts.ResetAfter = 0 // the default 5 s: a reset here would be a failure
	b, c := startReal(t, opts)
	c.enterRaw()
	c.exchange("x = 42\x04", "OK\x04\x04>")
	c.sendText("print('spin')\nwhile True:\n    pass\n\x04")
	c.expectText("OKspin\r\n")
	c.sendText("\x03")
	out := c.expectText("\x04>")
	if !strings.HasPrefix(out, "\x04Traceback (most recent call last):\r\n") || !strings.HasSuffix(out, "KeyboardInterrupt: \r\n\x04>") {
		t.Fatalf("after Ctrl-C got %q", out)
	}
	c.sendText("try:\n    while True:\n        pass\nexcept KeyboardInterrupt:\n    print('caught')\nimport time\ntime.sleep_ms(200)\nfor i in range(20000):\n    pass\nprint('after', x)\n\x04")
	c.expectText("OK")
	c.sendText("\x03")
	c.exchange("", "caught\r\nafter 42\r\n\x04\x04>")
	c.sendText("try:\n    input('? ')\nexcept KeyboardInterrupt:\n    print('caught input')\nfor i in range(20000):\n    pass\nprint('after input')\n\x04")
	c.expectText("OK? ")
	c.sendText("\x03")
	c.exchange("", "caught input\r\nafter input\r\n\x04\x04>")
	// With Ctrl-C disarmed the program reads it as a byte; the hook stays out.
	c.sendText("import micropython, sys\nmicropython.kbd_intr(-1)\nprint('read', repr(sys.stdin.read(1)))\nfor i in range(20000):\n    pass\nprint('done')\n\x04")
	c.expectText("OK")
	c.sendText("\x03")
	c.exchange("", "read '\\x03'\r\ndone\r\n\x04\x04>")
	if soft, hard := b.Resets(); soft != 0 || hard != 0 {
		t.Fatalf("Resets = %d, %d; the ESP8266 should have stopped the loops itself", soft, hard)
	}
}
