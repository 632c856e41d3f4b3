//go:build linux

package main

// End-to-end tests of `webrepl-kernel setup`: the real binary against the
// simulated board's serial console (sim.Options.Serial, `sim --serial`), a
// board that boots like a fresh ESP32, with WebREPL off until set up, on a
// simulated Wi-Fi network.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"webrepl-kernel/boardsetup"
	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
	"webrepl-kernel/webrepl"
)

const setupOldBoot = "# This file is executed on every boot\nprint('my boot')\n#import webrepl\n#webrepl.start()\n"

// startFreshSimBoard boots a fresh board whose console is a pseudo-terminal
// (a symlink in a temporary folder) on the network Home / hunter22.
func startFreshSimBoard(t *testing.T, flash string) (*sim.Board, string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(flash, "boot.py"), []byte(setupOldBoot), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "ttyUSB0")
	board := simtest.Start(t, sim.Options{Profile: "esp32", DrainPeriod: 20 * time.Millisecond, FlashDir: flash,
		Serial: true, SerialLink: link, WiFi: &sim.WiFi{SSID: "Home", Key: "hunter22"}})
	if board.SerialPath() != link {
		t.Fatalf("SerialPath() = %q, want the symlink %q", board.SerialPath(), link)
	}
	return board, link
}

func webreplPort(t *testing.T, board *sim.Board) string {
	t.Helper()
	u, err := url.Parse(board.URL())
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

func readFlash(t *testing.T, flash, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(flash, name))
	if err != nil {
		t.Fatalf("the board's %s: %v", name, err)
	}
	return string(data)
}

