//go:build unix

package boardpytest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BoardPassword is the WebREPL password of boards StartBoard starts.
const BoardPassword = "rmp"

// StartBoard starts realmp as a WebREPL board on a free 127.0.0.1 port with
// a new flash folder, and kills it when the test ends; it skips the test
// when realmp is absent. It returns the board's URL and flash folder.
func StartBoard(t testing.TB) (url, flash string) {
	t.Helper()
	script := filepath.Join(Dir(), "start.sh")
	if _, err := os.Stat(script); err != nil {
		t.Skipf("realmp not found at %s (set WEBREPL_REALMP): real-firmware tests skipped", Dir())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	flash = t.TempDir()
	cmd := exec.Command(script, fmt.Sprint(port), BoardPassword, flash)
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
	case url = <-ready:
		return url, flash
	case <-exited:
		t.Fatal("realmp exited before listening")
	case <-time.After(2 * time.Minute):
		t.Fatal("realmp did not listen within two minutes")
	}
	return "", ""
}
