package boardsetup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"webrepl-kernel/kernelspec"
	"webrepl-kernel/webrepl"
)

// Config is what setup needs; Port and the kernelspec's name and place may
// be left empty.
type Config struct {
	// Port is the board's serial port (/dev/ttyUSB0, COM3, or a serial://
	// URL); "" finds it (Ports) when there is exactly one.
	Port string
	Baud int // 0: the default (115200)
	// Password is WebREPL's, 4 to 9 characters (webrepl_setup's rule).
	Password string
	// SSID and Key are the Wi-Fi network the board joins at boot.
	SSID, Key string
	// WebREPLPort is where the board's WebREPL listens (8266, webrepl.start's
	// default).
	WebREPLPort int
	// JoinTimeout bounds the wait for the board to join the network (0: 30 s).
	JoinTimeout time.Duration
	// Kernelspec is where and under which name to install; URL and Password
	// are filled in by Run.
	Kernelspec kernelspec.Options
	// Progress, if set, is told each step as it starts (one line).
	Progress func(line string)
	// AfterConfigure, if set, is called once boot.py has been written (tests).
	AfterConfigure func()
}

// Result is what setup did.
type Result struct {
	Port       string // the serial port used
	BootPy     string // the boot.py written
	Address    string // the board's IP address on the network
	URL        string // its WebREPL URL
	KernelSpec string // the kernelspec's directory
}

// CheckPassword applies webrepl_setup's rule: 4 to 9 characters.
func CheckPassword(pw string) error {
	if n := len(pw); n < 4 || n > 9 {
		return fmt.Errorf("the WebREPL password must be 4 to 9 characters (it is %d)", n)
	}
	return nil
}

// Run sets the board up; see the package comment. Each error is one line
// saying what to do.
func Run(ctx context.Context, cfg Config) (Result, error) {
	var res Result
	if err := CheckPassword(cfg.Password); err != nil {
		return res, err
	}
	if cfg.SSID == "" {
		return res, errors.New("no Wi-Fi network given: name it with --wifi-ssid")
	}
	if cfg.WebREPLPort == 0 {
		cfg.WebREPLPort = 8266
	}
	if cfg.JoinTimeout <= 0 {
		cfg.JoinTimeout = 30 * time.Second
	}
	step := func(format string, args ...any) {
		if cfg.Progress != nil {
			cfg.Progress(fmt.Sprintf(format, args...))
		}
	}
	port, err := choosePort(cfg.Port)
	if err != nil {
		return res, err
	}
	res.Port = port
	serialURL := port
	if !webrepl.IsSerial(port) {
		dev := port
		if !strings.HasPrefix(strings.ToUpper(port), "COM") {
			if dev, err = filepath.Abs(port); err != nil {
				return res, fmt.Errorf("serial port %s: %w", port, err)
			}
		}
		serialURL = webrepl.SerialScheme + "://" + dev
	}
	if cfg.Baud > 0 {
		serialURL += "?baud=" + strconv.Itoa(cfg.Baud)
	}
	step("Connecting to the board on %s", port)
	s, err := webrepl.Dial(ctx, serialURL, webrepl.Options{})
	if err != nil {
		return res, serialError(port, err)
	}
	defer s.Close()

	step("Enabling WebREPL and adding Wi-Fi network %q to boot.py (the old one kept as boot.py.bak)", cfg.SSID)
	var out bytes.Buffer
	r, err := s.Exec(ctx, configureProgram(cfg.Password, cfg.SSID, cfg.Key), &out)
	if err != nil {
		return res, fmt.Errorf("writing boot.py over %s: %w; run setup again (the board keeps its old boot.py until the new one is complete)", port, err)
	}
	if r.Exception != nil {
		return res, fmt.Errorf("writing boot.py on the board failed: %s: %s", r.Exception.Type, r.Exception.Message)
	}
	res.BootPy = out.String()
	if cfg.AfterConfigure != nil {
		cfg.AfterConfigure()
	}

	step("Resetting the board")
	if err := s.HardReset(ctx); err != nil {
		return res, fmt.Errorf("resetting the board over %s: %w; press its reset button and run setup again", port, err)
	}
	step("Waiting for the board to join %q", cfg.SSID)
	out.Reset()
	r, err = s.Exec(ctx, wlanProgram(int(cfg.JoinTimeout/time.Millisecond)), &out)
	if err != nil {
		return res, fmt.Errorf("asking the board for its network status: %w", err)
	}
	if r.Exception != nil {
		return res, fmt.Errorf("the board's network module failed: %s: %s", r.Exception.Type, r.Exception.Message)
	}
	addr, err := joinResult(strings.TrimSpace(out.String()), cfg)
	if err != nil {
		return res, err
	}
	res.Address = addr
	res.URL = "ws://" + net.JoinHostPort(addr, strconv.Itoa(cfg.WebREPLPort)) + "/"
	s.Close()

	step("The board joined %q as %s; checking WebREPL at %s", cfg.SSID, addr, res.URL)
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	ws, err := webrepl.Dial(dctx, res.URL, webrepl.Options{Password: cfg.Password})
	cancel()
	if err != nil {
		return res, fmt.Errorf("the board joined %q as %s but WebREPL does not answer at %s (%v): check that this computer is on the same network and nothing blocks port %d", cfg.SSID, addr, res.URL, err, cfg.WebREPLPort)
	}
	ws.Close()

	ks := cfg.Kernelspec
	ks.URL, ks.Password = res.URL, cfg.Password
	dir, err := kernelspec.Install(ctx, ks)
	if err != nil {
		return res, fmt.Errorf("installing the kernelspec: %w", err)
	}
	res.KernelSpec = dir
	return res, nil
}

