package main

// The serial section: the usual cells over USB serial, on the simulated
// board's console offered on a pseudo-terminal (sim.Options.Serial), by the
// kernel (driven through jupyter_client, WEBREPL_URL=serial://…) and by
// mpremote's method, rebuilt here from its description in MicroPython's
// tools/mpremote/mpremote/transport_serial.py (enter_raw_repl,
// exec_raw_no_follow, raw_paste_write, follow): Ctrl-C twice and Ctrl-A to
// the raw REPL, then per command wait for ">", ask for raw-paste
// (Ctrl-E A Ctrl-A), read the window size, send no more than the window
// the board has granted (each 0x01 grants another), end with Ctrl-D, read
// the acknowledging 0x04, then the output up to 0x04 and the errors up to
// 0x04.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"webrepl-kernel/serialport"
	"webrepl-kernel/sim"
)

// SerialResult is the serial section: one board, the cells by two methods.
type SerialResult struct {
	Board string       `json:"board"`
	Cells []SerialCell `json:"cells"`
	Lost  int64        `json:"bytes_lost"`
}

// SerialCell is one cell over serial by the kernel and by mpremote's method.
type SerialCell struct {
	Cell     string `json:"cell"`
	Bytes    int    `json:"bytes"`
	Kernel   Method `json:"kernel"`
	MPRemote Method `json:"mpremote"`
}

// serialCells are the usual cells: print(1), 20 lines, 8 KB.
func serialCells() []benchCell {
	var cells []benchCell
	for _, c := range benchCells() {
		if c.Name != "80 lines" {
			cells = append(cells, c)
		}
	}
	return cells
}

func measureSerial(ctx context.Context, modules, exe, dir string, drv *driver, rounds int) (SerialResult, error) {
	res := SerialResult{Board: "simulated esp32, MicroPython 1.28, console on a pseudo-terminal"}
	opts := sim.Options{Profile: "esp32", Firmware: "1.28", DrainPeriod: sim.DefaultDrainPeriod, Modules: modules, Serial: true}
	if os.Getenv("BENCH_SIM_LOG") != "" {
		opts.Log = os.Stderr
	}
	sb, err := sim.Start(ctx, opts)
	if err != nil {
		return res, fmt.Errorf("starting the board: %w", err)
	}
	defer sb.Close()
	port := sb.SerialPath()
	b := &board{url: "serial://" + port, sim: sb, stop: func() {}}
	dropped0 := b.dropped()

	k, _, err := startKernel(ctx, exe, dir, drv, b)
	if err != nil {
		return res, err
	}
	if r, err := k.execute(ctx, "x = 0\n", ""); err != nil || r.Status != "ok" {
		k.shutdown(ctx)
		return res, fmt.Errorf("kernel, first cell: %v %+v", err, r)
	}
	cells := serialCells()
	for _, cell := range cells {
		sc := SerialCell{Cell: cell.Name, Bytes: len(cell.code)}
		for range rounds {
			r, err := k.execute(ctx, cell.code, cell.marker)
			if err != nil {
				k.shutdown(ctx)
				return res, err
			}
			if r.Status != "ok" || normalise(r.Stdout) != cell.want || r.Marker == 0 {
				k.shutdown(ctx)
				return res, fmt.Errorf("kernel, %s: status %s, stdout %q, stderr %q; want %q", cell.Name, r.Status, r.Stdout, r.Stderr, cell.want)
			}
			sc.Kernel.add(r.Marker)
		}
		res.Cells = append(res.Cells, sc)
	}
	k.shutdown(ctx)

	for i, cell := range cells {
		for range rounds {
			d, err := runMPRemote(ctx, port, cell)
			if err != nil {
				return res, err
			}
			res.Cells[i].MPRemote.add(d)
		}
	}
	res.Lost = b.dropped() - dropped0
	return res, nil
}

// serialReader is the port's input as mpremote sees it: read n bytes,
// read until a suffix, and how many bytes wait (inWaiting).
type serialReader struct {
	mu   sync.Mutex
	buf  []byte
	err  error
	more chan struct{}
}

