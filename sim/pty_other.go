//go:build !linux

package sim

import (
	"errors"
	"os"
)

// openPTY: the simulator's serial console is offered on Linux only.
func openPTY() (master, slave *os.File, path string, err error) {
	return nil, nil, "", errors.New("a simulated serial port is available on Linux only")
}
