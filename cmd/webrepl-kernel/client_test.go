//go:build linux

package main

// End-to-end tests of exec, put, get, ls and repl: the real binary (this
// test binary re-executed as main) against a simulated board.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
	"webrepl-kernel/webrepl"
)

// runMainEnv makes the re-executed test binary behave as webrepl-kernel.
const runMainEnv = "WEBREPL_KERNEL_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	if os.Getenv("WEBREPL_SIM_MODULES") == "" {
		if _, file, _, ok := runtime.Caller(0); ok {
			os.Setenv("WEBREPL_SIM_MODULES", filepath.Join(filepath.Dir(file), "..", "..", "sim", "board", "node_modules"))
		}
	}
	// A hand-over folder of this run's own, inherited by every command the
	// tests start (tests that need one per command pass XDG_RUNTIME_DIR).
	runtimeDir, err := os.MkdirTemp("", "cli-test-runtime-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_RUNTIME_DIR", runtimeDir)
	code := m.Run()
	os.RemoveAll(runtimeDir)
	os.Exit(code)
}

// testTimeout bounds each step; generous, the machine may be busy.
const testTimeout = 2 * time.Minute

// startBoard boots the simulated esp32 board the CLI tests run against.
func startBoard(t *testing.T, flash string) *sim.Board {
	t.Helper()
	return simtest.Start(t, sim.Options{Profile: "esp32", DrainPeriod: 20 * time.Millisecond, FlashDir: flash})
}

type cliResult struct {
	stdout, stderr string
	code           int
}

// cliCommand prepares the binary with a clean environment (no WEBREPL_*
// from the caller's shell) plus env, in a new session without a controlling
// terminal, so a password prompt can never wait for a person.
func cliCommand(ctx context.Context, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WEBREPL_URL=") && !strings.HasPrefix(kv, "WEBREPL_PASSWORD=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, runMainEnv+"=1")
	cmd.Env = append(cmd.Env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd
}

func runCLI(t *testing.T, env []string, stdin []byte, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cmd := cliCommand(ctx, env, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	res := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		res.code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("running webrepl-kernel %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// boardArgs are the connection flags for board.
func boardArgs(board *sim.Board) []string {
	return []string{"--url", board.URL(), "--password", board.Password()}
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func expectExit(t *testing.T, res cliResult, code int) {
	t.Helper()
	if res.code != code {
		t.Fatalf("exit status %d, want %d\nstdout: %q\nstderr: %q", res.code, code, res.stdout, res.stderr)
	}
}

func TestExecFileStreamsOutput(t *testing.T) {
	t.Parallel()
	board := startBoard(t, "")
	prog := writeFile(t, "prog.py", []byte("for i in range(3):\n    print('line', i * 7)\n"))
	res := runCLI(t, nil, nil, append([]string{"exec", prog}, boardArgs(board)...)...)
	expectExit(t, res, 0)
	if res.stdout != "line 0\nline 7\nline 14\n" || res.stderr != "" {
		t.Errorf("stdout %q, stderr %q", res.stdout, res.stderr)
	}
}

func TestExecFromStdinWithEnvironmentDefaults(t *testing.T) {
	t.Parallel()
	board := startBoard(t, "")
	env := []string{"WEBREPL_URL=" + board.URL(), "WEBREPL_PASSWORD=" + board.Password()}
	res := runCLI(t, env, []byte("import sys\nprint(6 * 7)\nprint(sys.platform != '')\n"), "exec", "-")
	expectExit(t, res, 0)
	if res.stdout != "42\nTrue\n" || res.stderr != "" {
		t.Errorf("stdout %q, stderr %q", res.stdout, res.stderr)
	}
}

func TestExecRaisingProgramExitsOneWithTraceback(t *testing.T) {
	t.Parallel()
	board := startBoard(t, "")
	prog := writeFile(t, "boom.py", []byte("print('before')\nx = 1 / 0\nprint('after')\n"))
	res := runCLI(t, nil, nil, append([]string{"exec", prog}, boardArgs(board)...)...)
	expectExit(t, res, 1)
	if res.stdout != "before\n" {
		t.Errorf("stdout %q, want only the output before the error", res.stdout)
	}
	if !strings.HasPrefix(res.stderr, "Traceback (most recent call last):\n") ||
		!strings.Contains(res.stderr, "line 2") ||
		!strings.HasSuffix(res.stderr, "ZeroDivisionError: divide by zero\n") {
		t.Errorf("stderr is not the board's traceback: %q", res.stderr)
	}
}

func TestExecSysExitIsANormalEnd(t *testing.T) {
	t.Parallel()
	board := startBoard(t, "")
	res := runCLI(t, nil, []byte("print('bye')\nimport sys\nsys.exit()\nprint('not reached')\n"), append([]string{"exec", "-"}, boardArgs(board)...)...)
	expectExit(t, res, 0)
	if res.stdout != "bye\n" || res.stderr != "" {
		t.Errorf("stdout %q, stderr %q", res.stdout, res.stderr)
	}
}

// TestConnectionFailuresAreDistinctOneLiners checks that each way of
// failing to connect exits 1 with its own single-line message.
func TestConnectionFailuresAreDistinctOneLiners(t *testing.T) {
	t.Parallel()
	board := startBoard(t, "")
	prog := writeFile(t, "p.py", []byte("print(1)\n"))

	closedPort := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "ws://" + addr + "/"
	}()
	notWebREPL := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "just a web page\n")
	}))
	defer notWebREPL.Close()

	cases := []struct{ name, url, password string }{
		{"wrong password", board.URL(), "nottheone"},
		{"unreachable", closedPort, "secret"},
		{"not a WebREPL", "ws" + strings.TrimPrefix(notWebREPL.URL, "http") + "/", "secret"},
	}
	messages := map[string]string{}
	for _, c := range cases {
		res := runCLI(t, nil, nil, "exec", prog, "--url", c.url, "--password", c.password)
		expectExit(t, res, 1)
		msg := strings.TrimSuffix(res.stderr, "\n")
		if msg == "" || strings.Contains(msg, "\n") || res.stdout != "" {
			t.Errorf("%s: want one line on stderr and nothing on stdout, got stderr %q stdout %q", c.name, res.stderr, res.stdout)
		}
		if !strings.Contains(msg, c.url) {
			t.Errorf("%s: message does not name the board: %q", c.name, msg)
		}
		// The part after the URL is what tells the cases apart.
		cause := msg[strings.Index(msg, c.url)+len(c.url):]
		for other, otherCause := range messages {
			if otherCause == cause {
				t.Errorf("%s and %s give the same message: %q", c.name, other, cause)
			}
		}
		messages[c.name] = cause
	}
	if !strings.Contains(strings.ToLower(messages["wrong password"]), "password") {
		t.Errorf("wrong password message does not say so: %q", messages["wrong password"])
	}

	// The board still works with the right password afterwards.
	res := runCLI(t, nil, nil, append([]string{"exec", prog}, boardArgs(board)...)...)
	expectExit(t, res, 0)
}

