//go:build windows

package boardsetup

import (
	"errors"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/windows/registry"
)

// listPorts reads the COM ports Windows has now from
// HKLM\HARDWARE\DEVICEMAP\SERIALCOMM (value name: the driver's device,
// data: COM3), leaving out the motherboard's own ports (\Device\Serial0
// of serial.sys). Their USB ids are not read.
func listPorts(string) ([]Port, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `HARDWARE\DEVICEMAP\SERIALCOMM`, registry.QUERY_VALUE)
	if err != nil {
		if errors.Is(err, registry.ErrNotExist) {
			return nil, nil // no COM port at all
		}
		return nil, err
	}
	defer k.Close()
	names, err := k.ReadValueNames(0)
	if err != nil {
		return nil, err
	}
	var ports []Port
	for _, n := range names {
		if strings.HasPrefix(strings.ToLower(n), `\device\serial`) {
			continue
		}
		com, _, err := k.GetStringValue(n)
		if err != nil || com == "" {
			continue
		}
		ports = append(ports, Port{Path: com})
	}
	sort.Slice(ports, func(i, j int) bool { return comLess(ports[i].Path, ports[j].Path) })
	return ports, nil
}

// comLess orders COM2 before COM10.
func comLess(a, b string) bool {
	na, ea := strconv.Atoi(strings.TrimPrefix(strings.ToUpper(a), "COM"))
	nb, eb := strconv.Atoi(strings.TrimPrefix(strings.ToUpper(b), "COM"))
	if ea == nil && eb == nil && na != nb {
		return na < nb
	}
	return a < b
}
