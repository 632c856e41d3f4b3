package boardsetup

import (
	"fmt"
	"strings"
)

// Port is a serial port that may be a board: its device path and, where the
// system says, the USB device behind it.
type Port struct {
	Path                  string // /dev/ttyUSB0, /dev/cu.usbserial-0001
	VendorID, ProductID   string // USB ids in hex ("10c4", "ea60"); "" unknown
	Product, Manufacturer string
}

// String is the port as a list shows it: path, USB ids and description.
func (p Port) String() string {
	s := p.Path
	if p.VendorID != "" {
		s += fmt.Sprintf(" (USB %s:%s", p.VendorID, p.ProductID)
		if d := strings.TrimSpace(p.Manufacturer + " " + p.Product); d != "" {
			s += " " + d
		}
		s += ")"
	}
	return s
}

// Ports lists the serial ports that may be a board on this system: USB
// serial ports (a board's USB-to-serial bridge or its own USB), not the
// motherboard's.
func Ports() ([]Port, error) { return listPorts("/") }
