// Package serialport opens a serial port (a board's USB serial link) as a
// raw byte stream: 8 data bits, no parity, one stop bit, no flow control,
// no echo and no line editing, at the baud rate asked for, and held
// exclusively so a second opener is refused rather than sharing the bytes.
// It knows nothing of MicroPython. Linux and macOS (termios via
// golang.org/x/sys/unix), Windows (COM ports through
// golang.org/x/sys/windows); elsewhere Open says serial ports are not
// available on this system.
package serialport

import (
	"errors"
	"time"
)

// DefaultBaud is the rate MicroPython's REPL uses on every port's UART.
const DefaultBaud = 115200

var (
	// ErrBusy: another process holds the port open.
	ErrBusy = errors.New("the serial port is in use by another program")
	// ErrUnsupported: this system has no serial port support in this build.
	ErrUnsupported = errors.New("serial ports are not available on this system in this build")
	// ErrNotFound: no device at that path (unplugged, or renamed when
	// plugged in again).
	ErrNotFound = errors.New("no such serial port")
)

// openError is a one-line message that matches a sentinel (ErrBusy,
// ErrNotFound) and the cause underneath.
type openError struct {
	msg   string
	kind  error
	cause error
}

func (e *openError) Error() string   { return e.msg }
func (e *openError) Unwrap() []error { return []error{e.kind, e.cause} }

// Port is an open serial port. Read and Write may be called from different
// goroutines; Close ends a Read that is waiting.
type Port interface {
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	// SetWriteDeadline bounds the next writes (a port whose other end
	// stopped reading, with hardware flow control, say).
	SetWriteDeadline(t time.Time) error
	Close() error
	Name() string
}
