// Command webrepl-kernel is a Jupyter kernel that runs notebook cells on a
// MicroPython board over WebREPL. Every subcommand is a thin wrapper around a
// package: sim (sim/), exec/put/get/ls/repl (webrepl/), kernel (kernel/),
// run (notebook/), install/uninstall (kernelspec/); version reports the build.
//
// Conventions, kept in one place (this file) so every subcommand follows
// them: `-h`/`--help` (top level, `help [COMMAND]`, or after any
// subcommand) prints usage on stdout and exits 0; a usage error (unknown
// command or flag, wrong arguments or values) is printed once on stderr
// and exits 2; any other failure is printed once as
// "webrepl-kernel COMMAND: error" and exits 1.
//
// Adding a subcommand: add a row to commands() and write
// func(ctx, fs, args) error that defines its flags on fs, calls parseArgs
// (or parseFlags) before doing anything else, and returns usage(...) for a
// command line of the wrong shape or badValue(...) for a wrong value. The
// -h text is built from the row and fs's flags; cli_test.go checks every
// row.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// command is one verb of the binary.
type command struct {
	name    string
	args    string // what follows [flags] in the usage line, e.g. "FILE|-"
	summary string // one line, for the top-level command list
	about   string // what -h shows under the usage line ("" = summary)
	run     func(ctx context.Context, fs *flag.FlagSet, args []string) error
	// ownSignals: the command handles SIGINT itself (the kernel turns it
	// into an interrupt), so main must not turn it into a cancelled ctx.
	ownSignals bool
}

// commands is the table every usage text is built from, in the order the
// top-level usage lists them.
func commands() []command {
	return []command{
		{name: "kernel", args: "--connection-file FILE", summary: "run the Jupyter kernel (started by Jupyter)",
			about: "Serve Jupyter on the connection file's sockets; SIGINT interrupts the running cell.\nThe board comes from $WEBREPL_URL / $WEBREPL_PASSWORD (written by install) or %connect.",
			run:   runKernel, ownSignals: true},
		{name: "install", summary: "install the Jupyter kernelspec",
			about: "Install the kernelspec that makes Jupyter start this binary as a kernel.", run: runInstall},
		{name: "uninstall", summary: "remove the Jupyter kernelspec", run: runUninstall},
		{name: "setup", args: "--wifi-ssid NAME", summary: "set a board up over USB serial: WebREPL, Wi-Fi, kernelspec",
			about: setupAbout, run: runSetup},
		{name: "exec", args: "FILE|-", summary: "run a Python file on a board and print its output",
			about: "Run a Python program on the board and print its output as it arrives.\nExit status 1 (traceback on stderr) if the program raises; sys.exit() is a normal end.",
			run:   runExec},
		{name: "put", args: "LOCAL [REMOTE]", summary: "copy a local file to a board",
			about: "Copy a local file to the board (REMOTE defaults to LOCAL's name; a REMOTE ending in / is a folder).",
			run:   runPut},
		{name: "get", args: "REMOTE [LOCAL]", summary: "copy a file from a board",
			about: "Copy a file from the board (LOCAL defaults to REMOTE's name; - writes to stdout).",
			run:   runGet},
		{name: "ls", args: "[DIR]", summary: "list a directory on a board",
			about: "List a folder on the board: size in bytes (or <dir>) and name.", run: runLs},
		{name: "sync", args: "LOCAL_DIR [BOARD_DIR]", summary: "make a board folder match a local one",
			about: "Copy new and changed files (by SHA-256 on the board) from LOCAL_DIR to BOARD_DIR (default /),\ncreating folders; -delete removes board files gone locally; -dry-run lists the changes.\nFiles are staged and renamed only when all are checked: a cut-off sync changes nothing.",
			run:   runSync},
		{name: "mip", args: "install PKG[@VERSION]... | list", summary: "install MicroPython packages on a board from this computer",
			about: "Fetch packages and their dependencies from micropython-lib's index (or github:, gitlab:, a URL,\na local package.json) and write them to the board's lib folder, all or nothing; files already\nthere with the same hash are skipped. list shows the lib folder.",
			run:   runMip},
		{name: "repl", summary: "interactive REPL on a board (Ctrl-] quits)",
			about: "Interactive friendly REPL on the board in this terminal. Ctrl-] quits.", run: runRepl},
		{name: "run", args: "NOTEBOOK.ipynb...", summary: "run notebooks headless on a board or a simulated one (--sim)",
			about: runAbout, run: runRun},
		{name: "sim", args: "--password PW | --serial PATH", summary: "run a simulated MicroPython board (WebREPL server)",
			about: "Run a simulated MicroPython board with a WebREPL server until interrupted.", run: runSim},
		{name: "version", summary: "print the version, the commit it was built from and the Go version",
			run: runVersion},
	}
}

