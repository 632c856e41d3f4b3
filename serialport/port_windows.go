//go:build windows

package serialport

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Supported reports whether Open can open ports on this system.
func Supported() bool { return true }

// DCB flag bits (winbase.h's DCB bit fields, in declaration order).
const (
	dcbBinary         = 1 << 0
	dcbParity         = 1 << 1
	dcbOutxCtsFlow    = 1 << 2
	dcbOutxDsrFlow    = 1 << 3
	dcbDtrControlMask = 3 << 4
	dcbDsrSensitivity = 1 << 6
	dcbTXContinueXoff = 1 << 7
	dcbOutX           = 1 << 8
	dcbInX            = 1 << 9
	dcbErrorChar      = 1 << 10
	dcbNull           = 1 << 11
	dcbRtsControlMask = 3 << 12
	dcbAbortOnError   = 1 << 14
	comBufferSize     = 4096
	maxDword          = 0xFFFFFFFF
	dcbOffFlags       = dcbParity | dcbOutxCtsFlow | dcbOutxDsrFlow | dcbDtrControlMask | dcbDsrSensitivity | dcbOutX | dcbInX | dcbErrorChar | dcbNull | dcbRtsControlMask | dcbAbortOnError
	purgeAll          = windows.PURGE_TXABORT | windows.PURGE_RXABORT | windows.PURGE_TXCLEAR | windows.PURGE_RXCLEAR
)

// port is a COM port opened for overlapped I/O, so a Read that waits does
// not hold up a Write (synchronous I/O on one handle is serialised) and
// Close can cancel both.
type port struct {
	h    windows.Handle
	name string // COM3, as the user wrote it

	closed atomic.Bool
	// inUse is held shared by Read and Write while they use h, and
	// exclusively by Close before it closes h, so h is never closed (and
	// its value reused) under a call.
	inUse           sync.RWMutex
	readMu, writeMu sync.Mutex
	rov, wov        windows.Overlapped // on the heap: the system writes them while I/O is pending
	rbuf, wbuf      []byte             // likewise the bytes themselves
	events          uint32             // and WaitCommEvent's mask
	deadline        atomic.Int64       // write deadline, UnixNano; 0: none
}

