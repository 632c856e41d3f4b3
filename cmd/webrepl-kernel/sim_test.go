//go:build linux

package main

// End-to-end tests of `webrepl-kernel sim`: the real binary (this test
// binary re-executed as main) running the real simulated board.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// announceWatcher collects the sim command's stdout and signals when the
// board's address has been announced.
type announceWatcher struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	url       string
	announced chan struct{}
}

var wsURLPattern = regexp.MustCompile(`ws://[0-9.]+:[0-9]+/`)

func (w *announceWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.url == "" {
		if url := wsURLPattern.FindString(w.buf.String()); url != "" {
			w.url = url
			close(w.announced)
		}
	}
	return len(p), nil
}

// simProcess is a running `webrepl-kernel sim`.
type simProcess struct {
	cmd    *exec.Cmd
	stdout *announceWatcher
	stderr *bytes.Buffer
	exited chan struct{} // closed after Wait returned; then err is set
	err    error
}

func startSimCLI(t *testing.T, env []string, extra ...string) *simProcess {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	t.Cleanup(cancel)
	p := &simProcess{
		cmd:    cliCommand(ctx, env, append([]string{"sim", "--addr", "127.0.0.1:0", "--password", "pw"}, extra...)...),
		stdout: &announceWatcher{announced: make(chan struct{})},
		stderr: &bytes.Buffer{},
		exited: make(chan struct{}),
	}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting webrepl-kernel sim: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	select {
	case <-p.stdout.announced:
	case <-p.exited:
		t.Fatalf("webrepl-kernel sim exited before announcing its address: %v\nstderr: %s", p.err, p.stderr)
	case <-time.After(testTimeout):
		t.Fatalf("webrepl-kernel sim did not announce its address\nstderr: %s", p.stderr)
	}
	return p
}

// waitExit waits for the process to end and returns its exit status.
func (p *simProcess) waitExit(t *testing.T) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(testTimeout):
		t.Fatalf("webrepl-kernel sim did not exit\nstderr: %s", p.stderr)
	}
	var exitErr *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &exitErr):
		return exitErr.ExitCode()
	}
	t.Fatalf("waiting for webrepl-kernel sim: %v", p.err)
	return -1
}

// childGroups returns the process group ids of pid's children (the board
// processes run in groups of their own).
func childGroups(t *testing.T, pid int) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var groups []int
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the process has gone
		}
		// Fields after "(comm)": state ppid pgrp ...
		fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
		if len(fields) < 3 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		pgrp, _ := strconv.Atoi(fields[2])
		if ppid == pid {
			groups = append(groups, pgrp)
		}
	}
	return groups
}

func expectGroupsGone(t *testing.T, groups []int) {
	t.Helper()
	for _, pgid := range groups {
		if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("kill(-%d, 0) = %v after webrepl-kernel sim exited, want ESRCH: a Node process is left", pgid, err)
		}
	}
}

func TestSimCommandStopsCleanlyOnSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			p := startSimCLI(t, nil)
			addr := strings.TrimSuffix(strings.TrimPrefix(p.stdout.url, "ws://"), "/")
			conn, err := net.DialTimeout("tcp", addr, testTimeout)
			if err != nil {
				t.Fatalf("the announced board at %s does not accept: %v", addr, err)
			}
			conn.Close()
			groups := childGroups(t, p.cmd.Process.Pid)
			if len(groups) == 0 {
				t.Fatalf("found no board process under webrepl-kernel sim (pid %d)", p.cmd.Process.Pid)
			}
			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := p.waitExit(t); code != 0 {
				t.Fatalf("exit status %d after %v, want 0\nstderr: %s", code, sig, p.stderr)
			}
			expectGroupsGone(t, groups)
		})
	}
}

// A board whose board process can no longer start dies; the command says
// why in one line on stderr (without -v) and exits 1.
func TestSimCommandExitsWhenTheBoardDies(t *testing.T) {
	cache := t.TempDir()
	p := startSimCLI(t, []string{"XDG_CACHE_HOME=" + cache})
	sources, err := filepath.Glob(filepath.Join(cache, "webrepl-kernel", "sim-*", "main.mjs"))
	if err != nil || len(sources) != 1 {
		t.Fatalf("finding the board sources under %s: %v %v", cache, sources, err)
	}
	if err := os.Rename(sources[0], sources[0]+".gone"); err != nil {
		t.Fatal(err)
	}
	groups := childGroups(t, p.cmd.Process.Pid)
	if len(groups) == 0 {
		t.Fatalf("found no board process under webrepl-kernel sim (pid %d)", p.cmd.Process.Pid)
	}
	for _, pgid := range groups {
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // the board crashes; its restarts cannot boot
	}
	if code := p.waitExit(t); code != 1 {
		t.Fatalf("exit status %d, want 1\nstderr: %s", code, p.stderr)
	}
	stderr := p.stderr.String()
	if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "webrepl-kernel sim: the simulated board died: ") ||
		!strings.Contains(stderr, "failed to boot 3 times") {
		t.Fatalf("stderr = %q, want one line telling that the board died and why", stderr)
	}
	expectGroupsGone(t, groups)
}

// `sim --boards N` runs N boards in one Node process, each on its own port
// with its own flash folder, and stops all of them cleanly.
func TestSimCommandRunsManyBoardsInOneProcess(t *testing.T) {
	flash := t.TempDir()
	p := startSimCLI(t, nil, "--boards", "3", "--flash", flash)
	var urls []string
	deadline := time.Now().Add(testTimeout)
	for {
		p.stdout.mu.Lock()
		out := p.stdout.buf.String()
		p.stdout.mu.Unlock()
		if strings.Contains(out, "3 simulated boards in one process; Ctrl-C stops them\n") {
			urls = wsURLPattern.FindAllString(out, -1)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webrepl-kernel sim --boards 3 announced only %q\nstderr: %s", out, p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(urls) != 3 || urls[0] == urls[1] || urls[1] == urls[2] || urls[0] == urls[2] {
		t.Fatalf("announced %q, want three different addresses", urls)
	}
	groups := childGroups(t, p.cmd.Process.Pid)
	if len(groups) != 1 {
		t.Fatalf("found %d Node processes under webrepl-kernel sim --boards 3, want one", len(groups))
	}
	for i, url := range urls {
		program := fmt.Sprintf("with open('who.txt', 'w') as f:\n    f.write('board %d')\nprint('hello from', %d)\n", i+1, i+1)
		res := runCLI(t, nil, []byte(program), "exec", "-", "--url", url, "--password", "pw")
		if res.code != 0 || res.stdout != fmt.Sprintf("hello from %d\n", i+1) {
			t.Fatalf("exec on board %d: status %d, stdout %q, stderr %q", i+1, res.code, res.stdout, res.stderr)
		}
	}
	for i := range urls {
		data, err := os.ReadFile(filepath.Join(flash, fmt.Sprintf("board-%02d", i+1), "who.txt"))
		if err != nil || string(data) != fmt.Sprintf("board %d", i+1) {
			t.Fatalf("board %d's flash folder holds %q (%v)", i+1, data, err)
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := p.waitExit(t); code != 0 {
		t.Fatalf("exit status %d after SIGINT, want 0\nstderr: %s", code, p.stderr)
	}
	expectGroupsGone(t, groups)
}
