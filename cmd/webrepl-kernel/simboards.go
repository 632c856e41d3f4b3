package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"webrepl-kernel/sim"
)

// simStartConcurrency is how many boards of `sim --boards N` boot at once.
const simStartConcurrency = 4

// runSimBoards runs n simulated boards in one Node process (a sim.Host),
// each on its own port (consecutive from opts.Addr's, or each a free one
// for port 0) with a flash folder of its own, until ctx ends. A board that
// dies is reported on stderr and the others go on; when none is left, the
// cause of the last death is returned.
func runSimBoards(ctx context.Context, opts sim.Options, n int) error {
	addrs, err := boardAddrs(opts.Addr, n)
	if err != nil {
		return err
	}
	host := sim.NewHost(sim.HostOptions{Modules: opts.Modules, Log: opts.Log})
	defer host.Close()
	boards := make([]*sim.Board, n)
	startCtx, cancel := context.WithTimeout(ctx, 5*time.Minute) // includes a first `npm ci`
	defer cancel()
	errs := make([]error, n)
	var wg sync.WaitGroup
	slots := make(chan struct{}, simStartConcurrency)
	for i := range boards {
		o := opts
		o.Host = host
		o.Addr = addrs[i]
		if opts.FlashDir != "" {
			o.FlashDir = filepath.Join(opts.FlashDir, fmt.Sprintf("board-%02d", i+1))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
			case <-startCtx.Done():
				errs[i] = startCtx.Err()
				return
			}
			defer func() { <-slots }()
			boards[i], errs[i] = sim.Start(startCtx, o)
		}()
	}
	wg.Wait()
	defer func() {
		for _, b := range boards {
			if b != nil {
				_ = b.Close()
			}
		}
	}()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("board %d: %w", i+1, err)
		}
	}
	for i, b := range boards {
		fmt.Printf("Simulated %s board %d/%d, MicroPython %s: WebREPL at %s (password %q)\n", opts.Profile, i+1, n, b.Firmware(), b.URL(), b.Password())
	}
	fmt.Printf("%d simulated boards in one process; Ctrl-C stops them\n", n)

	died := make(chan int, n)
	for i, b := range boards {
		go func() {
			select {
			case <-b.Done():
				died <- i
			case <-ctx.Done():
			}
		}()
	}
	var last error
	for alive := n; alive > 0; alive-- {
		select {
		case <-ctx.Done():
			return nil
		case i := <-died:
			cause := boards[i].Err()
			if cause == nil {
				cause = errors.New("stopped for an unknown reason")
			}
			last = fmt.Errorf("simulated board %d (%s) died: %w", i+1, boards[i].URL(), cause)
			if alive > 1 {
				fmt.Fprintf(os.Stderr, "webrepl-kernel sim: %v\n", last)
			}
		}
	}
	return last
}

// boardAddrs gives n listen addresses: consecutive ports from addr's, or
// port 0 (a free port) for each when addr's is 0.
func boardAddrs(addr string, n int) ([]string, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, badValue("--addr %s: %v", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return nil, badValue("--addr %s: the port must be a number from 0 to 65535", addr)
	}
	if port != 0 && port+n-1 > 65535 {
		return nil, badValue("--addr %s with --boards %d: the ports would go past 65535", addr, n)
	}
	addrs := make([]string, n)
	for i := range addrs {
		p := port
		if port != 0 {
			p += i
		}
		addrs[i] = net.JoinHostPort(host, strconv.Itoa(p))
	}
	return addrs, nil
}
