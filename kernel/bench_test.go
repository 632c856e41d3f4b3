package kernel

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"webrepl-kernel/jupyter"
	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
	"webrepl-kernel/webrepl"
)

// buildKernelBinary builds cmd/webrepl-kernel into a temporary directory.
func buildKernelBinary(b *testing.B) string {
	b.Helper()
	exe := filepath.Join(b.TempDir(), "webrepl-kernel")
	cmd := exec.Command("go", "build", "-o", exe, "../cmd/webrepl-kernel")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

// freeTCPPorts picks n distinct free ports (the kernel subcommand needs real
// ports in its connection file, as Jupyter writes them).
func freeTCPPorts(b *testing.B, n int) []int {
	var ports []int
	var listeners []net.Listener
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range listeners {
		l.Close()
	}
	return ports
}

// BenchmarkKernelStart measures the built binary from process start to the
// first kernel_info_reply with iopub delivering (jupyter.KernelClient's
// KernelInfo, what a frontend waits for), and its resident memory once idle.
func BenchmarkKernelStart(b *testing.B) {
	exe := buildKernelBinary(b)
	var totalStart time.Duration
	var rssKB int64
	for i := 0; i < b.N; i++ {
		ports := freeTCPPorts(b, 5)
		info := jupyter.ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", ShellPort: ports[0], IOPubPort: ports[1],
			StdinPort: ports[2], ControlPort: ports[3], HBPort: ports[4], Key: "bench-key", SignatureScheme: "hmac-sha256"}
		data, _ := json.Marshal(info)
		connFile := filepath.Join(b.TempDir(), "kernel.json")
		if err := os.WriteFile(connFile, data, 0o600); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		cmd := exec.Command(exe, "kernel", "--connection-file", connFile)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		c, err := jupyter.Connect(info)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitLong)
		if _, err := c.KernelInfo(ctx); err != nil { // the reply, and iopub delivering
			b.Fatal(err)
		}
		totalStart += time.Since(start)
		b.StopTimer()

		time.Sleep(500 * time.Millisecond) // a measurement, not a wait: the runtime settles before RSS is read
		rssKB += readRSSKB(b, cmd.Process.Pid)

		if err := c.Shutdown(ctx); err != nil {
			b.Fatal(err)
		}
		cancel()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				b.Errorf("kernel exited with %v after shutdown_request", err)
			}
		case <-time.After(waitLong):
			cmd.Process.Kill()
			<-done
			b.Fatal("kernel did not exit after shutdown_request")
		}
		c.Close()
	}
	b.ReportMetric(float64(totalStart.Microseconds())/1000/float64(b.N), "ms/start-to-kernel_info")
	b.ReportMetric(float64(rssKB)/1024/float64(b.N), "MB-idle-RSS")
}

func readRSSKB(b *testing.B, pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	return parseVmRSS(b, f)
}

func parseVmRSS(b *testing.B, r io.Reader) int64 {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb
		}
	}
	b.Fatal("no VmRSS in /proc status")
	return 0
}

// BenchmarkCellRoundTrip measures a trivial cell through the kernel (request
// to reply and idle, over ZMQ) and subtracts the simulator's bare raw-REPL round trip
// of the same code measured in the same run.
//
// The board is the simulator's "ideal" profile: no input-queue model, so the
// figure is the kernel's own cost rather than the link model's pacing.
func BenchmarkCellRoundTrip(b *testing.B) {
	board := simtest.Start(b, sim.Options{Password: "secret", Profile: "ideal"})
	const rounds = 30
	const code = "x = 1"

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := webrepl.Dial(ctx, board.URL(), webrepl.Options{Password: board.Password()})
	if err != nil {
		b.Fatal(err)
	}
	measureBare := func() time.Duration {
		start := time.Now()
		for i := 0; i < rounds; i++ {
			if _, err := s.Exec(ctx, []byte(code), io.Discard); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start) / rounds
	}
	measureBare() // warm up
	bare := measureBare()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}

	tk := newTestKernel(b, onBoard(board), overZMQ(), configure(func(c *Config) { c.Logf = func(string, ...any) {} }))
	run := func() {
		if reply, err := tk.client.Execute(ctx, executeRequest(code), jupyter.ExecuteHooks{}); err != nil || reply.Status != "ok" {
			b.Fatalf("cell: %+v, %v", reply, err)
		}
	}
	run() // connects
	var viaKernel time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		start := time.Now()
		for i := 0; i < rounds; i++ {
			run()
		}
		viaKernel += time.Since(start) / rounds
	}
	b.StopTimer()
	perCell := viaKernel / time.Duration(b.N)
	b.ReportMetric(float64(perCell.Microseconds())/1000, "ms/cell-via-kernel")
	b.ReportMetric(float64(bare.Microseconds())/1000, "ms/cell-bare-raw-repl")
	b.ReportMetric(float64((perCell-bare).Microseconds())/1000, "ms/kernel-overhead")
}