func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// usageLine is the command's one-line synopsis.
func (c command) usageLine() string {
	line := "usage: webrepl-kernel " + c.name + " [flags]"
	if c.args != "" {
		line += " " + c.args
	}
	return line
}

// printHelp writes the -h text: usage line, description, flags.
func (c command) printHelp(w io.Writer, fs *flag.FlagSet) {
	about := c.about
	if about == "" {
		about = strings.ToUpper(c.summary[:1]) + c.summary[1:] + "."
	}
	fmt.Fprintf(w, "%s\n\n%s\n", c.usageLine(), about)
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintln(w, "\nflags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}

func printTopUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: webrepl-kernel COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n`webrepl-kernel COMMAND -h` shows a command's flags.")
}

// usageErr is a mistake in the command line: main prints it once (with the
// command's usage line if withSynopsis) and exits 2.
type usageErr struct {
	msg          string
	withSynopsis bool
}

func (e usageErr) Error() string { return e.msg }

// usage returns a usage error for a command line of the wrong shape
// (unknown flag, wrong number of arguments): exit status 2, and the usage
// line is printed under the message.
func usage(format string, args ...any) error {
	return usageErr{msg: fmt.Sprintf(format, args...), withSynopsis: true}
}

// badValue returns a usage error for a flag or argument whose value is
// wrong (the message says what is accepted): exit status 2, one line.
func badValue(format string, args ...any) error {
	return usageErr{msg: fmt.Sprintf(format, args...)}
}

// exitError asks main to exit with a status without printing anything more
// (the subcommand already told the user what happened).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// newFlagSet is the flag set main hands each command: the flag package
// prints nothing itself (main prints the error once, and the help on
// stdout), and -h comes back as flag.ErrHelp.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses flags only; any positional argument is a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usage("unexpected argument %q", pos[0])
	}
	return nil
}

// parseArgs parses flags that may come before, between or after the
// positional arguments ("exec prog.py --url ..." works too) and returns the
// positional ones. "--" ends flag parsing; "-" is a positional argument.
// The error is flag.ErrHelp for -h/--help, else a usage error.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usage("%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func main() {
	os.Exit(realMain(os.Args[1:]))
}

// realMain runs the command line and returns the exit status (so that the
// deferred signal stop runs before os.Exit).
func realMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "webrepl-kernel: no command given")
		printTopUsage(os.Stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		printTopUsage(os.Stdout)
		return 0
	case "help":
		if len(args) == 1 {
			printTopUsage(os.Stdout)
			return 0
		}
		// `help COMMAND` is `COMMAND -h`: every command parses its flags
		// before doing anything, so this only prints.
		name, args = args[1], []string{args[1], "-h"}
	}
	cmd, ok := findCommand(name)
	if !ok {
		fmt.Fprintf(os.Stderr, "webrepl-kernel: unknown command %q\n", name)
		printTopUsage(os.Stderr)
		return 2
	}
	ctx := context.Background()
	if !cmd.ownSignals {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	fs := newFlagSet(cmd.name)
	err := cmd.run(ctx, fs, args[1:])
	var uerr usageErr
	var exit exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		cmd.printHelp(os.Stdout, fs)
		return 0
	case errors.As(err, &uerr):
		fmt.Fprintf(os.Stderr, "webrepl-kernel %s: %v\n", cmd.name, uerr)
		if uerr.withSynopsis {
			fmt.Fprintf(os.Stderr, "%s  (-h lists the flags)\n", cmd.usageLine())
		}
		return 2
	case errors.As(err, &exit):
		return exit.code
	}
	fmt.Fprintf(os.Stderr, "webrepl-kernel %s: %v\n", cmd.name, err)
	return 1
}