func TestExecWhileAnotherClientIsConnected(t *testing.T) {
	t.Parallel()
	board := startBoard(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	holder, err := webrepl.Dial(ctx, board.URL(), webrepl.Options{Password: board.Password()})
	if err != nil {
		t.Fatalf("first client: %v", err)
	}
	defer holder.Close()
	res := runCLI(t, nil, []byte("print(1)\n"), append([]string{"exec", "-"}, boardArgs(board)...)...)
	expectExit(t, res, 1)
	msg := strings.TrimSuffix(res.stderr, "\n")
	if !strings.Contains(msg, board.URL()) || strings.Contains(msg, "\n") || strings.Contains(strings.ToLower(msg), "password") {
		t.Errorf("want one line naming the board, not blaming the password; got %q", res.stderr)
	}
}

func TestPasswordIsRequired(t *testing.T) {
	t.Parallel()
	board := startBoard(t, "")
	res := runCLI(t, nil, []byte("print(1)\n"), "exec", "-", "--url", board.URL())
	expectExit(t, res, 1)
	if !strings.Contains(res.stderr, "WEBREPL_PASSWORD") || strings.Count(res.stderr, "\n") != 1 {
		t.Errorf("stderr %q, want one line pointing at --password / WEBREPL_PASSWORD", res.stderr)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"exec"},
		{"exec", "a.py", "b.py"},
		{"put"},
		{"get", "a", "b", "c"},
		{"ls", "a", "b"},
		{"repl", "extra"},
		{"exec", "--no-such-flag", "a.py"},
	} {
		res := runCLI(t, nil, nil, args...)
		if res.code != 2 || !strings.Contains(res.stderr, "usage: webrepl-kernel "+args[0]) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and the usage", args, res.code, res.stderr)
		}
	}
}

