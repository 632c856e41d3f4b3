// Command bench is `make bench`: in one run it measures the kernel, driven
// through the pinned jupyter_client in .venv/ (bench/jupyter_driver.py), against the
// seed's method (each line its own frame, 50 ms apart) and the library's
// paced mode, on each simulated link (esp32 1.27, esp32 1.28, esp8266, ideal
// + 10 ms each way) and on ../shared/realmp; then print → iopub latency,
// 100 KB put/get, kernel start and idle memory, on esp32 1.28 and ideal +
// 10 ms the live figures of issue 17 (live.go: slider → board callback,
// plot() → chart, a plot() flood), and 30 kernels on 30 boards (in one
// simulator process) at once. Every output is checked exact and every board's dropped-byte
// count must stay 0, else it exits 1. It writes bench/results.json and the
// README's tables between the bench markers (report.go says how each figure
// and each link's limit is defined).
//
//	go run ./bench [-out bench/results.json] [-readme README.md] [-rounds 3] [-fleet 30] [-render]
//	go run ./bench -only '1.28,ideal,fleet' -update   # measure those again into the results
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"webrepl-kernel/sim"
	"webrepl-kernel/webrepl"
)

func main() {
	out := flag.String("out", "bench/results.json", "where the results go")
	readme := flag.String("readme", "README.md", "README whose bench section is rewritten (\"\" leaves it)")
	rounds := flag.Int("rounds", 3, "rounds per cheap figure (the median is reported)")
	fleet := flag.Int("fleet", 30, "kernels (each with its own board) run at once")
	exe := flag.String("kernel", "bin/webrepl-kernel", "the built kernel binary")
	realmp := flag.String("realmp", envOr("WEBREPL_REALMP", "../shared/realmp"), "folder of the real MicroPython board (start.sh)")
	python := flag.String("python", envOr("WEBREPL_PYTHON", filepath.Join(sourceDir(), "..", ".venv", "bin", "python")),
		"Python with jupyter_client (scripts/pyenv.sh makes .venv/)")
	only := flag.String("only", "", "measure only the profiles whose name contains one of these comma-separated words, and \"fleet\" for the fleet, \"serial\" for the USB serial section; or \"connect\" (the connect + first cell figure of every profile, printed only); or \"hub\" (the hub section alone: it replaces that section of -out, and of the README unless -readme \"\")")
	update := flag.Bool("update", false, "with -only (not hub): put what was measured into -out's existing results, keeping the rest, and write the README's tables")
	learners := flag.Int("learners", 30, "learners in the hub section (JupyterHub, each with a server, a kernel and a simulated board); 0 skips it")
	render := flag.Bool("render", false, "measure nothing: write the README's tables again from -out")
	flag.Parse()
	if *render {
		if err := renderOnly(*out, *readme); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *update && (*only == "" || *only == "hub") {
		fmt.Fprintln(os.Stderr, "bench: -update needs -only with profiles or fleet (-only hub updates its section by itself)")
		os.Exit(2)
	}
	if err := run(*out, *readme, *rounds, *fleet, *learners, *exe, *realmp, *python, *only, *update); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func renderOnly(out, readme string) error {
	data, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	var r Results
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	return updateReadme(readme, &r)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// selected says whether -only picks name ("" picks everything).
func selected(only, name string) bool {
	if only == "" {
		return true
	}
	for _, w := range strings.Split(only, ",") {
		if w = strings.TrimSpace(w); w != "" && (w == name || w != "fleet" && strings.Contains(name, w)) {
			return true
		}
	}
	return false
}

func run(out, readme string, rounds, fleet, learners int, exe, realmp, python, only string, update bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	began := time.Now()
	if only == "connect" {
		return runConnectOnly(ctx, realmp, rounds)
	}
	exe, err := filepath.Abs(exe)
	if err != nil {
		return err
	}
	if _, err := os.Stat(exe); err != nil {
		return fmt.Errorf("the kernel binary: %w (run make build)", err)
	}
	dir, err := os.MkdirTemp("", "webrepl-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if only == "hub" {
		return runHubOnly(ctx, out, readme, learners, exe, dir)
	}

	drv, err := startDriver(python, filepath.Join(sourceDir(), "jupyter_driver.py"))
	if err != nil {
		return err
	}
	defer drv.close()

	res := &Results{
		Generated: time.Now().UTC().Format(time.RFC3339),
		Rounds:    rounds,
		Machine:   machineNow(),
	}
	modules := envOr("WEBREPL_SIM_MODULES", filepath.Join(sourceDir(), "..", "sim", "board", "node_modules"))
	var startups, bounds []time.Duration
	var rss []int64
	for _, p := range profiles(modules) {
		if !selected(only, p.Name) {
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: %s …\n", p.Name)
		pr, st, kb, err := measureProfile(ctx, p, realmp, exe, dir, drv, rounds)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		res.Profiles = append(res.Profiles, pr)
		startups = append(startups, st.startup)
		bounds = append(bounds, st.bound)
		rss = append(rss, kb)
	}
	res.Kernel = KernelFigures{
		StartMS:   ms(medianDuration(startups)),
		BoundMS:   ms(medianDuration(bounds)),
		IdleRSSMB: float64(medianInt(rss)) / 1024,
		Samples:   len(startups),
	}
	if fleet > 0 && selected(only, "fleet") {
		fmt.Fprintf(os.Stderr, "bench: %d kernels × %d boards …\n", fleet, fleet)
		f, err := measureFleet(ctx, modules, exe, dir, drv, fleet)
		if err != nil {
			return fmt.Errorf("fleet: %w", err)
		}
		res.Fleet = &f
	}
	if selected(only, "serial") {
		fmt.Fprintf(os.Stderr, "bench: serial …\n")
		sr, err := measureSerial(ctx, modules, exe, dir, drv, rounds)
		if err != nil {
			return fmt.Errorf("serial: %w", err)
		}
		res.Serial = &sr
	}
	if learners > 0 && only == "" {
		fmt.Fprintf(os.Stderr, "bench: JupyterHub, %d learners …\n", learners)
		h, err := measureHub(ctx, exe, dir, learners)
		if err != nil {
			return fmt.Errorf("hub: %w", err)
		}
		res.Hub = &h
	}
	res.Machine.LoadAfter = loadAvg()
	res.Machine.WallSeconds = round3(time.Since(began).Seconds())
	if update {
		merged, err := mergeInto(out, res)
		if err != nil {
			return err
		}
		res = merged
	}
	res.Aims = evaluateAims(res)
	if err := writeResults(out, res); err != nil {
		return err
	}
	if readme != "" && (only == "" || update) {
		if err := updateReadme(readme, res); err != nil {
			return err
		}
	}
	for _, a := range res.Aims {
		mark := "met"
		if !a.Met {
			mark = "MISSED"
		}
		fmt.Fprintf(os.Stderr, "bench: aim %s: %s (%s)\n", mark, a.Aim, a.Figure)
	}
	if lost := totalLost(res); lost != 0 {
		return fmt.Errorf("%d bytes lost", lost)
	}
	return nil
}

// runHubOnly is `-only hub`: the hub section alone. It replaces the hub
// section of -out (or starts a new file), and with a README to update
// writes the README's tables again from the whole file.
func runHubOnly(ctx context.Context, out, readme string, learners int, exe, dir string) error {
	if learners < 1 {
		return fmt.Errorf("-only hub needs -learners 1 or more")
	}
	fmt.Fprintf(os.Stderr, "bench: JupyterHub, %d learners …\n", learners)
	h, err := measureHub(ctx, exe, dir, learners)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	// The other sections of -out stay as they are (a results file of a
	// full run keeps its figures); a new file holds the hub section only.
	res := &Results{Generated: time.Now().UTC().Format(time.RFC3339), Machine: machineNow()}
	if data, err := os.ReadFile(out); err == nil {
		if err := json.Unmarshal(data, res); err != nil {
			return fmt.Errorf("%s: %w", out, err)
		}
	} else if readme != "" {
		return fmt.Errorf("-only hub with -readme updates the results of a full run: %w", err)
	}
	res.Hub = &h
	if err := writeResults(out, res); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: hub: %d learners, %s: all done in %.2f s, cells p50 %.3f s / p95 %.3f s, outputs exact; peak RSS hub %.0f MB, servers %.0f MB, kernels %.0f MB, boards %.0f MB\n",
		h.Learners, h.Lesson, h.WallS, h.CellP50S, h.CellP95S, h.PeakHubMB, h.PeakServersMB, h.PeakKernelsMB, h.PeakBoardsMB)
	if readme != "" {
		return updateReadme(readme, res)
	}
	return nil
}

// sourceDir is this package's folder (bench/), where the driver script is.
func sourceDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "bench"
	}
	return filepath.Dir(file)
}

// measureProfile runs every figure of one link. It also returns the
// kernel's start time and its idle memory on this board.
func measureProfile(ctx context.Context, p profile, realmp, exe, dir string, drv *driver, rounds int) (ProfileResult, kernelStart, int64, error) {
	pr := ProfileResult{Name: p.Name, Link: p.Link}
	b, err := startBoard(ctx, p, realmp)
	if err != nil {
		return pr, kernelStart{}, 0, err
	}
	defer b.stop()
	rtt, ver, err := measureRTT(ctx, b)
	if err != nil {
		return pr, kernelStart{}, 0, err
	}
	pr.RTTMS = ms(rtt)
	pr.Firmware = fmt.Sprintf("%d.%d.%d", ver[0], ver[1], ver[2])
	if p.Sim != nil && p.Sim.Profile == "esp32" && p.Sim.Firmware == "1.27" {
		pr.DrainMS = ms(p.Sim.DrainPeriod)
	}
	if pr.Connect, err = measureConnect(ctx, b, pr, rounds); err != nil {
		return pr, kernelStart{}, 0, err
	}
	// The window the kernel's auto policy picks here, as the library does.
	s, err := b.dial(ctx, webrepl.Options{})
	if err != nil {
		return pr, kernelStart{}, 0, err
	}
	window, port := s.RawPasteWindow()
	s.Close()
	pr.Port = port
	pr.InFlight = 255
	if window == webrepl.WindowFull {
		pr.InFlight = 256
	}
	dropped0 := b.dropped()

	// The board takes one client at a time and the kernel keeps its
	// connection, so the kernel's rounds come first, then the others'.
	k, _, err := startKernel(ctx, exe, dir, drv, b)
	if err != nil {
		return pr, kernelStart{}, 0, err
	}
	startup := kernelStart{startup: k.startup, bound: k.bound}
	// The kernel connects at its first cell; that is not what is measured.
	if r, err := k.execute(ctx, "x = 0\n", ""); err != nil || r.Status != "ok" {
		k.shutdown(ctx)
		return pr, kernelStart{}, 0, fmt.Errorf("kernel, first cell: %v %+v", err, r)
	}
	var idleKB int64
	cells := benchCells()
	for ci, cell := range cells {
		cr := CellResult{Cell: cell.Name, Bytes: len(cell.code)}
		cr.LimitS, cr.Limit = linkLimit(pr, len(cell.code))
		for round := range rounds {
			r, err := k.execute(ctx, cell.code, cell.marker)
			if err != nil {
				k.shutdown(ctx)
				return pr, kernelStart{}, 0, err
			}
			if r.Status != "ok" || normalise(r.Stdout) != cell.want || r.Marker == 0 {
				k.shutdown(ctx)
				return pr, kernelStart{}, 0, fmt.Errorf("kernel, %s: status %s, stdout %q, stderr %q, error %q; want %q", cell.Name, r.Status, r.Stdout, r.Stderr, r.Error, cell.want)
			}
			cr.Kernel.add(r.Marker)
			if ci == 0 && round == 0 {
				time.Sleep(time.Second) // idle, then its memory
				idleKB = k.rssKB()
			}
		}
		pr.Cells = append(pr.Cells, cr)
	}
	// A board's print to the notebook's iopub: the board stamps each line
	// with its clock, which is this machine's (the simulator and the unix
	// port read the host's time).
	lat, err := printLatency(ctx, k)
	if err != nil {
		k.shutdown(ctx)
		return pr, kernelStart{}, 0, err
	}
	pr.PrintLatencyMS = lat
	if liveProfiles[p.Name] {
		lf, err := measureLive(ctx, k)
		if err != nil {
			k.shutdown(ctx)
			return pr, kernelStart{}, 0, err
		}
		pr.Live = &lf
	}
	k.shutdown(ctx)

	for ci, cell := range cells {
		cr := &pr.Cells[ci]
		n := rounds
		if ci >= 2 {
			n = 1 // 80 lines and 8 KB: the seed and paced take seconds a round
		}
		for range n {
			d, err := runPaced(ctx, b, cell)
			if err != nil {
				return pr, kernelStart{}, 0, err
			}
			cr.Paced.add(d)
			d, err = runSeed(ctx, b, cell)
			if err != nil {
				return pr, kernelStart{}, 0, err
			}
			cr.Seed.add(d)
		}
	}

	ft, err := fileTransfer(ctx, b, pr)
	if err != nil {
		return pr, kernelStart{}, 0, err
	}
	pr.Files = ft
	pr.Lost = b.dropped() - dropped0
	return pr, startup, idleKB, nil
}

// kernelStart is how long a kernel took to start (kernelProc).
type kernelStart struct{ startup, bound time.Duration }

// linkLimit is the fastest the link allows for a cell of n bytes (with the
// 4 bytes of raw-paste framing) and why (README, "the link's limit").
func linkLimit(pr ProfileResult, n int) (float64, string) {
	n += 4
	if pr.DrainMS > 0 {
		drains := (n + 255) / 256
		return round6((float64(drains)*pr.DrainMS + pr.RTTMS) / 1000), fmt.Sprintf("%d drain(s) + RTT", drains)
	}
	trips := (n + pr.InFlight - 1) / pr.InFlight
	return round6(float64(trips) * pr.RTTMS / 1000), fmt.Sprintf("%d RTT", trips)
}

// printLatency: each line is the first output after a quiet moment (40 ms
// apart, the kernel's coalescing waits 15 ms).
func printLatency(ctx context.Context, k *kernelProc) (LatencyMS, error) {
	const lines = 40
	const code = "import time\nfor i in range(40):\n    print('T', time.time_ns())\n    time.sleep_ms(40)\n"
	r, err := k.execute(ctx, code, "")
	if err != nil {
		return LatencyMS{}, err
	}
	if r.Status != "ok" {
		return LatencyMS{}, fmt.Errorf("latency cell: %s %s", r.Status, r.Error)
	}
	var lat []time.Duration
	for _, s := range r.Streams {
		for _, line := range strings.Split(s.Text, "\n") {
			f := strings.Fields(line)
			if len(f) != 2 || f[0] != "T" {
				continue
			}
			ns, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				continue
			}
			lat = append(lat, s.At.Sub(time.Unix(0, ns)))
		}
	}
	if len(lat) != lines {
		return LatencyMS{}, fmt.Errorf("latency cell: %d of %d stamped lines arrived: %q", len(lat), lines, r.Stdout)
	}
	p := percentiles(lat)
	return LatencyMS{Median: p.P50, P95: p.P95, Max: p.Max}, nil
}

