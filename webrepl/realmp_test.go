//go:build linux

package webrepl_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"webrepl-kernel/sim/simtest"
	"webrepl-kernel/webrepl"
)

// Conformance against real MicroPython (v1.28 unix port with the
// firmware's own WebREPL, WebSocket and REPL C code), found through
// $WEBREPL_REALMP or <repo root>/../shared/realmp. Its README lists what
// that board cannot do (Ctrl-C, machine, resets), so those stay simulator
// tests.

const realmpPassword = "rmp"

// realmpDir locates the real board, or "" when it is absent.
func realmpDir() string {
	if d := os.Getenv("WEBREPL_REALMP"); d != "" {
		return d
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "shared", "realmp")
}

// startRealmp starts the real board on a free port and kills it when the
// test ends; it skips the test when the board is absent.
func startRealmp(t *testing.T) string {
	t.Helper()
	dir := realmpDir()
	script := filepath.Join(dir, "start.sh")
	if _, err := os.Stat(script); err != nil {
		t.Skipf("realmp not found at %s (set WEBREPL_REALMP): real-firmware tests skipped", dir)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(script, fmt.Sprint(port), realmpPassword, t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting realmp: %v", err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	ready := make(chan string, 1)
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "realboard listening on ") {
				select {
				case ready <- strings.TrimPrefix(line, "realboard listening on "):
				default:
				}
			}
		}
		_ = cmd.Wait()
	}()
	select {
	case url := <-ready:
		return url
	case <-exited:
		t.Fatal("realmp exited before listening")
	case <-time.After(time.Minute):
		t.Fatal("realmp did not listen within a minute")
	}
	return ""
}

func TestRealmpGeneratedProgramsExact(t *testing.T) {
	url := startRealmp(t)
	for _, c := range []struct {
		name   string
		opts   webrepl.Options
		pacing webrepl.Pacing
		seed   uint64
		n      int
	}{
		{"raw-paste", webrepl.Options{}, webrepl.PacingRawPaste, 21, 60},
		{"paced fallback", webrepl.Options{Pacing: webrepl.PacingPaced, ChunkSize: 128, ChunkGap: 5 * time.Millisecond}, webrepl.PacingPaced, 22, 15},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := dial(t, url, realmpPassword, c.opts)
			rng := mrand.New(mrand.NewPCG(c.seed, c.seed^0x9e3779b97f4a7c15))
			for i := 0; i < c.n; i++ {
				code, want := generatedProgram(t, rng, i, 8192)
				pacing, failure := execGenerated(t, s, i, code, want, 2*time.Minute)
				if failure != "" {
					t.Fatal(failure)
				}
				if pacing != c.pacing {
					t.Fatalf("program %d went %v, want %v", i, pacing, c.pacing)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRealmpPutGetIdentical(t *testing.T) {
	url := startRealmp(t)
	s := dial(t, url, realmpPassword, webrepl.Options{})
	ctx := ctxFor(t, 3*time.Minute)
	for _, size := range []int{0, 1, 255, 256, 257, 100 * 1024} {
		data := make([]byte, size)
		rand.Read(data)
		name := fmt.Sprintf("f%d.bin", size)
		if err := s.Put(ctx, name, data, nil); err != nil {
			t.Fatalf("Put %d bytes: %v", size, err)
		}
		got, err := s.Get(ctx, name, nil)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get %d bytes: %v, %d bytes back, identical %v", size, err, len(got), bytes.Equal(got, data))
		}
	}
}

func TestRealmpSecondClientAndWrongPassword(t *testing.T) {
	url := startRealmp(t)
	s := dial(t, url, realmpPassword, webrepl.Options{})
	_, err := webrepl.Dial(ctxFor(t, time.Minute), url, webrepl.Options{Password: realmpPassword})
	if !errors.Is(err, webrepl.ErrBusy) {
		t.Errorf("second client: %v, want ErrBusy", err)
	} else {
		oneLine(t, err)
	}
	if out, _ := run(t, s, "print('first still fine')"); out != "first still fine\n" {
		t.Errorf("first client after the refusal: %q", out)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The board lets the next client in once the session has ended; a
	// wrong password is then refused as such (the socket stays open there).
	err = simtest.UntilServed(t, func(ctx context.Context) (error, error) {
		_, err := webrepl.Dial(ctx, url, webrepl.Options{Password: "wrong"})
		if errors.Is(err, webrepl.ErrBusy) {
			return nil, err // the slot is still held: try again
		}
		return err, nil
	})
	if !errors.Is(err, webrepl.ErrWrongPassword) {
		t.Fatalf("wrong password: %v, want ErrWrongPassword", err)
	}
	oneLine(t, err)
}
