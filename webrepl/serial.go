// The serial link: a board's REPL on a USB serial port (serial:///dev/ttyUSB0),
// carried by the same raw REPL engine as WebREPL. A serial port has no
// login, no file channel (files go through the raw REPL, files_repl.go) and
// no GET_VER (the version comes from sys.implementation); and a board that
// resets does not drop it, so the link watches for the board's boot text
// and ends itself then, as a WebSocket ends when a board resets.

package webrepl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"webrepl-kernel/serialport"
)

// SerialScheme is the scheme of a board on a serial port:
// serial:///dev/ttyUSB0, serial:///dev/cu.usbserial-0001?baud=460800,
// serial://COM3.
const SerialScheme = "serial"

// IsSerial reports whether url (normalised) names a board on a serial
// port, which takes no password.
func IsSerial(url string) bool { return strings.HasPrefix(url, SerialScheme+"://") }

// normalizeSerial checks a serial board address: a device path (or a
// Windows COM name as the host) and an optional baud rate; the default
// rate is left out of the normalised form, so one port has one address.
func normalizeSerial(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("board address %q: %v", raw, err)
	}
	dev := u.Path
	if u.Host != "" {
		if dev != "" {
			return "", fmt.Errorf("board address %q: want serial:///dev/PORT (three slashes) or serial://COMn", raw)
		}
		dev = u.Host
	}
	if dev == "" || dev == "/" {
		return "", fmt.Errorf("board address %q names no serial port (want serial:///dev/ttyUSB0 or serial://COM3)", raw)
	}
	baud := serialport.DefaultBaud
	for k, v := range u.Query() {
		if k != "baud" || len(v) != 1 {
			return "", fmt.Errorf("board address %q: the only option is baud=RATE", raw)
		}
		if baud, err = strconv.Atoi(v[0]); err != nil || baud <= 0 {
			return "", fmt.Errorf("board address %q: bad baud rate %q", raw, v[0])
		}
	}
	out := SerialScheme + "://" + dev
	if u.Host != "" {
		out = SerialScheme + "://" + u.Host
	}
	if baud != serialport.DefaultBaud {
		out += "?baud=" + strconv.Itoa(baud)
	}
	return out, nil
}

// serialTarget reads a normalised serial address back.
func serialTarget(normalized string) (device string, baud int) {
	rest := strings.TrimPrefix(normalized, SerialScheme+"://")
	baud = serialport.DefaultBaud
	if dev, q, ok := strings.Cut(rest, "?baud="); ok {
		rest = dev
		if n, err := strconv.Atoi(q); err == nil {
			baud = n
		}
	}
	return rest, baud
}

// serialOpenError keeps the port's own one-line message and matches ErrBusy
// (another program holds the port) or ErrUnreachable (no such port).
type serialOpenError struct {
	err  error
	kind error
}

func (e *serialOpenError) Error() string        { return e.err.Error() }
func (e *serialOpenError) Unwrap() []error      { return []error{e.err, e.kind} }
func (e *serialOpenError) Is(target error) bool { return target == e.kind }

// dialSerial opens the port of a normalised serial address.
func dialSerial(normalized string, stats *statCounters) (*link, error) {
	dev, baud := serialTarget(normalized)
	p, err := serialport.Open(dev, baud)
	if err != nil {
		switch {
		case errors.Is(err, serialport.ErrBusy):
			return nil, &serialOpenError{err: err, kind: ErrBusy}
		case errors.Is(err, serialport.ErrNotFound):
			return nil, &serialOpenError{err: err, kind: ErrUnreachable}
		}
		return nil, err
	}
	return startLink(&serialWire{port: p}, dev, stats, false), nil
}

// errBoardRestarted ends a serial link whose board printed its boot text.
var errBoardRestarted = errors.New("the board restarted (its boot text came on the serial port)")

// Boot text: a soft reset prints the first, a hard reset (and a soft one
// into the friendly REPL) the banner's second line
// (shared/runtime/pyexec.c, main.c of each port).
var resetSignatures = [][]byte{[]byte("MPY: soft reboot"), []byte("Type \"help()\" for more information.")}

// serialWire is a serial port: every byte is the REPL's.
type serialWire struct {
	port    serialport.Port
	armed   atomic.Bool // watch for boot text (after the connection reached the raw REPL)
	watch   []windowScanner
	pending error // returned by the next call of next
}

func (w *serialWire) next(buf []byte, _ func() bool) ([]byte, bool, error) {
	if w.pending != nil {
		return buf[:0], false, w.pending
	}
	if cap(buf) < 4096 {
		buf = make([]byte, 4096)
	}
	buf = buf[:cap(buf)]
	n, err := w.port.Read(buf)
	if n == 0 && err == nil {
		err = io.EOF
	}
	if err != nil {
		return buf[:0], false, err
	}
	p := buf[:n]
	if w.armed.Load() {
		if w.watch == nil {
			for _, sig := range resetSignatures {
				w.watch = append(w.watch, windowScanner{pattern: sig})
			}
		}
		for i := range w.watch {
			if end := w.watch[i].scan(p); end >= 0 {
				w.pending = errBoardRestarted
				return p[:max(0, end-len(w.watch[i].pattern))], false, nil
			}
		}
	}
	return p, false, nil
}

func (w *serialWire) ended(err error) (error, bool, bool) {
	switch {
	case errors.Is(err, errBoardRestarted):
		return err, true, true
	case errors.Is(err, io.EOF), errors.Is(err, syscall.EIO), errors.Is(err, syscall.ENXIO):
		return errors.New("the serial port closed (the board was unplugged or reset)"), true, false
	case errors.Is(err, os.ErrClosed):
		return errors.New("connection closed"), true, false
	}
	return fmt.Errorf("reading the serial port: %w", err), false, false
}

func (w *serialWire) send(p []byte, file bool) error {
	if file {
		return errors.New("a serial port has no file channel")
	}
	if len(p) == 0 {
		return nil
	}
	_ = w.port.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := w.port.Write(p)
	return err
}

func (w *serialWire) shut(*link) { _ = w.port.Close() }

// armResetWatch makes a serial link end when the board prints boot text:
// from then on the engine finds the board reset as over WebREPL.
func (l *link) armResetWatch() {
	if w, ok := l.w.(*serialWire); ok {
		w.armed.Store(true)
	}
}

// fileChannel reports whether the link carries WebREPL's file protocol.
func (l *link) fileChannel() bool {
	_, ok := l.w.(*wsWire)
	return ok
}

// readVersionREPL asks a board without GET_VER (a serial link) for its
// release through the raw REPL (py/version.py).
func (s *Session) readVersionREPL(ctx context.Context, l *link) (Version, error) {
	out, exc, err := s.runCapture(ctx, l, versionProgram)
	if err != nil {
		return Version{}, fmt.Errorf("asking the board for its firmware version: %w", err)
	}
	var v Version
	if exc != nil {
		return v, fmt.Errorf("asking the board for its firmware version: %s: %s", exc.Type, exc.Message)
	}
	if _, err := fmt.Sscan(string(out), &v.Major, &v.Minor, &v.Micro); err != nil {
		return v, fmt.Errorf("asking the board for its firmware version: unexpected answer %.60q", out)
	}
	return v, nil
}