// fileTransfer puts and gets 100 KB through the library the kernel uses.
func fileTransfer(ctx context.Context, b *board, pr ProfileResult) (FileFigures, error) {
	const size = 100 * 1024
	data := make([]byte, size)
	rand.Read(data)
	s, err := b.dial(ctx, webrepl.Options{})
	if err != nil {
		return FileFigures{}, err
	}
	defer s.Close()
	start := time.Now()
	if err := s.Put(ctx, "bench.bin", data, nil); err != nil {
		return FileFigures{}, fmt.Errorf("put: %w", err)
	}
	put := time.Since(start)
	start = time.Now()
	got, err := s.Get(ctx, "bench.bin", nil)
	if err != nil {
		return FileFigures{}, fmt.Errorf("get: %w", err)
	}
	get := time.Since(start)
	if !bytes.Equal(got, data) {
		return FileFigures{}, fmt.Errorf("get returned %d bytes that differ from the %d put", len(got), len(data))
	}
	chunks := (size + 255) / 256
	return FileFigures{
		Bytes: size, PutS: round4(put.Seconds()), GetS: round4(get.Seconds()),
		PutLimitS: round6(pr.RTTMS / 1000), GetLimitS: round6(float64(chunks) * pr.RTTMS / 1000),
		GetChunks: chunks,
	}, nil
}

