package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"webrepl-kernel/sim"
	"webrepl-kernel/webrepl"
)

// profile is one link the tables measure.
type profile struct {
	Name string
	// Sim is the simulated board; nil for ../shared/realmp.
	Sim *sim.Options
	// Link describes the link and its limit for the README.
	Link string
}

func profiles(modules string) []profile {
	mk := func(p, fw string, latency time.Duration) *sim.Options {
		return &sim.Options{Profile: p, Firmware: fw, Latency: latency, DrainPeriod: sim.DefaultDrainPeriod, Modules: modules}
	}
	return []profile{
		{"esp32 1.27", mk("esp32", "1.27", 0), "80 ms drain into a 259-byte ring"},
		{"esp32 1.28", mk("esp32", "1.28", 0), "REPL reads the socket while it waits"},
		{"esp8266", mk("esp8266", "1.28", 0), "255-byte ring filled per frame"},
		{"ideal + 10 ms", mk("ideal", "1.28", 10*time.Millisecond), "no loss, 10 ms each way"},
		{"realmp", nil, "real MicroPython 1.28 (unix port), loopback"},
	}
}

// board is a running board of a profile.
type board struct {
	url, password string
	sim           *sim.Board // nil for realmp
	stop          func()
}

func (b *board) dropped() int64 {
	if b.sim == nil {
		return 0 // the unix port has no input-loss model: it never drops
	}
	return b.sim.DroppedBytes()
}

// dial logs in, waiting while the board still serves the previous client.
func (b *board) dial(ctx context.Context, opts webrepl.Options) (*webrepl.Session, error) {
	opts.Password = b.password
	var s *webrepl.Session
	err := retry(ctx, func() error {
		var err error
		s, err = webrepl.Dial(ctx, b.url, opts)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", b.url, err)
	}
	return s, nil
}

const benchPassword = "bench"

func startBoard(ctx context.Context, p profile, realmp string) (*board, error) {
	if p.Sim != nil {
		opts := *p.Sim
		opts.Password = benchPassword
		if os.Getenv("BENCH_SIM_LOG") != "" {
			opts.Log = os.Stderr
		}
		sb, err := sim.Start(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("starting the %s board: %w", p.Name, err)
		}
		return &board{url: sb.URL(), password: benchPassword, sim: sb, stop: func() { sb.Close() }}, nil
	}
	return startRealmp(ctx, realmp)
}

// startRealmp runs ../shared/realmp/start.sh on a free port and waits for
// its "listening" line.
func startRealmp(ctx context.Context, dir string) (*board, error) {
	script := filepath.Join(dir, "start.sh")
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("no real MicroPython board: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	flash, err := os.MkdirTemp("", "bench-realmp-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(script, fmt.Sprint(port), benchPassword, flash)
	ownGroup(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", script, err)
	}
	stop := func() {
		killGroup(cmd.Process)
		_ = cmd.Wait()
		os.RemoveAll(flash)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on ws://") {
				ready <- strings.TrimSpace(sc.Text()[strings.Index(sc.Text(), "ws://"):])
			}
		}
	}()
	select {
	case url := <-ready:
		return &board{url: url, password: benchPassword, stop: stop}, nil
	case <-time.After(time.Minute):
		stop()
		return nil, errors.New("the real MicroPython board did not start within a minute")
	case <-ctx.Done():
		stop()
		return nil, ctx.Err()
	}
}

// measureRTT times GET_VER exchanges (docs/protocol/webrepl.md §2.5): a
// binary record out, three bytes back, handled by the WebREPL layer at once
// on every profile. It returns the fastest of them (the link's best, which
// is what a limit is; on a loaded machine the others wait for a CPU) and
// the firmware's answer.
func measureRTT(ctx context.Context, b *board) (time.Duration, [3]byte, error) {
	var ws *websocket.Conn
	err := retry(ctx, func() error {
		var err error
		dialer := websocket.Dialer{NetDialContext: webrepl.DialBoardTCP}
		ws, _, err = dialer.DialContext(ctx, b.url, nil)
		if err != nil {
			return err
		}
		if err := expectText(ws, "Password: "); err != nil {
			ws.Close()
			return err
		}
		return nil
	})
	var ver [3]byte
	if err != nil {
		return 0, ver, fmt.Errorf("measuring the round trip: %w", err)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(b.password+"\r")); err != nil {
		return 0, ver, err
	}
	if err := expectText(ws, "WebREPL connected"); err != nil {
		return 0, ver, err
	}
	record := make([]byte, 82)
	copy(record, "WA")
	record[2] = 3 // GET_VER
	binary.LittleEndian.PutUint64(record[4:], 0)
	var times []time.Duration
	for range 15 {
		start := time.Now()
		if err := ws.WriteMessage(websocket.BinaryMessage, record); err != nil {
			return 0, ver, err
		}
		for {
			_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			kind, data, err := ws.ReadMessage()
			if err != nil {
				return 0, ver, fmt.Errorf("waiting for GET_VER: %w", err)
			}
			if kind == websocket.BinaryMessage && len(data) == 3 {
				copy(ver[:], data)
				break
			}
		}
		times = append(times, time.Since(start))
	}
	return slices.Min(times), ver, nil
}

func expectText(ws *websocket.Conn, want string) error {
	var seen strings.Builder
	for !strings.Contains(seen.String(), want) {
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, data, err := ws.ReadMessage()
		if err != nil {
			return fmt.Errorf("waiting for %q: %w", want, err)
		}
		seen.Write(data)
	}
	_ = ws.SetReadDeadline(time.Time{})
	return nil
}

func medianDuration(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
