package webrepl_test

import (
	"testing"

	"webrepl-kernel/webrepl"
)

// One normaliser serves Dial, the kernel's %connect and the command line.
func TestNormalizeURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.168.4.1":          "ws://192.168.4.1:8266/",
		"board.local:8270":     "ws://board.local:8270/",
		"[fe80::1]:8266":       "ws://[fe80::1]:8266/",
		"ws://10.0.0.2:8266/":  "ws://10.0.0.2:8266/",
		"ws://10.0.0.2:8266":   "ws://10.0.0.2:8266/",
		"ws://10.0.0.2":        "ws://10.0.0.2/",
		"wss://proxy.example/": "wss://proxy.example/",
		"ws://h:1/any/path":    "ws://h:1/any/path",
		" 10.0.0.3 ":           "ws://10.0.0.3:8266/",
		// A board on a serial port; the default 115200 baud is left out.
		"serial:///dev/ttyUSB0":             "serial:///dev/ttyUSB0",
		"serial:///dev/ttyUSB0?baud=115200": "serial:///dev/ttyUSB0",
		"serial:///dev/ttyACM0?baud=460800": "serial:///dev/ttyACM0?baud=460800",
		"SERIAL:///dev/cu.usbserial-0001":   "serial:///dev/cu.usbserial-0001",
		"/dev/ttyUSB1":                      "serial:///dev/ttyUSB1",
		"serial://COM3":                     "serial://COM3",
		"serial://COM3?baud=9600":           "serial://COM3?baud=9600",
	} {
		got, err := webrepl.NormalizeURL(in)
		if err != nil || got != want {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "  ", "http://x", "https://x:8266/", "ftp://x", "ws://", "ws:///path", "x/path",
		"user@x", "ws://user:pw@x/", "x:99999", "x:port", "x:0", "a b",
		"serial://", "serial:///", "serial:///dev/ttyUSB0?baud=fast", "serial:///dev/ttyUSB0?baud=0", "serial:///dev/ttyUSB0?parity=E",
		"serial://COM3/x"} {
		got, err := webrepl.NormalizeURL(in)
		if err == nil {
			t.Errorf("NormalizeURL(%q) = %q, want an error", in, got)
			continue
		}
		if msg := err.Error(); msg == "" || len(msg) > 200 {
			t.Errorf("NormalizeURL(%q): error %q is not one short line", in, msg)
		}
	}
}
