package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"webrepl-kernel/kernelspec"
	"webrepl-kernel/notebook"
	"webrepl-kernel/sim"
)

// runAbout is `run -h`'s description.
const runAbout = `Run notebooks headless: each notebook gets a fresh kernel (this binary), its code
cells run in order, one line per cell, then a summary. A cell that raises fails the
notebook unless it is tagged raises-exception; the first failure ends that notebook.
Notebooks for another kernel, or with no kernelspec, are skipped with a note.
--check compares each cell's outputs with the stored ones and shows a diff (cells tagged
output-varies excepted). --output DIR writes the executed notebooks there; the
notebooks' own folder updates their stored outputs in place.
input(): a cell's metadata {"webrepl": {"input": ["line", ...]}} answers its input()
calls in order; without it input() raises OSError on the board, as under nbclient.
Exit status 1 when a notebook failed.

The rehearsal: --boards FILE runs every notebook on every board of a board map (the
file the kernel reads in a classroom; see README), --jobs boards at once, the notebooks
of one board in order. It prints a board × lesson table (ok, the failing cell, or why
the board could not be used: unreachable, wrong password, busy, no password), the
problems and a summary; --report FILE writes it all as JSON. Exit status 1 when
anything was not ok.`

// secondsOrDuration is a flag holding "120" (seconds) or "2m".
type secondsOrDuration struct{ d *time.Duration }

func (s secondsOrDuration) String() string {
	if s.d == nil {
		return ""
	}
	return strconv.FormatFloat(s.d.Seconds(), 'f', -1, 64)
}

func (s secondsOrDuration) Set(v string) error {
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		*s.d = time.Duration(secs * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return fmt.Errorf("want seconds (120) or a duration (2m)")
	}
	*s.d = d
	return nil
}

func runRun(ctx context.Context, fs *flag.FlagSet, args []string) error {
	conn := &connFlags{}
	fs.StringVar(&conn.url, "url", os.Getenv(kernelspec.EnvURL), "board address, e.g. ws://192.168.4.1:8266/ or serial:///dev/ttyUSB0 (default $WEBREPL_URL)")
	fs.StringVar(&conn.password, "password", "", "WebREPL password (default $WEBREPL_PASSWORD, else asked on the terminal)")
	useSim := fs.Bool("sim", false, "run on a simulated board started for this run (instead of --url)")
	profile := fs.String("profile", "esp32", "with --sim: board and link model: esp32, esp8266 or ideal")
	opts := notebook.Options{KernelName: kernelspec.DefaultName, CellTimeout: 120 * time.Second, Out: os.Stdout}
	fs.StringVar(&opts.OutputDir, "output", "", "write the executed notebooks into `DIR` (their own folder: update them in place)")
	fs.Var(secondsOrDuration{&opts.CellTimeout}, "timeout", "interrupt and fail a cell running longer than `S` seconds (or a duration: 2m); 0 = no limit")
	fs.BoolVar(&opts.Check, "check", false, "compare outputs with the stored ones and show a diff; a difference fails")
	fs.BoolVar(&opts.ShowOutputs, "v", false, "show each cell's outputs under its line")
	boardsFile := fs.String("boards", "", "rehearse: run every notebook on every board of the board map `FILE`")
	jobs := fs.Int("jobs", 8, "with --boards: how many boards at once")
	reportFile := fs.String("report", "", "with --boards: write the rehearsal's report as JSON to `FILE`")
	paths, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usage("no notebook given")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	urlSet, profileSet := set["url"], set["profile"]
	if *boardsFile != "" || set["boards"] {
		return runRehearsal(ctx, set, *boardsFile, *jobs, *reportFile, opts, paths)
	}
	if set["jobs"] || set["report"] {
		return usage("--jobs and --report go with --boards")
	}
	if *useSim && urlSet {
		return usage("--sim and --url exclude each other")
	}
	if profileSet && !*useSim {
		return usage("--profile needs --sim")
	}
	for _, p := range paths {
		if !strings.HasSuffix(p, ".ipynb") {
			return badValue("%s: not a notebook (want a .ipynb file)", p)
		}
	}
	if opts.OutputDir != "" {
		// Created when missing, as nbconvert and papermill do; a file of that
		// name is refused.
		if err := os.MkdirAll(opts.OutputDir, 0o755); err != nil {
			if st, serr := os.Stat(opts.OutputDir); serr == nil && !st.IsDir() {
				return badValue("--output %s: not a folder", opts.OutputDir)
			}
			return fmt.Errorf("run: --output: %w", err)
		}
	}
	if !*useSim && conn.url == "" {
		return usage("no board: give --url ws://HOST:8266/ (or serial:///dev/ttyUSB0) or --sim (or set WEBREPL_URL)")
	}

	if *useSim {
		board, err := startRunSim(ctx, *profile)
		if err != nil {
			return err
		}
		defer board.Close()
		conn.url, conn.password = board.URL(), board.Password()
		fmt.Fprintf(os.Stderr, "run: simulated %s board at %s\n", *profile, board.URL())
	} else if err := conn.resolve(); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this program to start kernels: %w", err)
	}
	opts.StartKernel = notebook.LaunchKernel(
		[]string{exe, "kernel", "--connection-file", "{connection_file}"},
		[]string{kernelspec.EnvURL + "=" + conn.url, kernelspec.EnvPassword + "=" + conn.password},
		os.Stderr)
	if sum := notebook.Run(ctx, opts, paths); !sum.OK() {
		return exitError{code: 1}
	}
	return nil
}

// startRunSim starts a simulated board with a fresh password and a
// temporary flash folder (removed by Close).
func startRunSim(ctx context.Context, profile string) (*sim.Board, error) {
	switch profile {
	case "esp32", "esp8266", "ideal":
	default:
		return nil, badValue("--profile %q: want esp32, esp8266 or ideal", profile)
	}
	secret := make([]byte, 4)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	startCtx, cancel := context.WithTimeout(ctx, 5*time.Minute) // includes a first `npm ci`
	defer cancel()
	board, err := sim.Start(startCtx, sim.Options{Profile: profile, Password: hex.EncodeToString(secret)[:8]})
	if err != nil {
		return nil, fmt.Errorf("starting the simulated board: %w", err)
	}
	return board, nil
}
