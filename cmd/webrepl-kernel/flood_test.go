//go:build linux

package main

// Bad peers against the real processes (issue 7 item 6): `exec` and the
// kernel, started as subprocesses, meet a board that floods, sends garbage
// frames or never answers. Whatever the peer sends, each process's peak
// resident memory (VmHWM, followed while it runs) stays under
// peakMemoryLimit, and it gives up when the deadline of the step the peer
// stalls lapses, within deadlineSlack: memory and deadlines, not speed.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/uuid"

	"webrepl-kernel/jupyter"
	"webrepl-kernel/kernelspec"
	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
)

const (
	// peakMemoryLimit is issue 7's bound for the kernel and the CLI.
	peakMemoryLimit = 64 << 20
	// deadlineSlack is how far past its deadline a step may end: the
	// process starts, notices the deadline and closes the link in it. It is
	// generous (the machine may be loaded): what it catches is a deadline
	// that the peer's data keeps pushing back, or none at all.
	deadlineSlack = 20 * time.Second
	// protocolStep is the deadline of each handshake and login step
	// (webrepl: the WebSocket handshake, "waiting for the Password:
	// prompt", "waiting for the answer to the password";
	// docs/protocol/webrepl.md §1.7).
	protocolStep = 5 * time.Second
	// floodConnectTimeout is the --connect-timeout the exec tests give:
	// it bounds reaching the raw REPL, which a flooding board never lets
	// happen.
	floodConnectTimeout = 7 * time.Second
)

// badPeers are the faults the processes are tried against and the step
// deadline each must give up by. A peer that sends garbage frames fails the
// first read at once; it is bounded by the prompt step all the same.
var badPeers = []struct {
	fault    sim.Fault
	deadline time.Duration
	cause    string // what the error must say
	kernel   bool   // also tried against the kernel (a flooding REPL is the output path's)
}{
	{sim.FaultFloodLogin, protocolStep, "timed out waiting for the answer to the password", true},
	{sim.FaultFloodOutput, floodConnectTimeout, "timed out waiting for the raw REPL prompt", false},
	{sim.FaultGarbageFrames, protocolStep, "not a WebREPL endpoint", true},
	{sim.FaultSilent, protocolStep, "timed out connecting to", true},
}

// shortRuntimeDir is a hand-over folder of the test's own whose socket
// paths fit a Unix socket address (t.TempDir's names are too long).
func shortRuntimeDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// memoryWatch follows a running process's peak resident set: VmHWM in
// /proc/PID/status, read every few milliseconds until stop. (getrusage's
// ru_maxrss of a child would include the test process's own memory, which
// Linux carries into the child at exec.) VmHWM only grows, so the last
// reading before the process ends is its peak up to then.
type memoryWatch struct {
	stop chan struct{}
	done chan struct{}
	peak int64
	err  error
}

