package sim

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkStartup measures the time from Start to the first accepted
// WebSocket login, and the resident memory of the board's Node process
// once it has run a program.
func BenchmarkStartup(b *testing.B) {
	var totalReady time.Duration
	var maxRSS int64
	for i := 0; i < b.N; i++ {
		began := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		board, err := Start(ctx, Options{Profile: "esp32"})
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		conn, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(board.URL(), "ws://"), "/"))
		if err != nil {
			b.Fatal(err)
		}
		conn.Close()
		totalReady += time.Since(began)

		c := dialBoard(b, board.URL())
		c.login(board.Password())
		c.sendText("\x01")
		c.expectText("raw REPL; CTRL-B to exit\r\n>")
		c.sendText("import gc\nx = [i*i for i in range(10000)]\nprint(len(x))\x04")
		c.expectText("10000\r\n\x04\x04>")
		if rss := residentKB(b, board.nodePID()); rss > maxRSS {
			maxRSS = rss
		}
		board.Close()
	}
	b.ReportMetric(float64(totalReady.Milliseconds())/float64(b.N), "ms-ready")
	b.ReportMetric(float64(maxRSS)/1024, "MB-rss")
}

// residentKB reads VmRSS of a process from /proc.
func residentKB(b *testing.B, pid int) int64 {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatalf("reading the board process's memory: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("parsing %q: %v", line, err)
			}
			return kb
		}
	}
	b.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// BenchmarkHostedBoards measures the resident memory of one Host process
// running 1, 10 and 30 boards, each after it ran a program, and reports
// the memory each board beyond the first adds (docs/protocol/simulator.md
// §7). The Go side is this test process and is not counted.
func BenchmarkHostedBoards(b *testing.B) {
	rss := map[int]int64{}
	for _, n := range []int{1, 10, 30} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				h := NewHost(HostOptions{})
				var boards []*Board
				for j := 0; j < n; j++ {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
					board, err := Start(ctx, Options{Profile: "esp32", Host: h})
					cancel()
					if err != nil {
						b.Fatal(err)
					}
					boards = append(boards, board)
					c := dialBoard(b, board.URL())
					c.login(board.Password())
					c.sendText("\x01")
					c.expectText("raw REPL; CTRL-B to exit\r\n>")
					c.sendText("x = [i*i for i in range(10000)]\nprint(len(x))\x04")
					c.expectText("10000\r\n\x04\x04>")
				}
				rss[n] = residentKB(b, h.PID())
				for _, board := range boards {
					board.Close()
				}
				h.Close()
			}
			b.ReportMetric(float64(rss[n])/1024, "MB-rss")
			if n > 1 && rss[1] > 0 {
				b.ReportMetric(float64(rss[n]-rss[1])/1024/float64(n-1), "MB-per-extra-board")
			}
		})
	}
}
