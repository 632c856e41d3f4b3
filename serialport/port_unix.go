//go:build linux || darwin

package serialport

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Supported reports whether Open can open ports on this system.
func Supported() bool { return true }

type port struct {
	f *os.File
}

// Open opens the serial port at path (a device such as /dev/ttyUSB0) in raw
// mode at baud (0: DefaultBaud). The port is held exclusively (TIOCEXCL and
// an flock, as pyserial's exclusive mode takes it), so a second opener gets
// ErrBusy. A permission error names what to do about it.
func Open(path string, baud int) (Port, error) {
	if baud <= 0 {
		baud = DefaultBaud
	}
	speed, err := speedFor(baud)
	if err != nil {
		return nil, err
	}
	// Non-blocking, so the file goes through Go's poller: Close then ends a
	// Read that is waiting, and write deadlines work.
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, describeOpenError(path, err)
	}
	p := &port{f: f}
	if err := p.setup(speed); err != nil {
		f.Close()
		return nil, err
	}
	return p, nil
}

func (p *port) setup(speed uint32) error {
	name := p.f.Name()
	raw, err := p.f.SyscallConn()
	if err != nil {
		return fmt.Errorf("serial port %s: %w", name, err)
	}
	var serr error
	cerr := raw.Control(func(fd uintptr) {
		if err := unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			if errors.Is(err, unix.EWOULDBLOCK) {
				serr = busyError(name, err)
				return
			}
			serr = fmt.Errorf("serial port %s: locking it: %w", name, err)
			return
		}
		// Refuse further opens (except by root) while we hold it.
		if err := unix.IoctlSetInt(int(fd), unix.TIOCEXCL, 0); err != nil {
			serr = fmt.Errorf("serial port %s is not a terminal device: %w", name, err)
			return
		}
		t, err := unix.IoctlGetTermios(int(fd), ioctlGetTermios)
		if err != nil {
			serr = fmt.Errorf("serial port %s is not a terminal device: %w", name, err)
			return
		}
		makeRaw(t)
		setSpeed(t, speed)
		if err := unix.IoctlSetTermios(int(fd), ioctlSetTermios, t); err != nil {
			serr = fmt.Errorf("serial port %s: setting raw mode at the baud rate: %w", name, err)
		}
	})
	if cerr != nil {
		return fmt.Errorf("serial port %s: %w", name, cerr)
	}
	return serr
}

// makeRaw: bytes through unchanged both ways (no echo, no line editing, no
// CR/LF translation, no signals on Ctrl-C, no XON/XOFF), 8N1, receiver on,
// modem lines ignored; a read returns as soon as one byte is there.
func makeRaw(t *unix.Termios) {
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF | unix.IXANY | unix.INPCK
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB | unix.CSTOPB | unix.CRTSCTS
	t.Cflag |= unix.CS8 | unix.CREAD | unix.CLOCAL
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
}

func describeOpenError(path string, err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return &openError{kind: ErrNotFound, cause: err,
			msg: fmt.Sprintf("serial port %s does not exist (is the board plugged in? the name may change when it is plugged in again)", path)}
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("serial port %s: permission denied: %s", path, permissionHint(path))
	case errors.Is(err, syscall.EBUSY):
		return busyError(path, err)
	}
	return fmt.Errorf("serial port %s: %w", path, err)
}

func busyError(path string, cause error) error {
	return &openError{kind: ErrBusy, cause: cause,
		msg: fmt.Sprintf("serial port %s is in use by another program (close the other serial terminal, Thonny or mpremote)", path)}
}

// permissionHint names the group that owns the device, which the user must
// join (dialout on Debian and Ubuntu, uucp on Arch, ...).
func permissionHint(path string) string {
	var st unix.Stat_t
	if unix.Stat(path, &st) == nil {
		if g, err := user.LookupGroupId(fmt.Sprint(st.Gid)); err == nil && g.Name != "root" {
			return fmt.Sprintf("join the group %q that owns it (sudo usermod -aG %s $USER), then log out and in again", g.Name, g.Name)
		}
	}
	return "your user may not open it; on Linux join the group that owns it (often dialout), then log out and in again"
}

func (p *port) Read(b []byte) (int, error)         { return p.f.Read(b) }
func (p *port) Write(b []byte) (int, error)        { return p.f.Write(b) }
func (p *port) SetWriteDeadline(t time.Time) error { return p.f.SetWriteDeadline(t) }
func (p *port) Name() string                       { return p.f.Name() }

// Close gives up exclusive use first: the kernel keeps TIOCEXCL until the
// terminal's last close, which another holder of the port (the simulator's
// serial console keeps its own side open) would otherwise put off for ever.
func (p *port) Close() error {
	if raw, err := p.f.SyscallConn(); err == nil {
		_ = raw.Control(func(fd uintptr) { _ = unix.IoctlSetInt(int(fd), unix.TIOCNXCL, 0) })
	}
	return p.f.Close()
}
