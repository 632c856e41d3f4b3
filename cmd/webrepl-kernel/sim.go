package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"webrepl-kernel/sim"
)

// runSim runs a simulated board in the foreground until ctx ends
// (SIGINT/SIGTERM), or until the board dies on its own: then the cause is
// returned, so main prints it on stderr and exits 1 whether or not -v
// was given.
func runSim(ctx context.Context, fs *flag.FlagSet, args []string) error {
	var opts sim.Options
	var verbose bool
	var boards int
	var serial, wifi string
	fs.StringVar(&opts.Addr, "addr", "127.0.0.1:8266", "listen address (port 0 picks a free port)")
	fs.StringVar(&opts.Password, "password", "", "WebREPL password, at most 9 bytes (required)")
	fs.StringVar(&opts.Profile, "profile", "esp32", "board and link model: esp32, esp8266 or ideal")
	fs.StringVar(&opts.Firmware, "firmware", sim.DefaultFirmware, "MicroPython release modelled: 1.28 (the ESP32 REPL reads the socket while it waits) or 1.27 (it sees input only every drain period)")
	fs.DurationVar(&opts.Latency, "latency", 0, "one-way network delay added to each direction")
	fs.StringVar(&opts.FlashDir, "flash", "", "host folder holding the board's files (default: a temporary folder)")
	fs.DurationVar(&opts.ResetAfter, "reset-after", sim.DefaultResetAfter, "press reset when a Ctrl-C is not obeyed for this long")
	fs.DurationVar(&opts.DrainPeriod, "drain-period", sim.DefaultDrainPeriod, "esp32: how often received input is moved to the board's input queue")
	fs.BoolVar(&opts.DeafWhilePrinting, "deaf-while-printing", false, "esp32: read nothing the client sends (Ctrl-C included) while a program prints in a loop, as an ESP32 that never reaches its socket poll")
	fs.DurationVar(&opts.BootDelay, "boot-delay", sim.DefaultBootDelay, "time a soft reset takes before the server accepts again (hard reset: twice)")
	fs.IntVar(&boards, "boards", 1, "how many boards: more than 1 runs them in one Node process, on consecutive ports from --addr's (each its own flash folder below --flash)")
	fs.StringVar(&serial, "serial", "", "offer the board's console on a pseudo-terminal, a symlink to it made at `PATH` (- for none: its /dev/pts path is printed), with WebREPL off until the board's boot.py starts it, as on a fresh ESP32 (Linux)")
	fs.StringVar(&wifi, "wifi", "", "`SSID:KEY` of the one Wi-Fi network the board can join (its address is then --addr's host); default: any network joins")
	fs.BoolVar(&verbose, "v", false, "log the board's events on stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if serial != "" {
		if opts.Password != "" {
			return usage("--password and --serial exclude each other: with --serial the board's webrepl_cfg.py holds the password")
		}
		opts.Serial = true
		if serial != "-" {
			opts.SerialLink = serial
		}
	} else if opts.Password == "" {
		return usage("--password is required (or --serial)")
	}
	if wifi != "" {
		ssid, key, ok := strings.Cut(wifi, ":")
		if !ok || ssid == "" {
			return usage("--wifi %q: want SSID:KEY", wifi)
		}
		opts.WiFi = &sim.WiFi{SSID: ssid, Key: key}
	}
	if boards < 1 {
		return badValue("--boards %d: want 1 or more", boards)
	}
	if verbose {
		opts.Log = os.Stderr
	}
	if boards > 1 && serial != "" {
		return usage("--serial is for one board")
	}
	if boards > 1 {
		return runSimBoards(ctx, opts, boards)
	}
	startCtx, cancel := context.WithTimeout(ctx, 5*time.Minute) // includes a first `npm ci`
	board, err := sim.Start(startCtx, opts)
	cancel()
	if err != nil {
		return err
	}
	if opts.Serial {
		fmt.Printf("Simulated %s board, MicroPython %s: serial console at %s; WebREPL off until its boot.py starts it (then at %s); Ctrl-C stops it\n", opts.Profile, board.Firmware(), board.SerialPath(), board.URL())
	} else {
		fmt.Printf("Simulated %s board, MicroPython %s: WebREPL at %s (password %q); Ctrl-C stops it\n", opts.Profile, board.Firmware(), board.URL(), board.Password())
	}
	select {
	case <-ctx.Done():
		return board.Close()
	case <-board.Done():
		cause := board.Err()
		_ = board.Close() // removes a temporary flash folder
		if cause == nil {
			cause = errors.New("stopped for an unknown reason")
		}
		return fmt.Errorf("the simulated board died: %w", cause)
	}
}
