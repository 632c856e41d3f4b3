//go:build !linux && !darwin && !windows

package serialport

import "fmt"

// Supported reports whether Open can open ports on this system.
func Supported() bool { return false }

// Open says serial ports are not available on this system.
func Open(path string, baud int) (Port, error) {
	return nil, fmt.Errorf("serial port %s: %w", path, ErrUnsupported)
}
