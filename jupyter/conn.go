package jupyter

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
)

// ConnectionInfo is the content of a Jupyter connection file.
type ConnectionInfo struct {
	Transport       string `json:"transport"` // "tcp" or "ipc"
	IP              string `json:"ip"`        // tcp: address to bind; ipc: path prefix
	ShellPort       int    `json:"shell_port"`
	IOPubPort       int    `json:"iopub_port"`
	StdinPort       int    `json:"stdin_port"`
	ControlPort     int    `json:"control_port"`
	HBPort          int    `json:"hb_port"`
	Key             string `json:"key"`              // "" disables signing
	SignatureScheme string `json:"signature_scheme"` // only "hmac-sha256" ("" means that too)
	KernelName      string `json:"kernel_name"`
}

// SupportedSignatureScheme is the only signature scheme Serve accepts.
const SupportedSignatureScheme = "hmac-sha256"

// ReadConnectionFile reads and checks a connection file.
func ReadConnectionFile(path string) (ConnectionInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ConnectionInfo{}, fmt.Errorf("read connection file: %w", err)
	}
	var info ConnectionInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return ConnectionInfo{}, fmt.Errorf("connection file %s: not valid JSON: %w", path, err)
	}
	if err := info.check(true); err != nil {
		return ConnectionInfo{}, fmt.Errorf("connection file %s: %w", path, err)
	}
	return info, nil
}

// check validates the fields Serve relies on. requirePorts rejects port 0,
// which a real connection file never holds (a client could not find the kernel).
func (c ConnectionInfo) check(requirePorts bool) error {
	switch c.Transport {
	case "tcp", "ipc":
	case "":
		return errors.New("transport is missing (want \"tcp\" or \"ipc\")")
	default:
		return fmt.Errorf("transport %q is not supported (want \"tcp\" or \"ipc\")", c.Transport)
	}
	if c.SignatureScheme != "" && c.SignatureScheme != SupportedSignatureScheme {
		return fmt.Errorf("signature_scheme %q is not supported (only %q)", c.SignatureScheme, SupportedSignatureScheme)
	}
	if c.Transport == "ipc" && c.IP == "" {
		return errors.New("ip (the ipc path prefix) is missing")
	}
	seen := map[int]string{}
	for _, p := range c.ports() {
		if p.port < 0 || p.port > 65535 || (requirePorts && p.port == 0) {
			return fmt.Errorf("%s_port %d is not a valid port", p.name, p.port)
		}
		if other, dup := seen[p.port]; dup && p.port != 0 {
			return fmt.Errorf("%s_port and %s_port are both %d", other, p.name, p.port)
		}
		seen[p.port] = p.name
	}
	return nil
}

type namedPort struct {
	name string
	port int
}

func (c ConnectionInfo) ports() []namedPort {
	return []namedPort{
		{"shell", c.ShellPort}, {"iopub", c.IOPubPort}, {"stdin", c.StdinPort},
		{"control", c.ControlPort}, {"hb", c.HBPort},
	}
}

// endpoint is the ZMQ address for one port: tcp://ip:port, or for ipc the
// file "<ip>-<port>" as jupyter_client names it.
func (c ConnectionInfo) endpoint(port int) string {
	if c.Transport == "ipc" {
		return "ipc://" + c.IP + "-" + strconv.Itoa(port)
	}
	ip := c.IP
	if ip == "" {
		ip = "127.0.0.1" // never all interfaces by accident
	}
	return "tcp://" + net.JoinHostPort(ip, strconv.Itoa(port))
}