func TestPutGetRoundTripOfBinaryFile(t *testing.T) {
	t.Parallel()
	flash := t.TempDir()
	board := startBoard(t, flash)
	data := make([]byte, 6000)
	for i := range 256 {
		data[i] = byte(i) // every byte value, including NUL, CR, LF, 0x04
	}
	rand.Read(data[256:])
	local := writeFile(t, "blob.bin", data)

	res := runCLI(t, nil, nil, append([]string{"put", local}, boardArgs(board)...)...)
	expectExit(t, res, 0)
	if res.stdout != "" || res.stderr != "" {
		t.Errorf("put printed stdout %q, stderr %q; want silence when stderr is not a terminal", res.stdout, res.stderr)
	}
	if onFlash, err := os.ReadFile(filepath.Join(flash, "blob.bin")); err != nil || !bytes.Equal(onFlash, data) {
		t.Fatalf("board flash holds %d bytes (err %v), want the %d put", len(onFlash), err, len(data))
	}

	back := filepath.Join(t.TempDir(), "back.bin")
	res = runCLI(t, nil, nil, append([]string{"get", "blob.bin", back}, boardArgs(board)...)...)
	expectExit(t, res, 0)
	if res.stdout != "" || res.stderr != "" {
		t.Errorf("get printed stdout %q, stderr %q; want silence when stderr is not a terminal", res.stdout, res.stderr)
	}
	if got, err := os.ReadFile(back); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get gave %d bytes (err %v), want the %d put", len(got), err, len(data))
	}

	// A program on the board sees the file too.
	res = runCLI(t, nil, []byte("import os\nprint(os.stat('blob.bin')[6])\n"), append([]string{"exec", "-"}, boardArgs(board)...)...)
	expectExit(t, res, 0)
	if res.stdout != fmt.Sprintf("%d\n", len(data)) {
		t.Errorf("board reports size %q, want %d", res.stdout, len(data))
	}

	// get to stdout, and put into a folder named with a trailing slash.
	res = runCLI(t, nil, nil, append([]string{"get", "blob.bin", "-"}, boardArgs(board)...)...)
	expectExit(t, res, 0)
	if res.stdout != string(data) {
		t.Errorf("get to stdout gave %d bytes, want %d", len(res.stdout), len(data))
	}
	if err := os.Mkdir(filepath.Join(flash, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	res = runCLI(t, nil, nil, append([]string{"put", local, "lib/"}, boardArgs(board)...)...)
	expectExit(t, res, 0)
	if onFlash, err := os.ReadFile(filepath.Join(flash, "lib", "blob.bin")); err != nil || !bytes.Equal(onFlash, data) {
		t.Errorf("lib/blob.bin on the flash: %d bytes, err %v", len(onFlash), err)
	}
}

func TestGetOfMissingFileFailsWithoutTouchingLocal(t *testing.T) {
	t.Parallel()
	board := startBoard(t, "")
	local := writeFile(t, "keep.txt", []byte("precious"))
	res := runCLI(t, nil, nil, append([]string{"get", "no_such_file.py", local}, boardArgs(board)...)...)
	expectExit(t, res, 1)
	if strings.Count(res.stderr, "\n") != 1 || !strings.Contains(res.stderr, "no_such_file.py") {
		t.Errorf("stderr %q, want one line naming the file", res.stderr)
	}
	if got, _ := os.ReadFile(local); string(got) != "precious" {
		t.Errorf("local file changed to %q", got)
	}
}

func TestLsListsFilesAndFolders(t *testing.T) {
	t.Parallel()
	flash := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(flash, "data", "logs"), 0o755))
	must(os.WriteFile(filepath.Join(flash, "data", "a.csv"), []byte("1,2,3\n"), 0o644))
	must(os.WriteFile(filepath.Join(flash, "data", "b.bin"), make([]byte, 1234), 0o644))
	board := startBoard(t, flash)

	res := runCLI(t, nil, nil, append([]string{"ls", "data"}, boardArgs(board)...)...)
	expectExit(t, res, 0)
	want := []string{
		fmt.Sprintf("%9d  %s", 6, "a.csv"),
		fmt.Sprintf("%9d  %s", 1234, "b.bin"),
		fmt.Sprintf("%9s  %s", "<dir>", "logs/"),
	}
	got := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ls data:\n%s\nwant:\n%s", res.stdout, strings.Join(want, "\n"))
	}

	res = runCLI(t, nil, nil, append([]string{"ls"}, boardArgs(board)...)...)
	expectExit(t, res, 0)
	if !strings.Contains(res.stdout, fmt.Sprintf("%9s  %s\n", "<dir>", "data/")) {
		t.Errorf("ls of the root does not show data/:\n%s", res.stdout)
	}

	res = runCLI(t, nil, nil, append([]string{"ls", "nowhere"}, boardArgs(board)...)...)
	expectExit(t, res, 1)
	if strings.Count(res.stderr, "\n") != 1 || !strings.Contains(res.stderr, "nowhere") {
		t.Errorf("ls of a missing folder: stderr %q, want one line naming it", res.stderr)
	}
}

