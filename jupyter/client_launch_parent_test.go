package jupyter

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runTestLauncher is the test binary as a launcher: it starts a test kernel
// over TCP, prints the kernel's shell port and waits to be killed.
func runTestLauncher() {
	exe, err := os.Executable()
	if err != nil {
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	k, err := Launch(ctx, LaunchOptions{
		Argv:      []string{exe, "-test.run=^$", "--connection-file", ConnectionFileArg},
		Env:       []string{testKernelEnv + "=serve"},
		Transport: "tcp",
	})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "launcher:", err)
		os.Exit(1)
	}
	fmt.Printf("shell %d\n", k.info.ShellPort)
	select {} // until killed
}

// A kernel does not outlive the process that launched it when that process
// is killed without stopping it (Linux: the parent-death signal; Windows:
// the job object), so it cannot keep holding a board. macOS has neither.
func TestKernelDiesWithItsLauncher(t *testing.T) {
	if runtime.GOOS == "darwin" {
		t.Skip("macOS has no parent-death signal or job object: a killed launcher leaves its kernel")
	}
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	launcher := exec.Command(exe, "-test.run=^$")
	launcher.Env = append(os.Environ(), testKernelEnv+"=launcher")
	launcher.Stderr = os.Stderr
	out, err := launcher.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := launcher.Start(); err != nil {
		t.Fatal(err)
	}
	defer launcher.Wait()
	defer launcher.Process.Kill()
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		lines <- line
	}()
	var port int
	select {
	case line := <-lines:
		if port, err = strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "shell "))); err != nil {
			t.Fatalf("launcher said %q", line)
		}
	case <-time.After(waitLong):
		t.Fatal("the launcher did not report its kernel")
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if c, err := net.Dial("tcp", addr); err != nil {
		t.Fatalf("the kernel is not listening on %s: %v", addr, err)
	} else {
		c.Close()
	}
	if err := launcher.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitLong)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return // the kernel is gone
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("the kernel still listens on %s %v after its launcher was killed", addr, waitLong)
		}
		<-tick.C
	}
}
