//go:build darwin

package boardsetup

import (
	"path/filepath"
	"sort"
)

// listPorts globs root/dev for the call-out devices USB serial bridges get
// on macOS (cu.usbserial-…, cu.usbmodem…, cu.SLAB_USBtoUART, cu.wchusbserial…);
// their USB ids are not read.
func listPorts(root string) ([]Port, error) {
	var ports []Port
	for _, pattern := range []string{"cu.usbserial*", "cu.usbmodem*", "cu.SLAB_USBtoUART*", "cu.wchusbserial*"} {
		matches, _ := filepath.Glob(filepath.Join(root, "dev", pattern))
		for _, m := range matches {
			ports = append(ports, Port{Path: "/dev/" + filepath.Base(m)})
		}
	}
	sort.Slice(ports, func(i, j int) bool { return ports[i].Path < ports[j].Path })
	return ports, nil
}