// pty is the controller side of a pseudo-terminal whose output is
// collected for waitFor.
type pty struct {
	master, slave *os.File
	mu            sync.Mutex
	seen          []byte
	changed       chan struct{} // closed and replaced whenever seen grows
	readerDone    chan struct{}
}

func openPty(t *testing.T) *pty {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	var number uint32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		t.Fatalf("unlocking the pty: %v", errno)
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&number))); errno != 0 {
		t.Fatalf("numbering the pty: %v", errno)
	}
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", number), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening the pty: %v", err)
	}
	p := &pty{master: master, slave: slave, changed: make(chan struct{}), readerDone: make(chan struct{})}
	go func() {
		defer close(p.readerDone)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			p.mu.Lock()
			p.seen = append(p.seen, buf[:n]...)
			close(p.changed)
			p.changed = make(chan struct{})
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		slave.Close()
		master.Close()
		<-p.readerDone
	})
	return p
}

// waitFor waits until the terminal has shown want after position from and
// returns the position just past it.
func (p *pty) waitFor(t *testing.T, from int, want string) int {
	t.Helper()
	deadline := time.NewTimer(testTimeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		if i := bytes.Index(p.seen[from:], []byte(want)); i >= 0 {
			p.mu.Unlock()
			return from + i + len(want)
		}
		changed := p.changed
		p.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			p.mu.Lock()
			defer p.mu.Unlock()
			t.Fatalf("terminal never showed %q; it shows %q", want, p.seen[from:])
		}
	}
}

func (p *pty) typeKeys(t *testing.T, keys string) {
	t.Helper()
	if _, err := p.master.Write([]byte(keys)); err != nil {
		t.Fatalf("typing %q: %v", keys, err)
	}
}

// startRepl runs `repl` on the pty as its controlling terminal.
func startRepl(t *testing.T, board *sim.Board, p *pty) (wait func() error) {
	t.Helper()
	_, wait = startReplCmd(t, board, p)
	return wait
}

func startReplCmd(t *testing.T, board *sim.Board, p *pty) (*exec.Cmd, func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	cmd := cliCommand(ctx, nil, append([]string{"repl"}, boardArgs(board)...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p.slave, p.slave, p.slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting repl: %v", err)
	}
	var once sync.Once
	var waitErr error
	wait := func() error {
		once.Do(func() {
			waitErr = cmd.Wait()
			cancel()
		})
		return waitErr
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) // a no-op if it has already exited
		wait()
	})
	return cmd, wait
}

func terminalModes(t *testing.T, f *os.File) unix.Termios {
	t.Helper()
	modes, err := getTermios(f.Fd())
	if err != nil {
		t.Fatalf("reading terminal modes: %v", err)
	}
	return modes
}

func expectModesRestored(t *testing.T, before, after unix.Termios) {
	t.Helper()
	if before.Lflag != after.Lflag || before.Iflag != after.Iflag || before.Oflag != after.Oflag || before.Cflag != after.Cflag {
		t.Errorf("terminal modes not restored: before %+v, after %+v", before, after)
	}
	if before.Lflag&syscall.ECHO == 0 || before.Lflag&syscall.ICANON == 0 {
		t.Errorf("test pty did not start in cooked mode (%#x), so restoring proves nothing", before.Lflag)
	}
}

func TestReplEvaluatesTypedLineAndQuitsOnCtrlBracket(t *testing.T) {
	t.Parallel()
	board := startBoard(t, "")
	p := openPty(t)
	before := terminalModes(t, p.slave)
	wait := startRepl(t, board, p)

	pos := p.waitFor(t, 0, "Ctrl-] quits")
	pos = p.waitFor(t, pos, ">>> ")
	p.typeKeys(t, "1+2\r")
	pos = p.waitFor(t, pos, "1+2\r\n3\r\n>>> ")
	p.typeKeys(t, "\x1d")
	if err := wait(); err != nil {
		t.Fatalf("repl after Ctrl-]: %v (want exit status 0); terminal showed %q", err, p.seen)
	}
	expectModesRestored(t, before, terminalModes(t, p.slave))
}