func TestSetupFromAFreshBoardToAFirstCellOverWebREPL(t *testing.T) {
	flash := t.TempDir()
	board, port := startFreshSimBoard(t, flash)
	data := t.TempDir()
	env := []string{"JUPYTER_DATA_DIR=" + data}
	setupArgs := func(ssid string) []string {
		return []string{"setup", "--port", port, "--wifi-ssid", ssid, "--webrepl-port", webreplPort(t, board),
			"--name", "my-board", "--display-name", "My board"}
	}

	// A fresh board: WebREPL is off.
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if s, err := webrepl.Dial(ctx, board.URL(), webrepl.Options{Password: "abcd1", ConnectTimeout: time.Second}); err == nil {
		s.Close()
		t.Fatal("WebREPL answered on a board that was never set up")
	}

	// The wrong Wi-Fi key: one line naming it, no kernelspec; the old
	// boot.py kept as boot.py.bak.
	res := runCLI(t, env, []byte("abcd1\nwrong\n"), setupArgs("Home")...)
	expectExit(t, res, 1)
	if !strings.Contains(res.stderr, `could not join "Home": wrong Wi-Fi password`) || strings.Count(strings.TrimSpace(res.stderr), "webrepl-kernel setup:") != 1 {
		t.Fatalf("wrong key: stderr %q", res.stderr)
	}
	if got := readFlash(t, flash, "boot.py.bak"); got != setupOldBoot {
		t.Fatalf("boot.py.bak = %q, want the old boot.py %q", got, setupOldBoot)
	}
	if _, err := os.Stat(filepath.Join(data, "kernels", "my-board")); !os.IsNotExist(err) {
		t.Fatalf("a kernelspec was installed after a failed setup: %v", err)
	}

	// A network that is not there.
	res = runCLI(t, env, []byte("abcd1\nhunter22\n"), setupArgs("Elsewhere")...)
	expectExit(t, res, 1)
	if !strings.Contains(res.stderr, `found no network "Elsewhere"`) {
		t.Fatalf("unknown network: stderr %q", res.stderr)
	}

	// The right one.
	res = runCLI(t, env, []byte("abcd1\nhunter22\n"), setupArgs("Home")...)
	expectExit(t, res, 0)
	wantURL := "ws://127.0.0.1:" + webreplPort(t, board) + "/"
	if !strings.Contains(res.stdout, wantURL) {
		t.Fatalf("setup did not report the board's address %s: %q", wantURL, res.stdout)
	}
	if got := readFlash(t, flash, "webrepl_cfg.py"); got != "PASS = 'abcd1'\n" {
		t.Fatalf("webrepl_cfg.py = %q", got)
	}
	boot := readFlash(t, flash, "boot.py")
	for _, want := range []string{"print('my boot')\n", "\nimport webrepl\nwebrepl.start()\n", "connect('Home', 'hunter22')"} {
		if strings.Count(boot, want) != 1 {
			t.Fatalf("boot.py should hold %q once:\n%s", want, boot)
		}
	}
	if strings.Count(boot, "# webrepl-kernel setup {") != 1 {
		t.Fatalf("setup's block is in boot.py more than once after three runs:\n%s", boot)
	}
	raw, err := os.ReadFile(filepath.Join(data, "kernels", "my-board", "kernel.json"))
	if err != nil {
		t.Fatalf("kernelspec: %v", err)
	}
	var spec struct {
		DisplayName string            `json:"display_name"`
		Env         map[string]string `json:"env"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	if spec.DisplayName != "My board" || spec.Env["WEBREPL_URL"] != wantURL || spec.Env["WEBREPL_PASSWORD"] != "abcd1" {
		t.Fatalf("kernel.json: %s", raw)
	}

	// A first cell over WebREPL, with what the kernelspec says.
	res = runCLI(t, nil, []byte("print(6 * 7)\n"), "exec", "--url", spec.Env["WEBREPL_URL"], "--password", spec.Env["WEBREPL_PASSWORD"], "-")
	expectExit(t, res, 0)
	if res.stdout != "42\n" {
		t.Fatalf("first cell over WebREPL printed %q", res.stdout)
	}
}

// lineWatcher signals when a line containing want has been written.
type lineWatcher struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

// TestSetupCablePulledWhileWritingBootPy kills setup (its end of the cable)
// as it starts sending the new boot.py: the board's boot.py is then the old
// one or the new one, never part of either, and setup run again completes.
func TestSetupCablePulledWhileWritingBootPy(t *testing.T) {
	flash := t.TempDir()
	board, port := startFreshSimBoard(t, flash)
	data := t.TempDir()
	args := []string{"setup", "--port", port, "--wifi-ssid", "Home", "--wifi-key", "hunter22", "--password", "abcd1",
		"--webrepl-port", webreplPort(t, board)}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cmd := cliCommand(ctx, []string{"JUPYTER_DATA_DIR=" + data}, args...)
	stderr := &lineWatcher{want: "adding Wi-Fi network", seen: make(chan struct{})}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-stderr.seen:
		_ = cmd.Process.Kill()
	case err := <-done:
		t.Fatalf("setup ended before writing boot.py: %v\n%s", err, stderr.buf.String())
	case <-ctx.Done():
		t.Fatalf("setup did not reach the boot.py step\n%s", stderr.buf.String())
	}
	<-done

	// Ask the board itself (the flash folder mirrors it) what boot.py is.
	var out bytes.Buffer
	s, err := webrepl.Dial(ctx, "serial://"+port, webrepl.Options{})
	if err != nil {
		t.Fatalf("the board after the cable was pulled: %v", err)
	}
	if _, err := s.Exec(ctx, []byte("print(open('boot.py').read(), end='')"), &out); err != nil {
		t.Fatal(err)
	}
	s.Close()
	boot := out.String()
	wantNew := "# This file is executed on every boot\nprint('my boot')\nimport webrepl\nwebrepl.start()\n" +
		"# webrepl-kernel setup {\nimport network\nnetwork.WLAN(network.STA_IF).active(True)\n" +
		"network.WLAN(network.STA_IF).connect('Home', 'hunter22')\n# webrepl-kernel setup }\n"
	if boot != setupOldBoot && boot != wantNew {
		t.Fatalf("after the cable was pulled boot.py is neither the old nor the new one:\n%q", boot)
	}
	t.Logf("boot.py after the cable was pulled: %s", map[bool]string{true: "the old one", false: "the new one"}[boot == setupOldBoot])

	res := runCLI(t, []string{"JUPYTER_DATA_DIR=" + data}, nil, args...)
	expectExit(t, res, 0)
	if got := readFlash(t, flash, "boot.py"); got != wantNew {
		t.Fatalf("boot.py after setup ran again:\n%q\nwant\n%q", got, wantNew)
	}
}

// TestSimSerialCommand: `sim --serial PATH` makes PATH the board's console,
// where the board answers with WebREPL off.
func TestSimSerialCommand(t *testing.T) {
	link := filepath.Join(t.TempDir(), "tty")
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	cmd := cliCommand(ctx, nil, "sim", "--addr", "127.0.0.1:0", "--serial", link, "--wifi", "Home:hunter22")
	out := &lineWatcher{want: "serial console at " + link, seen: make(chan struct{})}
	cmd.Stdout = out
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	select {
	case <-out.seen:
	case <-exited:
		t.Fatalf("sim --serial exited: %s", stderr.String())
	case <-ctx.Done():
		t.Fatalf("sim --serial did not announce its port: %q %s", out.buf.String(), stderr.String())
	}
	prog := "import network\nw = network.WLAN(network.STA_IF)\nw.active(True)\nw.connect('Home', 'nope')\nprint(w.status() == network.STAT_WRONG_PASSWORD)\n"
	res := runCLI(t, nil, []byte(prog), "exec", "--url", "serial://"+link, "-")
	expectExit(t, res, 0)
	if res.stdout != "True\n" {
		t.Fatalf("over sim --serial: %q %q", res.stdout, res.stderr)
	}
	res = runCLI(t, nil, nil, "sim", "--serial", link, "--password", "x")
	expectExit(t, res, 2)
}

// Without --port on a machine with no USB serial port: one line saying
// what to do; a bad password is a usage error.
func TestSetupWithoutABoard(t *testing.T) {
	if ports, _ := boardsetup.Ports(); len(ports) > 0 {
		t.Skipf("this machine has USB serial ports (%v)", ports)
	}
	res := runCLI(t, nil, nil, "setup", "--wifi-ssid", "Home", "--wifi-key", "k", "--password", "abcd1")
	expectExit(t, res, 1)
	if !strings.HasPrefix(res.stderr, "webrepl-kernel setup: no board found on USB serial: plug it in") || strings.Count(res.stderr, "\n") != 1 {
		t.Fatalf("stderr %q", res.stderr)
	}
	res = runCLI(t, nil, nil, "setup", "--wifi-ssid", "Home", "--wifi-key", "k", "--password", "abc")
	expectExit(t, res, 2)
	if !strings.Contains(res.stderr, "4 to 9 characters") {
		t.Fatalf("stderr %q", res.stderr)
	}
	res = runCLI(t, nil, nil, "setup", "--list")
	expectExit(t, res, 0)
	if res.stdout != "no USB serial ports found\n" {
		t.Fatalf("--list: %q", res.stdout)
	}
}