// Open opens the COM port path (COM3, com3 or \\.\COM3) at baud (0:
// DefaultBaud): 8N1, binary, no flow control, DTR and RTS on (as opening a
// tty on Linux and macOS leaves them, so an ESP32's auto-reset circuit
// keeps the board running). Windows opens a COM port for one program only,
// so a second opener gets ErrBusy.
func Open(path string, baud int) (Port, error) {
	if baud <= 0 {
		baud = DefaultBaud
	}
	name := strings.TrimPrefix(path, `\\.\`)
	// The \\.\ form is the only one that reaches COM10 and up; it works
	// for COM1 to COM9 too.
	dev, err := windows.UTF16PtrFromString(`\\.\` + name)
	if err != nil {
		return nil, fmt.Errorf("serial port %q: %w", path, err)
	}
	h, err := windows.CreateFile(dev, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_OVERLAPPED, 0)
	if err != nil {
		return nil, describeOpenError(name, err)
	}
	p := &port{h: h, name: name, rbuf: make([]byte, comBufferSize), wbuf: make([]byte, comBufferSize)}
	if err := p.setup(uint32(baud)); err != nil {
		windows.CloseHandle(h)
		return nil, err
	}
	for _, ov := range []*windows.Overlapped{&p.rov, &p.wov} {
		ev, err := windows.CreateEvent(nil, 1, 0, nil)
		if err != nil {
			p.closeEvents()
			windows.CloseHandle(h)
			return nil, fmt.Errorf("serial port %s: %w", name, err)
		}
		ov.HEvent = ev
	}
	return p, nil
}

func (p *port) setup(baud uint32) error {
	var dcb windows.DCB
	dcb.DCBlength = uint32(unsafe.Sizeof(dcb))
	if err := windows.GetCommState(p.h, &dcb); err != nil {
		return fmt.Errorf("serial port %s is not a serial device: %w", p.name, err)
	}
	dcb.BaudRate = baud
	dcb.Flags = dcb.Flags&^dcbOffFlags | dcbBinary | dcbTXContinueXoff | windows.DTR_CONTROL_ENABLE | windows.RTS_CONTROL_ENABLE
	dcb.ByteSize = 8
	dcb.Parity = windows.NOPARITY
	dcb.StopBits = windows.ONESTOPBIT
	if err := windows.SetCommState(p.h, &dcb); err != nil {
		return fmt.Errorf("serial port %s: setting baud rate %d, 8N1: %w", p.name, baud, err)
	}
	// A ReadFile returns at once with what has arrived (perhaps nothing);
	// Read then waits for a byte with WaitCommEvent(EV_RXCHAR). (The
	// documented MAXDWORD, MAXDWORD, N timeouts, "return as soon as a byte
	// is there", are not honoured by Wine, where a read waits to fill its
	// buffer.) Writes are bounded by SetWriteDeadline, not here.
	t := windows.CommTimeouts{ReadIntervalTimeout: maxDword}
	if err := windows.SetCommTimeouts(p.h, &t); err != nil {
		return fmt.Errorf("serial port %s: setting its timeouts: %w", p.name, err)
	}
	if err := windows.SetCommMask(p.h, windows.EV_RXCHAR); err != nil {
		return fmt.Errorf("serial port %s: asking for its receive events: %w", p.name, err)
	}
	_ = windows.SetupComm(p.h, comBufferSize, comBufferSize)
	if err := windows.PurgeComm(p.h, purgeAll); err != nil {
		return fmt.Errorf("serial port %s: clearing its buffers: %w", p.name, err)
	}
	return nil
}

func describeOpenError(name string, err error) error {
	switch {
	case errors.Is(err, windows.ERROR_FILE_NOT_FOUND), errors.Is(err, windows.ERROR_PATH_NOT_FOUND):
		return &openError{kind: ErrNotFound, cause: err,
			msg: fmt.Sprintf("serial port %s does not exist (is the board plugged in? Device Manager lists its COM port under Ports (COM & LPT))", name)}
	case errors.Is(err, windows.ERROR_ACCESS_DENIED), errors.Is(err, windows.ERROR_SHARING_VIOLATION):
		return busyError(name, err)
	}
	return fmt.Errorf("serial port %s: %w", name, err)
}

func busyError(name string, cause error) error {
	return &openError{kind: ErrBusy, cause: cause,
		msg: fmt.Sprintf("serial port %s is in use by another program (close the other serial terminal, Thonny, mpremote or the Arduino IDE's serial monitor)", name)}
}

// gone is a port that failed under a call: the board was unplugged (USB
// serial drivers fail pending and new I/O then). It matches io.EOF, the end
// of the port's bytes, as a hung-up tty reads on Linux.
func (p *port) gone(op string, err error) error {
	return &openError{kind: io.EOF, cause: err, msg: fmt.Sprintf("%s %s: %v", op, p.name, err)}
}

func (p *port) closedError(op string) error {
	return &os.PathError{Op: op, Path: p.name, Err: os.ErrClosed}
}

// Read waits for at least one byte and returns what has arrived, up to
// len(b). Data that came before an error is returned first, the error on
// the next call.
func (p *port) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	p.readMu.Lock()
	defer p.readMu.Unlock()
	for {
		n, err := p.readOnce(b)
		if n > 0 || err != nil {
			return n, err
		}
	}
}

// readOnce returns what has arrived, or waits for the next byte to arrive
// and returns nothing.
func (p *port) readOnce(b []byte) (int, error) {
	p.inUse.RLock()
	defer p.inUse.RUnlock()
	if p.closed.Load() {
		return 0, p.closedError("read")
	}
	n, err := p.transfer(&p.rov, func(ov *windows.Overlapped) error {
		return windows.ReadFile(p.h, p.rbuf[:min(len(b), len(p.rbuf))], nil, ov)
	}, windows.INFINITE)
	if n > 0 {
		return copy(b, p.rbuf[:n]), nil // an error comes again on the next call
	}
	if err == nil {
		_, err = p.transfer(&p.rov, func(ov *windows.Overlapped) error {
			return windows.WaitCommEvent(p.h, &p.events, ov)
		}, windows.INFINITE)
	}
	switch {
	case err == nil:
		return 0, nil
	case p.closed.Load():
		return 0, p.closedError("read")
	}
	return 0, p.gone("read", err)
}

// Write writes all of b unless the write deadline passes first.
func (p *port) Write(b []byte) (int, error) {
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	done := 0
	for done < len(b) {
		n, err := p.writeOnce(b[done:])
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

func (p *port) writeOnce(b []byte) (int, error) {
	p.inUse.RLock()
	defer p.inUse.RUnlock()
	if p.closed.Load() {
		return 0, p.closedError("write")
	}
	wait := uint32(windows.INFINITE)
	if d := p.deadline.Load(); d != 0 {
		left := time.Until(time.Unix(0, d))
		if left <= 0 {
			return 0, &os.PathError{Op: "write", Path: p.name, Err: os.ErrDeadlineExceeded}
		}
		wait = uint32(min(left.Milliseconds()+1, maxDword-1))
	}
	chunk := copy(p.wbuf, b)
	n, err := p.transfer(&p.wov, func(ov *windows.Overlapped) error {
		return windows.WriteFile(p.h, p.wbuf[:chunk], nil, ov)
	}, wait)
	switch {
	case err == nil:
		return n, nil
	case p.closed.Load():
		return n, p.closedError("write")
	case errors.Is(err, os.ErrDeadlineExceeded):
		return n, &os.PathError{Op: "write", Path: p.name, Err: err}
	}
	return n, p.gone("write", err)
}

// transfer starts an overlapped ReadFile or WriteFile and waits for it,
// cancelling it after wait ms (os.ErrDeadlineExceeded, with what it moved).
func (p *port) transfer(ov *windows.Overlapped, start func(*windows.Overlapped) error, wait uint32) (int, error) {
	err := start(ov)
	if err != nil && err != windows.ERROR_IO_PENDING {
		return 0, err
	}
	timedOut := false
	if wait != windows.INFINITE {
		if ev, _ := windows.WaitForSingleObject(ov.HEvent, wait); ev == uint32(windows.WAIT_TIMEOUT) {
			_ = windows.CancelIoEx(p.h, ov)
			timedOut = true
		}
	}
	var n uint32
	err = windows.GetOverlappedResult(p.h, ov, &n, true)
	if timedOut && (err == nil || err == windows.ERROR_OPERATION_ABORTED) {
		return int(n), os.ErrDeadlineExceeded
	}
	return int(n), err
}

func (p *port) SetWriteDeadline(t time.Time) error {
	if t.IsZero() {
		p.deadline.Store(0)
	} else {
		p.deadline.Store(t.UnixNano())
	}
	return nil
}

func (p *port) Name() string { return p.name }

// Close cancels a Read or Write under way (they return an error matching
// os.ErrClosed), waits for them to leave the handle, and closes it.
func (p *port) Close() error {
	if p.closed.Swap(true) {
		return p.closedError("close")
	}
	// A call that started its I/O just after the cancel is cancelled on
	// the next round.
	for {
		_ = windows.CancelIoEx(p.h, nil)
		if p.inUse.TryLock() {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer p.inUse.Unlock()
	p.closeEvents()
	if err := windows.CloseHandle(p.h); err != nil {
		return fmt.Errorf("closing serial port %s: %w", p.name, err)
	}
	return nil
}

func (p *port) closeEvents() {
	for _, ov := range []*windows.Overlapped{&p.rov, &p.wov} {
		if ov.HEvent != 0 {
			windows.CloseHandle(ov.HEvent)
			ov.HEvent = 0
		}
	}
}