// TestReplSendsKeysTypedJustBeforeCtrlBracket: a line typed and Ctrl-] in
// the same burst still reaches the board before the connection closes.
func TestReplSendsKeysTypedJustBeforeCtrlBracket(t *testing.T) {
	t.Parallel()
	board := startBoard(t, "")
	p := openPty(t)
	wait := startRepl(t, board, p)

	p.waitFor(t, 0, ">>> ")
	// Longer than one console chunk, so it is still being paced out at Ctrl-].
	p.typeKeys(t, "kept = len('"+strings.Repeat("k", 300)+"')\r\x1d")
	if err := wait(); err != nil {
		t.Fatalf("repl after Ctrl-]: %v (want exit status 0); terminal showed %q", err, p.seen)
	}
	res := runCLI(t, nil, []byte("print(kept)\n"), append([]string{"exec", "-"}, boardArgs(board)...)...)
	expectExit(t, res, 0)
	if res.stdout != "300\n" {
		t.Errorf("the line typed before Ctrl-] did not run on the board: exec printed %q, stderr %q", res.stdout, res.stderr)
	}
}

func TestReplRestoresTerminalWhenTerminated(t *testing.T) {
	t.Parallel()
	board := startBoard(t, "")
	p := openPty(t)
	before := terminalModes(t, p.slave)
	cmd, wait := startReplCmd(t, board, p)

	pos := p.waitFor(t, 0, ">>> ")
	p.typeKeys(t, "while True:\r") // half a statement: the board waits for more
	p.waitFor(t, pos, "... ")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatalf("repl after SIGTERM: %v (want exit status 0)", err)
	}
	expectModesRestored(t, before, terminalModes(t, p.slave))
}

func TestReplSurvivesSoftReset(t *testing.T) {
	t.Parallel()
	board := startBoard(t, "")
	p := openPty(t)
	wait := startRepl(t, board, p)

	pos := p.waitFor(t, 0, ">>> ")
	p.typeKeys(t, "x = 5\r")
	pos = p.waitFor(t, pos, ">>> ")
	p.typeKeys(t, "\x04") // Ctrl-D at an empty friendly prompt: soft reset, the board drops the link
	pos = p.waitFor(t, pos, "[reconnected]")
	pos = p.waitFor(t, pos, ">>> ")
	p.typeKeys(t, "x\r") // RAM was lost with the reset
	pos = p.waitFor(t, pos, "NameError")
	pos = p.waitFor(t, pos, ">>> ")
	p.typeKeys(t, "6*7\r")
	p.waitFor(t, pos, "42\r\n")
	p.typeKeys(t, "\x1d")
	if err := wait(); err != nil {
		t.Fatalf("repl after Ctrl-]: %v (want exit status 0)", err)
	}
	if soft, _ := board.Resets(); soft != 1 {
		t.Errorf("board saw %d soft resets, want 1", soft)
	}
}

