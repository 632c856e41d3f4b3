// Command webrepl-kernel is a Jupyter kernel that runs notebook cells on a
// MicroPython board over WebREPL. Every subcommand is a thin wrapper around a
// package: sim (sim/), exec/put/get/ls/repl (webrepl/), kernel (kernel/),
// install/uninstall (kernelspec/).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// subcommand is one verb of the binary.
type subcommand struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

func subcommands() map[string]subcommand {
	return map[string]subcommand{
		"sim":       {"run a simulated MicroPython board (WebREPL server)", runSim},
		"exec":      {"run a Python file on a board and print its output", runExec},
		"put":       {"copy a local file to a board", runPut},
		"get":       {"copy a file from a board", runGet},
		"ls":        {"list a directory on a board", runLs},
		"repl":      {"interactive REPL on a board (Ctrl-] quits)", runRepl},
		"kernel":    {"run the Jupyter kernel (started by Jupyter)", runKernel},
		"install":   {"install the Jupyter kernelspec", runInstall},
		"uninstall": {"remove the Jupyter kernelspec", runUninstall},
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: webrepl-kernel COMMAND [flags]\n\ncommands:")
	for _, name := range []string{"kernel", "install", "uninstall", "exec", "put", "get", "ls", "repl", "sim"} {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", name, subcommands()[name].summary)
	}
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		os.Exit(2)
	}
	cmd, ok := subcommands()[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "webrepl-kernel: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	// The kernel handles SIGINT itself (interrupt, not exit); every other
	// subcommand stops on SIGINT/SIGTERM through the context.
	ctx := context.Background()
	if os.Args[1] != "kernel" {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	err := cmd.run(ctx, os.Args[2:])
	if err == nil {
		return
	}
	var exit exitError
	if errors.As(err, &exit) {
		os.Exit(exit.code)
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	fmt.Fprintf(os.Stderr, "webrepl-kernel %s: %v\n", os.Args[1], err)
	os.Exit(1)
}

// exitError asks main to exit with a status without printing anything more
// (the subcommand already told the user what happened).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }
