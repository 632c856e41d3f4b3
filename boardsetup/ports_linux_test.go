package boardsetup

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestPortsFromSysfs: a tree shaped like Linux's sysfs, with a CP2102 on
// ttyUSB0, a board's own USB (CDC ACM) on ttyACM0 and a motherboard UART on
// ttyS0: the two USB ones are listed with their USB device's details.
func TestPortsFromSysfs(t *testing.T) {
	root := t.TempDir()
	mk := func(dir string, files map[string]string) {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(root, dir, name), []byte(content+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	link := func(target, name string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(root, target), filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	usb1 := "sys/devices/pci0000:00/usb1/1-1"
	mk(usb1, map[string]string{"idVendor": "10c4", "idProduct": "ea60", "product": "CP2102 USB to UART Bridge Controller", "manufacturer": "Silicon Labs"})
	mk(usb1+"/1-1:1.0/ttyUSB0", nil)
	usb2 := "sys/devices/pci0000:00/usb1/1-2"
	mk(usb2, map[string]string{"idVendor": "303a", "idProduct": "1001", "product": "USB JTAG/serial debug unit", "manufacturer": "Espressif"})
	mk(usb2+"/1-2:1.0", nil)
	mk("sys/devices/platform/serial8250/tty/ttyS0", nil)
	mk("sys/class/tty/tty0", nil) // a virtual terminal: no device
	link(usb1+"/1-1:1.0/ttyUSB0", "sys/class/tty/ttyUSB0/device")
	link(usb2+"/1-2:1.0", "sys/class/tty/ttyACM0/device")
	link("sys/devices/platform/serial8250", "sys/class/tty/ttyS0/device")

	got, err := listPorts(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []Port{
		{Path: "/dev/ttyACM0", VendorID: "303a", ProductID: "1001", Product: "USB JTAG/serial debug unit", Manufacturer: "Espressif"},
		{Path: "/dev/ttyUSB0", VendorID: "10c4", ProductID: "ea60", Product: "CP2102 USB to UART Bridge Controller", Manufacturer: "Silicon Labs"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ports:\n%+v\nwant\n%+v", got, want)
	}
	if s := want[1].String(); s != "/dev/ttyUSB0 (USB 10c4:ea60 Silicon Labs CP2102 USB to UART Bridge Controller)" {
		t.Fatalf("String() = %q", s)
	}
}
