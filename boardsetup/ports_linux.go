//go:build linux

package boardsetup

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// listPorts reads root/sys/class/tty: each tty whose device sits under a
// USB device (a directory with idVendor a few levels up from
// /sys/class/tty/NAME/device) is a candidate, described by that USB
// device's idVendor, idProduct, manufacturer and product.
func listPorts(root string) ([]Port, error) {
	classDir := filepath.Join(root, "sys", "class", "tty")
	entries, err := os.ReadDir(classDir)
	if err != nil {
		return nil, nil // no sysfs: no port found
	}
	var ports []Port
	for _, e := range entries {
		dev, err := filepath.EvalSymlinks(filepath.Join(classDir, e.Name(), "device"))
		if err != nil {
			continue // a virtual terminal
		}
		usb := ""
		for dir, i := dev, 0; i < 4 && dir != "/" && dir != "."; dir, i = filepath.Dir(dir), i+1 {
			if _, err := os.Stat(filepath.Join(dir, "idVendor")); err == nil {
				usb = dir
				break
			}
		}
		if usb == "" {
			continue
		}
		read := func(name string) string {
			b, _ := os.ReadFile(filepath.Join(usb, name))
			return strings.TrimSpace(string(b))
		}
		ports = append(ports, Port{Path: "/dev/" + e.Name(), VendorID: read("idVendor"), ProductID: read("idProduct"),
			Product: read("product"), Manufacturer: read("manufacturer")})
	}
	sort.Slice(ports, func(i, j int) bool { return ports[i].Path < ports[j].Path })
	return ports, nil
}
