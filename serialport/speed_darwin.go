//go:build darwin

package serialport

import (
	"fmt"

	"golang.org/x/sys/unix"
)

const (
	ioctlGetTermios = unix.TIOCGETA
	ioctlSetTermios = unix.TIOCSETA
)

// On macOS the termios speed fields hold the rate itself.
func speedFor(baud int) (uint32, error) {
	switch baud {
	case 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400:
		return uint32(baud), nil
	}
	return 0, fmt.Errorf("baud rate %d is not one this build sets on macOS (use 115200 or 230400)", baud)
}

func setSpeed(t *unix.Termios, speed uint32) {
	t.Ispeed, t.Ospeed = uint64(speed), uint64(speed)
}