// choosePort returns the port given, or the only candidate found.
func choosePort(given string) (string, error) {
	if given != "" {
		return given, nil
	}
	ports, err := Ports()
	if err != nil {
		return "", err
	}
	switch len(ports) {
	case 0:
		return "", errors.New("no board found on USB serial: plug it in with a data cable (a charge-only cable carries no data) and check it shows up (`webrepl-kernel setup --list`), or name its port with --port")
	case 1:
		return ports[0].Path, nil
	}
	names := make([]string, len(ports))
	for i, p := range ports {
		names[i] = p.String()
	}
	return "", fmt.Errorf("several serial ports found; choose the board's with --port: %s", strings.Join(names, ", "))
}

// serialError turns a failure to reach the board on its port into what to do.
func serialError(port string, err error) error {
	switch {
	case errors.Is(err, os.ErrPermission) || strings.Contains(err.Error(), "permission denied"):
		return err // serialport names the group to join
	case errors.Is(err, webrepl.ErrBusy):
		return err // names the programs to close
	case errors.Is(err, webrepl.ErrUnreachable):
		return fmt.Errorf("%v; `webrepl-kernel setup --list` shows the ports found", err)
	}
	return fmt.Errorf("no MicroPython REPL on %s (%v): is MicroPython flashed on the board, and is this its port?", port, err)
}

// joinResult reads py/wlan.py's line.
func joinResult(line string, cfg Config) (string, error) {
	word, rest, _ := strings.Cut(line, " ")
	switch word {
	case "ok":
		if rest == "" || rest == "0.0.0.0" {
			return "", fmt.Errorf("the board joined %q but has no address: check the network's DHCP", cfg.SSID)
		}
		return rest, nil
	case "wrong-password":
		return "", fmt.Errorf("the board could not join %q: wrong Wi-Fi password; run setup again with the right --wifi-key", cfg.SSID)
	case "no-ap":
		return "", fmt.Errorf("the board found no network %q: check the name (ESP32 boards see 2.4 GHz networks only) and that it is in range, then run setup again", cfg.SSID)
	case "handshake":
		return "", fmt.Errorf("the board found %q but the Wi-Fi handshake failed, most often a wrong password; run setup again with the right --wifi-key", cfg.SSID)
	case "timeout":
		return "", fmt.Errorf("the board did not join %q within %s (status %s): check the network's name and key, then run setup again", cfg.SSID, cfg.JoinTimeout, rest)
	}
	return "", fmt.Errorf("the board could not join %q (status %s): check the network's name and key, then run setup again", cfg.SSID, strings.TrimSpace(rest))
}