func newSerialReader(p serialport.Port) *serialReader {
	r := &serialReader{more: make(chan struct{}, 1)}
	go func() {
		chunk := make([]byte, 4096)
		for {
			n, err := p.Read(chunk)
			r.mu.Lock()
			r.buf = append(r.buf, chunk[:n]...)
			if err != nil {
				r.err = err
			}
			r.mu.Unlock()
			select {
			case r.more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return r
}

func (r *serialReader) waiting() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.buf)
}

// take waits until done(buf) gives how much of the buffer to return (> 0).
func (r *serialReader) take(ctx context.Context, done func([]byte) int) ([]byte, error) {
	for {
		r.mu.Lock()
		if n := done(r.buf); n > 0 {
			out := append([]byte(nil), r.buf[:n]...)
			r.buf = r.buf[n:]
			r.mu.Unlock()
			return out, nil
		}
		err := r.err
		r.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-r.more:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (r *serialReader) read(ctx context.Context, n int) ([]byte, error) {
	return r.take(ctx, func(b []byte) int {
		if len(b) >= n {
			return n
		}
		return 0
	})
}

func (r *serialReader) until(ctx context.Context, suffix string) ([]byte, error) {
	return r.take(ctx, func(b []byte) int {
		if i := bytes.Index(b, []byte(suffix)); i >= 0 {
			return i + len(suffix)
		}
		return 0
	})
}

// runMPRemote times one cell by mpremote's method on a fresh opening of the
// port: the clock runs from the raw-paste request to the marker's arrival;
// the whole output is checked.
func runMPRemote(ctx context.Context, path string, cell benchCell) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	p, err := serialport.Open(path, 115200)
	if err != nil {
		return 0, fmt.Errorf("mpremote: %w", err)
	}
	defer p.Close()
	r := newSerialReader(p)
	// enter_raw_repl: interrupt whatever runs, then Ctrl-A.
	if _, err := p.Write([]byte("\r\x03\x03")); err != nil {
		return 0, err
	}
	if _, err := p.Write([]byte("\r\x01")); err != nil {
		return 0, err
	}
	if _, err := r.until(ctx, "raw REPL; CTRL-B to exit\r\n"); err != nil {
		return 0, fmt.Errorf("mpremote: entering the raw REPL: %w", err)
	}
	if _, err := r.until(ctx, ">"); err != nil {
		return 0, err
	}
	start := time.Now()
	if _, err := p.Write([]byte("\x05A\x01")); err != nil {
		return 0, err
	}
	if ans, err := r.read(ctx, 2); err != nil || string(ans) != "R\x01" {
		return 0, fmt.Errorf("mpremote: raw-paste refused: %q %v", ans, err)
	}
	head, err := r.read(ctx, 2)
	if err != nil {
		return 0, err
	}
	window := int(binary.LittleEndian.Uint16(head))
	remain := window
	code := []byte(cell.code)
	for i := 0; i < len(code); {
		for remain == 0 || r.waiting() > 0 {
			c, err := r.read(ctx, 1)
			if err != nil {
				return 0, err
			}
			switch c[0] {
			case 0x01:
				remain += window
			case 0x04:
				return 0, errors.New("mpremote: the board ended the paste early")
			default:
				return 0, fmt.Errorf("mpremote: unexpected %q during raw paste", c)
			}
		}
		n := min(remain, len(code)-i)
		if _, err := p.Write(code[i : i+n]); err != nil {
			return 0, err
		}
		remain -= n
		i += n
	}
	if _, err := p.Write([]byte{0x04}); err != nil {
		return 0, err
	}
	if _, err := r.until(ctx, "\x04"); err != nil {
		return 0, err
	}
	// follow: output to 0x04, errors to 0x04; the clock stops at the marker.
	var arrived time.Time
	out, err := r.take(ctx, func(b []byte) int {
		if arrived.IsZero() && strings.Contains(normalise(string(b)), cell.marker) {
			arrived = time.Now()
		}
		return bytes.IndexByte(b, 0x04) + 1
	})
	if err != nil {
		return 0, err
	}
	errs, err := r.until(ctx, "\x04")
	if err != nil {
		return 0, err
	}
	got := normalise(strings.TrimSuffix(string(out), "\x04"))
	if got != cell.want || len(errs) != 1 || arrived.IsZero() {
		return 0, fmt.Errorf("mpremote %s: output %q, errors %q; want %q", cell.Name, got, errs, cell.want)
	}
	return arrived.Sub(start), nil
}