// measureFleet runs n kernels, each on its own simulated esp32 1.27 board,
// all at once: every output exact, wall time, peak memory. The boards run
// in one simulator process (sim.Host), as `webrepl-kernel sim --boards N`
// runs a classroom's.
func measureFleet(ctx context.Context, modules, exe, dir string, drv *driver, n int) (FleetResult, error) {
	fr := FleetResult{Kernels: n, Boards: n, Profile: "esp32 1.27", OneHost: true}
	host := sim.NewHost(sim.HostOptions{Modules: modules})
	defer host.Close() // after the boards (deferred below, so run first)
	boards := make([]*board, n)
	kernels := make([]*kernelProc, n)
	defer func() {
		var wg sync.WaitGroup
		for _, k := range kernels {
			if k != nil {
				wg.Add(1)
				go func() { defer wg.Done(); k.shutdown(ctx) }()
			}
		}
		wg.Wait()
		for _, b := range boards {
			if b != nil {
				b.stop()
			}
		}
	}()
	opts := profiles(modules)[0]
	hosted := *opts.Sim
	hosted.Host = host
	opts.Sim = &hosted
	startAll := time.Now()
	if err := parallel(n, 4, func(i int) error {
		b, err := startBoard(ctx, opts, "")
		boards[i] = b
		return err
	}); err != nil {
		return fr, err
	}
	if err := parallel(n, n, func(i int) error {
		k, _, err := startKernel(ctx, exe, dir, drv, boards[i])
		kernels[i] = k
		return err
	}); err != nil {
		return fr, err
	}
	fr.StartS = round3(time.Since(startAll).Seconds())

	var peakMu sync.Mutex
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		kernelPIDs := map[int]bool{}
		for _, k := range kernels {
			kernelPIDs[k.cmd.Process.Pid] = true
		}
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			var kk, bb int64
			for pid := range kernelPIDs {
				kk += rssKB(pid)
			}
			for _, pid := range descendants(os.Getpid()) {
				if !kernelPIDs[pid] && pid != drv.cmd.Process.Pid {
					bb += rssKB(pid)
				}
			}
			peakMu.Lock()
			fr.PeakKernelsMB = math.Max(fr.PeakKernelsMB, float64(kk)/1024)
			fr.PeakBoardsMB = math.Max(fr.PeakBoardsMB, float64(bb)/1024)
			peakMu.Unlock()
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
		}
	}()
	cells := []benchCell{benchCells()[0], linesCell(20)}
	start := time.Now()
	err := parallel(n, n, func(i int) error {
		for _, cell := range cells {
			r, err := kernels[i].execute(ctx, cell.code, cell.marker)
			if err != nil {
				return err
			}
			if r.Status != "ok" || normalise(r.Stdout) != cell.want {
				return fmt.Errorf("kernel %d, %s: status %s, stdout %q, error %q", i, cell.Name, r.Status, r.Stdout, r.Error)
			}
		}
		return nil
	})
	fr.WallS = round3(time.Since(start).Seconds())
	close(stopSampling)
	<-sampled
	if err != nil {
		return fr, err
	}
	for _, b := range boards {
		fr.Lost += b.dropped()
	}
	fr.Exact = fr.Lost == 0
	fr.PeakKernelsMB, fr.PeakBoardsMB = round1(fr.PeakKernelsMB), round1(fr.PeakBoardsMB)
	fr.Cells = []string{cells[0].Name, cells[1].Name}
	return fr, nil
}

// parallel runs f(0..n-1), at most width at a time; the first error wins.
func parallel(n, width int, f func(i int) error) error {
	sem := make(chan struct{}, width)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func machineNow() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), LoadBefore: loadAvg(),
		Note: "a shared 2-core machine: other engineers' builds and tests ran at the same time, so figures are noisy; ratios within this run are what to read"}
	if out, err := exec.Command("node", "--version").Output(); err == nil {
		m.Node = strings.TrimSpace(string(out))
	}
	return m
}

func loadAvg() []float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	var l []float64
	for _, f := range strings.Fields(string(data))[:3] {
		v, _ := strconv.ParseFloat(f, 64)
		l = append(l, v)
	}
	return l
}

func medianInt(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]int64(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return round4(float64(d) / float64(time.Millisecond)) }

func round1(v float64) float64 { return math.Round(v*10) / 10 }
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
func round4(v float64) float64 { return math.Round(v*10000) / 10000 }
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }
