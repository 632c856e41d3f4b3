package boardsetup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"webrepl-kernel/internal/boardpy"
	"webrepl-kernel/internal/boardpy/boardpytest"
)

// TestBoardFilesCompile: each embedded file compacts and compiles under
// real MicroPython.
func TestBoardFilesCompile(t *testing.T) {
	boardpytest.FilesCompile(t, boardFiles, "py/*.py")
}

func readIn(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestConfigureUnderRealMicroPython runs py/configure.py as the board
// would, in a folder standing for its flash: webrepl_cfg.py as webrepl_setup
// writes it, boot.py keeping what it held (webrepl lines uncommented), the
// old one as boot.py.bak, setup's block once however often it runs, and
// awkward characters carried as data.
func TestConfigureUnderRealMicroPython(t *testing.T) {
	dir := t.TempDir()
	old := "import gc\n#import webrepl\n#webrepl.start()\ngc.collect()\n"
	if err := os.WriteFile(filepath.Join(dir, "boot.py"), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	pw, ssid, key := `a'b"c\`, "Café 'net'", "k\"ey\n2"
	for run := 1; run <= 2; run++ {
		out, stderr, err := boardpytest.RunIn(t, dir, string(configureProgram(pw, ssid, key)))
		if err != nil {
			t.Fatalf("run %d: %v\n%s%s", run, err, out, stderr)
		}
		boot := readIn(t, dir, "boot.py")
		if out != boot {
			t.Fatalf("run %d printed %q, wrote %q", run, out, boot)
		}
	}
	if got := readIn(t, dir, "boot.py.bak"); !strings.Contains(got, "gc.collect()") {
		t.Fatalf("boot.py.bak = %q", got)
	}
	boot := readIn(t, dir, "boot.py")
	if strings.Count(boot, "# webrepl-kernel setup {") != 1 || strings.Count(boot, "webrepl.start()") != 1 ||
		!strings.HasPrefix(boot, "import gc\nimport webrepl\nwebrepl.start()\ngc.collect()\n") {
		t.Fatalf("boot.py:\n%s", boot)
	}
	// What was written reads back as the values given.
	check := "import sys\nsys.path.insert(0, '')\nimport webrepl_cfg\nprint(webrepl_cfg.PASS == " + boardpy.Str(pw).Literal() + ")\n" +
		"src = open('boot.py').read()\ncompile(src, 'boot.py', 'exec')\n" +
		"print(repr(" + boardpy.Str(ssid).Literal() + ") in src, repr(" + boardpy.Str(key).Literal() + ") in src)\n"
	out, stderr, err := boardpytest.RunIn(t, dir, check)
	if err != nil || out != "True\nTrue True\n" {
		t.Fatalf("reading back: %q %v %s", out, err, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Fatalf("files left on the board: %v", entries)
	}

	// A board without boot.py gets one, and no backup.
	fresh := t.TempDir()
	if _, stderr, err := boardpytest.RunIn(t, fresh, string(configureProgram("abcd", "n", ""))); err != nil {
		t.Fatalf("%v %s", err, stderr)
	}
	if _, err := os.Stat(filepath.Join(fresh, "boot.py.bak")); !os.IsNotExist(err) {
		t.Fatalf("backup of a boot.py that was not there: %v", err)
	}
	if got := readIn(t, fresh, "boot.py"); !strings.Contains(got, "import webrepl\nwebrepl.start()\n") {
		t.Fatalf("fresh boot.py:\n%s", got)
	}
}

// fakeNetwork is a network module for the unix port (which has none), whose
// station ends in status `final` after two polls.
const fakeNetwork = `STA_IF = 0
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010
STAT_NO_AP_FOUND = 201
STAT_WRONG_PASSWORD = 202
STAT_HANDSHAKE_TIMEOUT = 204
import final
_polls = [0]
class WLAN:
    def __init__(self, i):
        pass
    def isconnected(self):
        return _polls[0] >= 2 and final.S == STAT_GOT_IP
    def status(self):
        _polls[0] += 1
        return STAT_CONNECTING if _polls[0] < 2 else final.S
    def ifconfig(self):
        return ('10.0.0.7', '255.255.255.0', '10.0.0.1', '10.0.0.1')
`

func TestWLANUnderRealMicroPython(t *testing.T) {
	for _, c := range []struct {
		final, ms int
		want      string
	}{
		{1010, 5000, "ok 10.0.0.7\n"},
		{202, 5000, "wrong-password\n"},
		{201, 5000, "no-ap\n"},
		{1001, 300, "timeout 1001\n"},
		{204, 5000, "handshake\n"},
		{203, 5000, "failed 203\n"},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "network.py"), []byte(fakeNetwork), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "final.py"), []byte("S = "+boardpy.Int(c.final).Literal()+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, stderr, err := boardpytest.RunIn(t, dir, "import sys\nsys.path.insert(0, '')\n"+string(wlanProgram(c.ms)))
		if err != nil || out != c.want {
			t.Errorf("status %d: %q (%v %s), want %q", c.final, out, err, stderr, c.want)
		}
	}
}

func TestJoinResultsAreOneLineSayingWhatToDo(t *testing.T) {
	cfg := Config{SSID: "Home"}
	if addr, err := joinResult("ok 192.168.1.9", cfg); err != nil || addr != "192.168.1.9" {
		t.Fatalf("ok: %q %v", addr, err)
	}
	for line, want := range map[string]string{
		"wrong-password": "wrong Wi-Fi password; run setup again with the right --wifi-key",
		"no-ap":          `found no network "Home"`,
		"timeout 1001":   "did not join",
		"failed 203":     "status 203",
		"handshake":      "handshake failed, most often a wrong password",
		"ok 0.0.0.0":     "no address",
	} {
		_, err := joinResult(line, cfg)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want one line with %q", line, err, want)
		}
	}
}
