package bench

// What "upload" means here, for every method alike: the clock starts when
// the client begins sending the cell (already logged in, the board sitting
// at the raw REPL prompt) and stops when the output of the cell's first
// statement, print('<marker>'), reaches the client. MicroPython compiles a
// whole cell before running any of it, so that output proves the board holds
// every byte of the program; the compile time and the one trip back are the
// same for all three methods. Throughput = cell bytes / upload time.
//
// The limits quoted as "fraction of the limit":
//   - esp32: the board moves at most 256 new bytes into its input ring per
//     80 ms drain, 3200 B/s. Raw-paste with all 2·W = 256 bytes of credit in
//     flight (Options.FullRawPasteWindow) can reach it; the default, which
//     keeps at most 2·W−1 outstanding, moves only W = 128 new bytes per drain
//     (the board grants per W consumed), so it tops out at half the limit;
//   - ideal with 10 ms latency: raw-paste has 256 bytes in flight per round
//     trip of 20 ms, 12800 B/s.
//
// Cells are made of typical notebook lines (see codeLine, about 50 bytes a
// line), which sets how fast the 50 ms-per-line method can be.

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
	"webrepl-kernel/webrepl"
)

const uploadMarker = "UPLOAD-COMPLETE"

// codeLine is line i of a made-up but ordinary notebook cell: assignments,
// comprehensions, string building, comments. Every line is valid and runs.
func codeLine(i int) string {
	switch i % 4 {
	case 0:
		return fmt.Sprintf("readings_%03d = [x * %d for x in range(%d)]  # one row", i, i%9+1, i%13+2)
	case 1:
		return fmt.Sprintf("total = total + sum(readings_%03d) * 0.0625  # scale", i-1)
	case 2:
		return fmt.Sprintf("label_%03d = 'channel %d: ' + str(total // %d)", i, i%16, i%7+1)
	default:
		return fmt.Sprintf("flag_%03d = total > %d and len(label_%03d) < 40", i, 1000+i, i-1)
	}
}

// cellLines returns a cell of exactly n lines, the first printing the marker.
func cellLines(n int) []byte {
	lines := []string{fmt.Sprintf("print('%s')", uploadMarker), "total = 0"}
	for i := 0; len(lines) < n; i++ {
		lines = append(lines, codeLine(i))
	}
	return []byte(strings.Join(lines[:n], "\n") + "\n")
}

// cellBytes returns the shortest such cell of at least size bytes.
func cellBytes(size int) []byte {
	for n := 2; ; n++ {
		if c := cellLines(n); len(c) >= size {
			return c
		}
	}
}

// markerClock is an io.Writer for the board's output that notes when the
// marker line has arrived.
type markerClock struct {
	mu      sync.Mutex
	seen    []byte
	arrived time.Time
	signal  chan struct{}
}

func newMarkerClock() *markerClock { return &markerClock{signal: make(chan struct{})} }

func (m *markerClock) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.arrived.IsZero() {
		m.seen = append(m.seen, p...)
		if bytes.Contains(m.seen, []byte(uploadMarker)) {
			m.arrived = time.Now()
			close(m.signal)
		}
	}
	return len(p), nil
}

func (m *markerClock) at() (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.arrived, !m.arrived.IsZero()
}

// uploadResult is one method's figures for one cell.
type uploadResult struct {
	duration time.Duration
	lost     int64
}

// uploadWithLibrary times one Exec of cell through webrepl with the given
// pacing.
func uploadWithLibrary(ctx context.Context, board *sim.Board, opts webrepl.Options, cell []byte) (uploadResult, error) {
	opts.Password = board.Password()
	s, err := webrepl.Dial(ctx, board.URL(), opts)
	if err != nil {
		return uploadResult{}, fmt.Errorf("connecting: %w", err)
	}
	defer s.Close()
	droppedBefore := board.DroppedBytes()
	clock := newMarkerClock()
	start := time.Now()
	res, err := s.Exec(ctx, cell, clock)
	if err != nil {
		return uploadResult{}, fmt.Errorf("running the cell: %w", err)
	}
	if res.Exception != nil {
		return uploadResult{}, fmt.Errorf("the cell raised: %s", res.Exception.Text)
	}
	arrived, ok := clock.at()
	if !ok {
		return uploadResult{}, errors.New("the cell ran but its marker never arrived")
	}
	return uploadResult{duration: arrived.Sub(start), lost: board.DroppedBytes() - droppedBefore}, nil
}