// TestExecStreamsOutputAndInterruptsOnSIGINT shows output arriving while
// the program still runs, and Ctrl-C at the shell stopping the program on
// the board (KeyboardInterrupt, exit status 1) rather than just the client.
func TestExecStreamsOutputAndInterruptsOnSIGINT(t *testing.T) {
	t.Parallel()
	board := startBoard(t, "")
	prog := writeFile(t, "forever.py", []byte("import time\nprint('started')\nwhile True:\n    time.sleep_ms(10)\n"))
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cmd := cliCommand(ctx, nil, append([]string{"exec", prog}, boardArgs(board)...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := make([]byte, len("started\n"))
	if _, err := io.ReadFull(stdout, first); err != nil || string(first) != "started\n" {
		t.Fatalf("first output %q (%v), want started", first, err)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stdout)
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Fatalf("exit after SIGINT: %v, want status 1; stderr %q", err, stderr.String())
	}
	if len(rest) != 0 || !strings.HasSuffix(stderr.String(), "KeyboardInterrupt: \n") {
		t.Errorf("more stdout %q; stderr %q, want the KeyboardInterrupt traceback", rest, stderr.String())
	}
	// The board is at its prompt again, free for the next client.
	res := runCLI(t, nil, []byte("print('free')\n"), append([]string{"exec", "-"}, boardArgs(board)...)...)
	expectExit(t, res, 0)
}

// TestExecSecondSIGINTQuitsAtOnce: when the board does not obey Ctrl-C (a
// loop that never sleeps, docs/protocol/webrepl.md §3.5), a second Ctrl-C at the
// shell quits with status 130 instead of waiting out the grace periods.
func TestExecSecondSIGINTQuitsAtOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	// No reset while the test runs: that would end exec by itself.
	board, err := sim.Start(ctx, sim.Options{Profile: "esp32", DrainPeriod: 20 * time.Millisecond, ResetAfter: testTimeout})
	if err != nil {
		t.Fatalf("starting the simulated board: %v", err)
	}
	t.Cleanup(func() { board.Close() })
	prog := writeFile(t, "stubborn.py", []byte("print('started')\nwhile True:\n    pass\n"))
	cmd := cliCommand(ctx, nil, append([]string{"exec", prog}, boardArgs(board)...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "started\n" {
		t.Fatalf("first output %q (%v), want started", line, err)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	// Signals are not queued: wait until the first one has been taken.
	stderr := bufio.NewReader(stderrPipe)
	if line, err := stderr.ReadString('\n'); err != nil || !strings.Contains(line, "Ctrl-C again quits") {
		t.Fatalf("stderr after the first SIGINT: %q (%v), want the note on quitting", line, err)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stderr)
	io.Copy(io.Discard, stdout)
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 130 {
		t.Fatalf("exit after the second SIGINT: %v, want status 130; stderr %q", err, rest)
	}
}

func TestPutShowsProgressOnATerminal(t *testing.T) {
	t.Parallel()
	board := startBoard(t, "")
	p := openPty(t)
	local := writeFile(t, "big.bin", make([]byte, 20000))
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cmd := cliCommand(ctx, nil, append([]string{"put", local}, boardArgs(board)...)...)
	cmd.Stderr = p.slave
	if err := cmd.Run(); err != nil {
		t.Fatalf("put: %v", err)
	}
	p.waitFor(t, 0, "put big.bin: 100% (20000/20000 bytes)\r\n")
}

func TestPasswordPromptDoesNotEcho(t *testing.T) {
	t.Parallel()
	board := startBoard(t, "")
	p := openPty(t)
	prog := writeFile(t, "p.py", []byte("print('logged in')\n"))
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cmd := cliCommand(ctx, nil, "exec", prog, "--url", board.URL())
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p.slave, &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pos := p.waitFor(t, 0, "Password for "+board.URL()+": ")
	// Wait until echo is off before typing; the line discipline echoes
	// whatever arrives earlier.
	for deadline := time.Now().Add(testTimeout); ; {
		if modes := terminalModes(t, p.slave); modes.Lflag&syscall.ECHO == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("echo was never switched off for the password")
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.typeKeys(t, board.Password()+"\n")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exec with a typed password: %v; stderr %q", err, stderr.String())
	}
	if stdout.String() != "logged in\n" {
		t.Errorf("stdout %q", stdout.String())
	}
	p.mu.Lock()
	shown := string(p.seen[pos:])
	p.mu.Unlock()
	if strings.Contains(shown, board.Password()) {
		t.Errorf("the password was echoed: terminal shows %q after the prompt", shown)
	}
	if modes := terminalModes(t, p.slave); modes.Lflag&syscall.ECHO == 0 {
		t.Error("echo was left off after the prompt")
	}
}

// TestReplPasteArrivesWhole pastes a long line into the friendly REPL of an
// ESP32 with its real 80 ms input drain, where an unpaced burst overflows
// the 259-byte input ring (docs/protocol/webrepl.md §5.1).
func TestReplPasteArrivesWhole(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	board, err := sim.Start(ctx, sim.Options{Profile: "esp32", Firmware: "1.27", DrainPeriod: 80 * time.Millisecond})
	if err != nil {
		t.Fatalf("starting the simulated board: %v", err)
	}
	defer board.Close()
	p := openPty(t)
	wait := startRepl(t, board, p)

	pos := p.waitFor(t, 0, ">>> ")
	var paste strings.Builder
	for i := range 60 {
		fmt.Fprintf(&paste, "%02d-456789,", i) // 600 bytes, every ten numbered
	}
	p.typeKeys(t, "s = '"+paste.String()+"'\r")
	pos = p.waitFor(t, pos, ">>> ")
	p.typeKeys(t, "len(s), s[-10:]\r")
	p.waitFor(t, pos, "(600, '59-456789,')\r\n")
	p.typeKeys(t, "\x1d")
	if err := wait(); err != nil {
		t.Fatalf("repl after Ctrl-]: %v", err)
	}
	if lost := board.DroppedBytes(); lost != 0 {
		t.Errorf("the board dropped %d pasted bytes", lost)
	}
}
