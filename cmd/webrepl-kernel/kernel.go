package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"webrepl-kernel/jupyter"
	"webrepl-kernel/kernel"
	"webrepl-kernel/kernelspec"
	"webrepl-kernel/webrepl"
)

// version is stamped into kernel_info (override with -ldflags -X main.version=…).
var version = "0.1.0"

// runKernel serves Jupyter on the connection file's sockets until a
// shutdown_request, SIGTERM or SIGHUP. SIGINT interrupts the running cell.
func runKernel(ctx context.Context, fs *flag.FlagSet, args []string) error {
	connFile := fs.String("connection-file", "", "Jupyter connection `file` (Jupyter passes it)")
	debug := fs.Bool("debug", os.Getenv("WEBREPL_KERNEL_DEBUG") != "", "log protocol details to stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *connFile == "" {
		return usage("--connection-file is required (Jupyter starts the kernel with it; see `webrepl-kernel install`)")
	}
	info, err := jupyter.ReadConnectionFile(*connFile)
	if err != nil {
		return err
	}
	logger := log.New(os.Stderr, "webrepl-kernel: ", log.LstdFlags)
	logf := func(string, ...any) {}
	if *debug {
		logf = logger.Printf
	}
	board := chooseBoard(os.Getenv)
	if board.problem != nil {
		logger.Printf("%v", board.problem) // also the first cell's error
	}
	k := kernel.New(kernel.Config{
		URL:          board.url,
		Password:     board.password,
		Origin:       board.origin,
		BoardProblem: board.problem,
		Window:       windowFromEnv(),
		Version:      version,
		Logf:         logf,
		// WEBREPL_KEEP=1: other notebooks of this machine wait instead of
		// taking the board over (as %connect --keep).
		Keep: os.Getenv("WEBREPL_KEEP") == "1",
		// Restart Kernel starts the next kernel with the same connection
		// file: the note about the board's reset goes beside it, in
		// Jupyter's private runtime folder.
		RestartNote: *connFile + ".webrepl-restart",
	})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)
	watcherDone := make(chan struct{})
	go func() {
		defer close(watcherDone)
		for {
			select {
			case sig := <-signals:
				if sig == os.Interrupt {
					k.Interrupt()
					continue
				}
				logf("%v: shutting down", sig)
				k.Close() // interrupt the cell and log out before the sockets go
				cancel()
				return
			case <-k.Done():
				cancel()
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	serveErr := jupyter.Serve(ctx, info, k, logf)
	cancel()
	<-watcherDone
	k.Close()
	if serveErr != nil {
		return fmt.Errorf("serving Jupyter: %w", serveErr)
	}
	return nil
}

func runInstall(ctx context.Context, fs *flag.FlagSet, args []string) error {
	check := kernelspec.InstallFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	opts, err := check()
	if err != nil {
		return badValue("%v", err)
	}
	if opts.URL != "" {
		// Refused now, not in the notebook's first cell.
		if opts.URL, err = webrepl.NormalizeURL(opts.URL); err != nil {
			return badValue("--url: %v", err)
		}
	}
	dir, err := kernelspec.Install(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Printf("Installed kernelspec %s in %s\n", firstNonEmpty(opts.Name, kernelspec.DefaultName), dir)
	return nil
}

func runUninstall(ctx context.Context, fs *flag.FlagSet, args []string) error {
	check := kernelspec.UninstallFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	opts, err := check()
	if err != nil {
		return badValue("%v", err)
	}
	dir, err := kernelspec.Uninstall(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Printf("Removed %s\n", dir)
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// windowFromEnv reads kernelspec.EnvWindow; a value it does not know means
// "safe", so that a typo can never risk lost bytes. A kernel.json written
// before --window may say kernelspec.EnvOldFullWindow=1 instead: "full"
// (only "1" counts, for the same reason).
func windowFromEnv() webrepl.Window {
	v, set := os.LookupEnv(kernelspec.EnvWindow)
	if !set && os.Getenv(kernelspec.EnvOldFullWindow) == "1" {
		return webrepl.WindowFull
	}
	w, err := webrepl.ParseWindow(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "webrepl-kernel kernel: %s=%q: %v; using safe\n", kernelspec.EnvWindow, v, err)
		return webrepl.WindowSafe
	}
	return w
}