// seedConn is the original kernel's way of running a cell, rebuilt here as
// the baseline: plain gorilla WebSocket, raw REPL, each line its own text
// frame followed by a 50 ms pause, then Ctrl-D.
type seedConn struct {
	ws     *websocket.Conn
	output chan []byte
	done   chan struct{}
	buf    []byte
}

const seedLinePause = 50 * time.Millisecond

func seedConnect(ctx context.Context, url, password string) (*seedConn, error) {
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("dialling: %w", err)
	}
	c := &seedConn{ws: ws, output: make(chan []byte, 1024), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer close(c.output)
		for {
			kind, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if kind == websocket.TextMessage {
				c.output <- data
			}
		}
	}()
	steps := []struct{ send, await string }{
		{"", "Password: "},
		{password + "\r", "WebREPL connected"},
		{"\x03", ""},
		{"\x01", "raw REPL; CTRL-B to exit\r\n>"},
	}
	for _, step := range steps {
		if step.send != "" {
			if err := ws.WriteMessage(websocket.TextMessage, []byte(step.send)); err != nil {
				c.close()
				return nil, fmt.Errorf("logging in: %w", err)
			}
		}
		if step.await != "" {
			if err := c.await(ctx, step.await); err != nil {
				c.close()
				return nil, fmt.Errorf("logging in: %w", err)
			}
		}
	}
	return c, nil
}

// await reads output until it contains want and drops what came before.
func (c *seedConn) await(ctx context.Context, want string) error {
	for {
		if i := bytes.Index(c.buf, []byte(want)); i >= 0 {
			c.buf = c.buf[i+len(want):]
			return nil
		}
		select {
		case data, ok := <-c.output:
			if !ok {
				return fmt.Errorf("connection closed while waiting for %q", want)
			}
			c.buf = append(c.buf, data...)
		case <-ctx.Done():
			return fmt.Errorf("waiting for %q: %w", want, ctx.Err())
		}
	}
}

func (c *seedConn) close() {
	c.ws.Close()
	for range c.output {
	}
	<-c.done
}

func uploadWithSeed(ctx context.Context, board *sim.Board, cell []byte) (uploadResult, error) {
	c, err := seedConnect(ctx, board.URL(), board.Password())
	if err != nil {
		return uploadResult{}, err
	}
	defer c.close()
	droppedBefore := board.DroppedBytes()
	start := time.Now()
	for _, line := range strings.SplitAfter(string(cell), "\n") {
		if line == "" {
			continue
		}
		if err := c.ws.WriteMessage(websocket.TextMessage, []byte(line)); err != nil {
			return uploadResult{}, fmt.Errorf("sending a line: %w", err)
		}
		time.Sleep(seedLinePause)
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte("\x04")); err != nil {
		return uploadResult{}, fmt.Errorf("sending Ctrl-D: %w", err)
	}
	if err := c.await(ctx, uploadMarker); err != nil {
		return uploadResult{}, fmt.Errorf("the cell never printed its marker (bytes lost: %d): %w", board.DroppedBytes()-droppedBefore, err)
	}
	elapsed := time.Since(start)
	if err := c.await(ctx, "\x04>"); err != nil { // let the run finish before the next client
		return uploadResult{}, err
	}
	return uploadResult{duration: elapsed, lost: board.DroppedBytes() - droppedBefore}, nil
}

type uploadScenario struct {
	name  string
	board sim.Options
	limit float64 // bytes per second the link can carry at best (see top)
}

func uploadScenarios() []uploadScenario {
	return []uploadScenario{
		{"esp32", sim.Options{Profile: "esp32", DrainPeriod: 80 * time.Millisecond}, 256 / 0.080},
		{"ideal-10ms", sim.Options{Profile: "ideal", Latency: 10 * time.Millisecond}, 256 / 0.020},
	}
}

// BenchmarkUpload compares the three ways of sending a cell, all measured in
// the same run on the same simulated board.
func BenchmarkUpload(b *testing.B) {
	cells := []struct {
		name string
		code []byte
	}{
		{"cell=20lines", cellLines(20)},
		{"cell=8KB", cellBytes(8 * 1024)},
	}
	for _, sc := range uploadScenarios() {
		for _, cell := range cells {
			b.Run(sc.name+"/"+cell.name, func(b *testing.B) {
				board := simtest.Start(b, sc.board)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				defer cancel()
				var rawPaste, fullWindow, paced, seed uploadResult
				for range b.N {
					r, err := uploadWithLibrary(ctx, board, webrepl.Options{Pacing: webrepl.PacingRawPaste}, cell.code)
					if err != nil {
						b.Fatalf("raw-paste: %v", err)
					}
					rawPaste.duration += r.duration
					rawPaste.lost += r.lost
					r, err = uploadWithLibrary(ctx, board, webrepl.Options{Pacing: webrepl.PacingRawPaste, FullRawPasteWindow: true}, cell.code)
					if err != nil {
						b.Fatalf("raw-paste, full window: %v", err)
					}
					fullWindow.duration += r.duration
					fullWindow.lost += r.lost
					r, err = uploadWithLibrary(ctx, board, webrepl.Options{Pacing: webrepl.PacingPaced}, cell.code)
					if err != nil {
						b.Fatalf("paced: %v", err)
					}
					paced.duration += r.duration
					paced.lost += r.lost
					r, err = uploadWithSeed(ctx, board, cell.code)
					if err != nil {
						b.Fatalf("50 ms per line: %v", err)
					}
					seed.duration += r.duration
					seed.lost += r.lost
				}
				size := float64(len(cell.code))
				n := float64(b.N)
				throughput := func(r uploadResult) float64 { return size * n / r.duration.Seconds() }
				b.ReportMetric(0, "ns/op")
				b.ReportMetric(size, "cell_B")
				for _, m := range []struct {
					name string
					r    uploadResult
				}{{"rawpaste", rawPaste}, {"fullwindow", fullWindow}, {"paced", paced}, {"seed", seed}} {
					b.ReportMetric(throughput(m.r), m.name+"_B/s")
					b.ReportMetric(throughput(m.r)/sc.limit, m.name+"_of_limit")
					b.ReportMetric(float64(m.r.lost)/n, m.name+"_lost_B")
				}
				b.ReportMetric(seed.duration.Seconds()/rawPaste.duration.Seconds(), "rawpaste_x_seed")
				b.ReportMetric(seed.duration.Seconds()/fullWindow.duration.Seconds(), "fullwindow_x_seed")
				b.ReportMetric(seed.duration.Seconds()/paced.duration.Seconds(), "paced_x_seed")
			})
		}
	}
}

// BenchmarkFileTransfer measures WebREPL PUT and GET of 100 KB.
func BenchmarkFileTransfer(b *testing.B) {
	const size = 100 * 1024
	data := make([]byte, size)
	rand.Read(data)
	for _, sc := range uploadScenarios() {
		b.Run(sc.name, func(b *testing.B) {
			board := simtest.Start(b, sc.board)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			s, err := webrepl.Dial(ctx, board.URL(), webrepl.Options{Password: board.Password()})
			if err != nil {
				b.Fatalf("connecting: %v", err)
			}
			defer s.Close()
			var putTime, getTime time.Duration
			for range b.N {
				start := time.Now()
				if err := s.Put(ctx, "bench.bin", data, nil); err != nil {
					b.Fatalf("put: %v", err)
				}
				putTime += time.Since(start)
				start = time.Now()
				got, err := s.Get(ctx, "bench.bin", nil)
				if err != nil {
					b.Fatalf("get: %v", err)
				}
				getTime += time.Since(start)
				if !bytes.Equal(got, data) {
					b.Fatalf("get returned %d bytes that differ from the %d put", len(got), len(data))
				}
			}
			kb := float64(size) / 1024 * float64(b.N)
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(kb/putTime.Seconds(), "put_KB/s")
			b.ReportMetric(kb/getTime.Seconds(), "get_KB/s")
		})
	}
}