func watchMemory(pid int) *memoryWatch {
	w := &memoryWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		path := fmt.Sprintf("/proc/%d/status", pid)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if hwm, err := readHWM(path); err == nil {
				w.peak = max(w.peak, hwm)
			} else if w.peak == 0 {
				w.err = err
			}
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// Peak stops watching and returns the largest VmHWM seen, in bytes.
func (w *memoryWatch) Peak(t *testing.T) int64 {
	t.Helper()
	close(w.stop)
	<-w.done
	if w.peak == 0 {
		t.Fatalf("no memory reading of the process: %v", w.err)
	}
	return w.peak
}

// readHWM reads VmHWM from a /proc/PID/status file. A process that has
// exited (a zombie) has none.
func readHWM(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
				return 0, fmt.Errorf("%s: %q: %w", path, line, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("%s: no VmHWM line", path)
}

// checkPrintableLine: an error a user reads is one line of printable text.
func checkPrintableLine(t *testing.T, what, text string) {
	t.Helper()
	if text == "" || strings.Contains(text, "\n") {
		t.Errorf("%s %q is not one line", what, text)
	}
	for _, r := range text {
		if !unicode.IsPrint(r) {
			t.Errorf("%s %q holds the unprintable %U", what, text, r)
			break
		}
	}
}

func TestExecAgainstBadPeersStaysBounded(t *testing.T) {
	t.Parallel()
	for _, peer := range badPeers {
		t.Run(string(peer.fault), func(t *testing.T) {
			t.Parallel()
			board := simtest.StartFault(t, peer.fault)
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			env := []string{"XDG_RUNTIME_DIR=" + shortRuntimeDir(t)}
			cmd := cliCommand(ctx, env, append([]string{"exec", "--connect-timeout", floodConnectTimeout.String()},
				append(boardArgs(board), "-")...)...)
			cmd.Stdin = strings.NewReader("print('never runs')\n")
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			memory := watchMemory(cmd.Process.Pid)
			_ = cmd.Wait() // the exit status is checked below
			took := time.Since(start)
			peak := memory.Peak(t)
			t.Logf("%s: exit %d after %v, peak RSS %.1f MB: %s", peer.fault, cmd.ProcessState.ExitCode(), took.Round(time.Millisecond),
				float64(peak)/(1<<20), strings.TrimSpace(stderr.String()))
			if code := cmd.ProcessState.ExitCode(); code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
			checkPrintableLine(t, "error", strings.TrimSuffix(stderr.String(), "\n"))
			if !strings.Contains(stderr.String(), peer.cause) {
				t.Errorf("stderr %q does not say %q", stderr.String(), peer.cause)
			}
			if peak >= peakMemoryLimit {
				t.Errorf("peak RSS %d bytes, want < %d", peak, peakMemoryLimit)
			}
			if took > peer.deadline+deadlineSlack {
				t.Errorf("exec ended %v after it started, beyond the step's deadline %v (+%v): does the peer's data push the deadline back?",
					took, peer.deadline, deadlineSlack)
			}
		})
	}
}

// launchKernel starts `webrepl-kernel kernel` on a private connection file
// (ipc sockets in a temporary folder) and connects a Jupyter client.
func launchKernel(t *testing.T, ctx context.Context, env []string) (*jupyter.KernelClient, *memoryWatch, func() *os.ProcessState) {
	t.Helper()
	dir := shortRuntimeDir(t) // ipc socket paths must be short too
	info := jupyter.ConnectionInfo{
		Transport: "ipc", IP: filepath.Join(dir, "k"),
		ShellPort: 1, IOPubPort: 2, StdinPort: 3, ControlPort: 4, HBPort: 5,
		Key: uuid.NewString(), SignatureScheme: jupyter.SupportedSignatureScheme,
	}
	data, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	connFile := filepath.Join(dir, "connection.json")
	if err := os.WriteFile(connFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := cliCommand(ctx, env, "kernel", "--connection-file", connFile)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	memory := watchMemory(cmd.Process.Pid)
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	wait := func() *os.ProcessState {
		select {
		case <-exited:
		case <-time.After(testTimeout):
			t.Fatalf("the kernel did not exit; stderr %q", stderr.String())
		}
		return cmd.ProcessState
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	// The kernel binds the heartbeat socket last.
	for hb := filepath.Join(dir, fmt.Sprintf("k-%d", info.HBPort)); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(hb); err == nil {
			break
		}
		select {
		case <-exited:
			t.Fatalf("the kernel exited at start: %q", stderr.String())
		case <-ctx.Done():
			t.Fatalf("the kernel's sockets did not appear: %v", ctx.Err())
		default:
		}
	}
	client, err := jupyter.Connect(info)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	if _, err := client.KernelInfo(ctx); err != nil {
		t.Fatalf("kernel_info: %v; stderr %q", err, stderr.String())
	}
	return client, memory, wait
}

func TestKernelAgainstBadPeersStaysBounded(t *testing.T) {
	t.Parallel()
	for _, peer := range badPeers {
		if !peer.kernel {
			continue
		}
		t.Run(string(peer.fault), func(t *testing.T) {
			t.Parallel()
			board := simtest.StartFault(t, peer.fault)
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			client, memory, wait := launchKernel(t, ctx, []string{"XDG_RUNTIME_DIR=" + shortRuntimeDir(t),
				kernelspec.EnvURL + "=" + board.URL(), kernelspec.EnvPassword + "=" + board.Password()})
			for cell := 1; cell <= 2; cell++ { // the kernel keeps serving after the failure
				start := time.Now()
				reply, err := client.Execute(ctx, jupyter.ExecuteRequest{Code: "print('never runs')", StoreHistory: true}, jupyter.ExecuteHooks{})
				took := time.Since(start)
				if err != nil {
					t.Fatalf("cell %d: %v", cell, err)
				}
				t.Logf("%s, cell %d: %s %s: %q after %v", peer.fault, cell, reply.Status, reply.Ename, reply.Evalue, took.Round(time.Millisecond))
				if reply.Status != "error" || reply.Ename == "" {
					t.Errorf("cell %d: status %q, name %q; want an error with a name", cell, reply.Status, reply.Ename)
				}
				checkPrintableLine(t, "evalue", reply.Evalue)
				if !strings.Contains(reply.Evalue, peer.cause) {
					t.Errorf("cell %d: evalue %q does not say %q", cell, reply.Evalue, peer.cause)
				}
				if took > peer.deadline+deadlineSlack {
					t.Errorf("cell %d ended %v after it was sent, beyond the step's deadline %v (+%v): does the peer's data push the deadline back?",
						cell, took, peer.deadline, deadlineSlack)
				}
			}
			if err := client.Shutdown(ctx); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			state := wait()
			peak := memory.Peak(t)
			t.Logf("%s: kernel exit %d, peak RSS %.1f MB", peer.fault, state.ExitCode(), float64(peak)/(1<<20))
			if peak >= peakMemoryLimit {
				t.Errorf("kernel peak RSS %d bytes, want < %d", peak, peakMemoryLimit)
			}
		})
	}
}
