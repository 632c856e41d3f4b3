//go:build !linux && !darwin && !windows

package boardsetup

// listPorts: ports are not listed here; --port names one (COM3).
func listPorts(string) ([]Port, error) { return nil, nil }
