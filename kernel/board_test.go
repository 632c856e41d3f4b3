package kernel

import (
	"regexp"
	"strings"
	"testing"

	"webrepl-kernel/webrepl"
)

func TestBoardChangeNotices(t *testing.T) {
	t.Parallel()
	esp32 := webrepl.BoardInfo{URL: "ws://b:8266/", Port: "esp32", Machine: "ESP32 module", UniqueID: "240ac45e1a7c",
		Firmware: webrepl.Version{Major: 1, Minor: 27}, Build: "v1.27.0 on 2025-12-09", Boot: "a"}
	change := func(f func(*webrepl.BoardInfo)) webrepl.BoardInfo { b := esp32; f(&b); return b }
	rebooted := change(func(b *webrepl.BoardInfo) { b.Boot = "b" })
	for _, c := range []struct {
		name          string
		before, now   webrepl.BoardInfo
		explained     bool
		want          string // prefix, "" for silence
		mustMentionTo []string
	}{
		{"first board", webrepl.BoardInfo{}, esp32, false, "", nil},
		{"nothing changed", esp32, esp32, false, "", nil},
		{"another address", esp32, change(func(b *webrepl.BoardInfo) { b.URL, b.Boot = "ws://c:8266/", "b" }), false, "", nil},
		{"reset", esp32, rebooted, false, "The board was reset since the last cell", []string{"ws://b:8266/", "files stay"}},
		{"reset already told", esp32, rebooted, true, "", nil},
		{"replaced", esp32, change(func(b *webrepl.BoardInfo) { b.UniqueID, b.Boot = "240ac45e1a7d", "b" }), false,
			"A different board answers at ws://b:8266/", []string{"id 240ac45e1a7d", "id 240ac45e1a7c", "files may differ"}},
		{"replaced, told even after sys.exit()", esp32, change(func(b *webrepl.BoardInfo) { b.Port, b.UniqueID, b.Boot = "esp8266", "", "b" }), true,
			"A different board answers", []string{"esp8266", "esp32"}},
		{"new firmware", esp32, change(func(b *webrepl.BoardInfo) { b.Firmware.Minor, b.Build, b.Boot = 28, "v1.28.0", "b" }), false,
			"The board's firmware changed since the last cell", []string{"MicroPython 1.27.0 → MicroPython 1.28.0"}},
		{"rebuilt firmware", esp32, change(func(b *webrepl.BoardInfo) { b.Build, b.Boot = "v1.27.0-dirty", "b" }), false,
			"The board's firmware changed", []string{"v1.27.0 on 2025-12-09 → v1.27.0-dirty"}},
	} {
		got := boardChange(c.before, c.now, c.explained)
		if c.want == "" {
			if got != "" {
				t.Errorf("%s: told %q, want silence", c.name, got)
			}
			continue
		}
		if !strings.HasPrefix(got, c.want) || strings.Contains(got, "\n") {
			t.Errorf("%s: told %q, want one line starting %q", c.name, got, c.want)
		}
		for _, s := range c.mustMentionTo {
			if !strings.Contains(got, s) {
				t.Errorf("%s: %q does not mention %q", c.name, got, s)
			}
		}
	}
}

func TestDescribeBoard(t *testing.T) {
	t.Parallel()
	got := describeBoard(webrepl.BoardInfo{URL: "ws://b:8266/", Firmware: webrepl.Version{Major: 1, Minor: 28}}, "unknown", "")
	for _, want := range []string{"URL:       ws://b:8266/\n", "Firmware:  MicroPython 1.28.0\n", "Port:      unknown (the board has no os.uname())\n",
		"Unique id: unknown", "Free RAM:  unknown\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("%%board of a unix-like board lacks %q:\n%s", want, got)
		}
	}
}

func TestPasswordsAreRedacted(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"%connect ws://b:8266/ --password s3cret\nprint(1)": "%connect ws://b:8266/ --password ********\nprint(1)",
		"%connect b --password=s3cret --keep":               "%connect b --password=******** --keep",
		"%connect b\t--password   s3cret":                   "%connect b\t--password   ********",
		"print('--password s3cret')":                        "print('--password s3cret')", // not a magic: the program's own text
		"x = 1\n%connect b --password pw2":                  "x = 1\n%connect b --password ********",
	} {
		if got := redactPasswordArgs(in); got != want {
			t.Errorf("redactPasswordArgs(%q) = %q, want %q", in, got, want)
		}
	}
	var h history
	h.add(1, "%connect b --password s3cret")
	if got := h.query(historyQuery{HistAccessType: "tail", N: intp(1)}); got[0][2] != "%connect b --password ********" {
		t.Errorf("history keeps %v", got)
	}
	var s secrets
	s.add("s3cret")
	s.add("")
	if got := s.redact("login with s3cret failed; s3cret"); got != "login with ******** failed; ********" {
		t.Errorf("redact: %q", got)
	}
	e := s.redactError(hostError("ConnectionError", "s3cret"))
	if regexp.MustCompile("s3cret").MatchString(e.evalue + strings.Join(e.traceback, "")) {
		t.Errorf("redactError kept the password: %+v", e)
	}
}
