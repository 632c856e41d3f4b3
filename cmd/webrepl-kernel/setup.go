package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"webrepl-kernel/boardsetup"
	"webrepl-kernel/kernelspec"
)

const setupAbout = `Set up a board on USB serial for the kernel: enable WebREPL with a password (what
MicroPython's webrepl_setup writes), add the Wi-Fi connection to boot.py (the old one kept as
boot.py.bak), reset the board, wait for it to join the network, check that WebREPL answers at
its address and install the kernelspec for it. The board is found on USB serial when it is the
only port there (--list shows them); --port names it. Passwords are asked on the terminal, or
read from stdin one a line (WebREPL's, then the Wi-Fi key) when it is not one.`

func runSetup(ctx context.Context, fs *flag.FlagSet, args []string) error {
	check := kernelspec.InstallFlags(fs)
	cfg := boardsetup.Config{}
	var list bool
	fs.StringVar(&cfg.Port, "port", "", "the board's serial `port` (/dev/ttyUSB0, /dev/cu.usbserial-0001, COM3); default: the only USB serial port found")
	fs.IntVar(&cfg.Baud, "baud", 0, "baud rate (default 115200)")
	fs.BoolVar(&list, "list", false, "list the USB serial ports found and exit")
	fs.StringVar(&cfg.SSID, "wifi-ssid", "", "name of the Wi-Fi network the board joins at boot (required)")
	fs.StringVar(&cfg.Key, "wifi-key", "", "its key (default: asked, or read from stdin; empty for an open network: --wifi-key '')")
	fs.IntVar(&cfg.WebREPLPort, "webrepl-port", 8266, "TCP port of the board's WebREPL")
	fs.DurationVar(&cfg.JoinTimeout, "join-timeout", 30*time.Second, "how long the board may take to join the network")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if list {
		ports, err := boardsetup.Ports()
		if err != nil {
			return err
		}
		if len(ports) == 0 {
			fmt.Println("no USB serial ports found")
		}
		for _, p := range ports {
			fmt.Println(p)
		}
		return nil
	}
	ks, err := check()
	if err != nil {
		return badValue("%v", err)
	}
	if ks.URL != "" {
		return usage("--url: setup finds the board's address itself")
	}
	if cfg.SSID == "" {
		return usage("--wifi-ssid is required")
	}
	keyGiven := false
	fs.Visit(func(f *flag.Flag) { keyGiven = keyGiven || f.Name == "wifi-key" })
	ask, err := newAsker()
	if err != nil {
		return err
	}
	defer ask.close()
	if ks.Password == "" {
		if ks.Password, err = ask.secret("New WebREPL password (4-9 characters): ", true); err != nil {
			return err
		}
	}
	if err := boardsetup.CheckPassword(ks.Password); err != nil {
		return badValue("%v", err)
	}
	if !keyGiven {
		if cfg.Key, err = ask.secret(fmt.Sprintf("Wi-Fi key of %q: ", cfg.SSID), false); err != nil {
			return err
		}
	}
	cfg.Password = ks.Password
	cfg.Kernelspec = ks
	cfg.Progress = func(line string) { fmt.Fprintln(os.Stderr, line) }
	res, err := boardsetup.Run(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Printf("The board is at %s; kernelspec %s installed in %s\n", res.URL, firstNonEmpty(ks.Name, kernelspec.DefaultName), res.KernelSpec)
	return nil
}

// asker reads secrets: masked on the controlling terminal when stdin is
// one, else a line each from stdin.
type asker struct {
	tty   *os.File
	lines *bufio.Reader
}

func newAsker() (*asker, error) {
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err == nil {
			return &asker{tty: tty}, nil
		}
	}
	return &asker{lines: bufio.NewReader(os.Stdin)}, nil
}

func (a *asker) close() {
	if a.tty != nil {
		a.tty.Close()
	}
}

// secret reads one; confirm asks twice on a terminal.
func (a *asker) secret(prompt string, confirm bool) (string, error) {
	if a.tty == nil {
		line, err := a.lines.ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			return "", errors.New("stdin ended before the " + strings.TrimSuffix(strings.TrimSpace(prompt), ":") + " (give it as a line on stdin or its flag)")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	read := func(prompt string) (string, error) {
		fmt.Fprint(a.tty, prompt)
		var line string
		err := withoutEcho(a.tty, func() error {
			var err error
			line, err = bufio.NewReader(a.tty).ReadString('\n')
			return err
		})
		fmt.Fprintln(a.tty)
		return strings.TrimRight(line, "\r\n"), err
	}
	first, err := read(prompt)
	if err != nil || !confirm {
		return first, err
	}
	again, err := read("Again: ")
	if err != nil {
		return "", err
	}
	if again != first {
		return "", errors.New("the two passwords differ; run setup again")
	}
	return first, nil
}
