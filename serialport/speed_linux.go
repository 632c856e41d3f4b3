//go:build linux

package serialport

import (
	"fmt"

	"golang.org/x/sys/unix"
)

const (
	ioctlGetTermios = unix.TCGETS
	ioctlSetTermios = unix.TCSETS
)

var speeds = map[int]uint32{
	1200: unix.B1200, 2400: unix.B2400, 4800: unix.B4800, 9600: unix.B9600, 19200: unix.B19200,
	38400: unix.B38400, 57600: unix.B57600, 115200: unix.B115200, 230400: unix.B230400,
	460800: unix.B460800, 500000: unix.B500000, 576000: unix.B576000, 921600: unix.B921600,
	1000000: unix.B1000000, 1500000: unix.B1500000, 2000000: unix.B2000000,
}

func speedFor(baud int) (uint32, error) {
	if s, ok := speeds[baud]; ok {
		return s, nil
	}
	return 0, fmt.Errorf("baud rate %d is not one this system offers (try 115200, 230400, 460800 or 921600)", baud)
}

func setSpeed(t *unix.Termios, speed uint32) {
	t.Cflag = t.Cflag&^unix.CBAUD | speed
	t.Ispeed, t.Ospeed = speed, speed
}
