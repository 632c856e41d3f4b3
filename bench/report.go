package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// Results is bench/results.json.
type Results struct {
	Generated string          `json:"generated"`
	Rounds    int             `json:"rounds"`
	Machine   Machine         `json:"machine"`
	Profiles  []ProfileResult `json:"profiles"`
	Kernel    KernelFigures   `json:"kernel"`
	Fleet     *FleetResult    `json:"fleet,omitempty"`
	Hub       *HubResult      `json:"hub,omitempty"`
	Serial    *SerialResult   `json:"serial,omitempty"`
	Aims      []Aim           `json:"aims"`
	// Remeasured lists the later runs (-only … -update) whose figures
	// replaced this run's: when, what and the machine's load.
	Remeasured []string `json:"remeasured,omitempty"`
}

// mergeInto puts a partial run's profiles and fleet into the results
// stored at path and notes it; the kernel's figures stay the full run's.
func mergeInto(path string, part *Results) (*Results, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-update: %w", err)
	}
	var r Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("-update: %s: %w", path, err)
	}
	var names []string
	for _, p := range part.Profiles {
		names = append(names, p.Name)
		if old := r.profile(p.Name); old != nil {
			*old = p
		} else {
			r.Profiles = append(r.Profiles, p)
		}
	}
	if part.Fleet != nil {
		names = append(names, "fleet")
		r.Fleet = part.Fleet
	}
	if part.Serial != nil {
		names = append(names, "serial")
		r.Serial = part.Serial
	}
	r.Remeasured = append(r.Remeasured, fmt.Sprintf("%s (%s; load %s before, %s after)", strings.Join(names, ", "),
		part.Generated, loadString(part.Machine.LoadBefore), loadString(part.Machine.LoadAfter)))
	return &r, nil
}

// Machine says what the figures were taken on.
type Machine struct {
	CPUs        int       `json:"cpus"`
	GoVersion   string    `json:"go"`
	Node        string    `json:"node,omitempty"`
	LoadBefore  []float64 `json:"load_before"` // /proc/loadavg: 1, 5, 15 minutes
	LoadAfter   []float64 `json:"load_after"`
	WallSeconds float64   `json:"wall_seconds"`
	Note        string    `json:"note"`
}

// ProfileResult is every figure of one link.
type ProfileResult struct {
	Name           string        `json:"name"`
	Link           string        `json:"link"`
	Firmware       string        `json:"firmware"`  // the board's GET_VER answer
	Port           string        `json:"port"`      // os.uname().sysname as the client saw it ("" unknown)
	InFlight       int           `json:"in_flight"` // raw-paste bytes outstanding with --window auto: 256 or 255
	RTTMS          float64       `json:"rtt_ms"`    // median GET_VER round trip
	DrainMS        float64       `json:"drain_ms,omitempty"`
	Connect        ConnectFigure `json:"connect_first_cell"`
	Cells          []CellResult  `json:"cells"`
	PrintLatencyMS LatencyMS     `json:"print_to_iopub_ms"`
	Live           *LiveFigures  `json:"live,omitempty"` // issue 17 (liveProfiles only)
	Files          FileFigures   `json:"files"`
	Lost           int64         `json:"bytes_lost"`
}

// CellResult is one cell on one link by the three methods.
type CellResult struct {
	Cell   string  `json:"cell"`
	Bytes  int     `json:"bytes"`
	LimitS float64 `json:"limit_s"`
	Limit  string  `json:"limit"` // how many drains or round trips
	Kernel Method  `json:"kernel"`
	Paced  Method  `json:"paced"`
	Seed   Method  `json:"seed"`
}

// Method is the rounds of one way of sending a cell.
type Method struct {
	MedianS float64   `json:"median_s"`
	RoundsS []float64 `json:"rounds_s"`
}

func (m *Method) add(d time.Duration) {
	m.RoundsS = append(m.RoundsS, round4(d.Seconds()))
	s := append([]float64(nil), m.RoundsS...)
	sort.Float64s(s)
	m.MedianS = s[len(s)/2]
}

// LatencyMS is board print → iopub stream message.
type LatencyMS struct {
	Median float64 `json:"median"`
	P95    float64 `json:"p95,omitempty"`
	Max    float64 `json:"max"`
}

// FileFigures is a 100 KB put and get.
type FileFigures struct {
	Bytes     int     `json:"bytes"`
	PutS      float64 `json:"put_s"`
	GetS      float64 `json:"get_s"`
	PutLimitS float64 `json:"put_limit_s"`
	GetLimitS float64 `json:"get_limit_s"`
	GetChunks int     `json:"get_chunks"`
}

// KernelFigures is the kernel process on its own (medians over the profiles).
type KernelFigures struct {
	BoundMS   float64 `json:"start_to_sockets_ms"` // process start until its shell port accepts
	StartMS   float64 `json:"start_to_kernel_info_ms"`
	IdleRSSMB float64 `json:"idle_rss_mb"`
	Samples   int     `json:"samples"`
}

// FleetResult is n kernels on n boards at once.
type FleetResult struct {
	Kernels       int      `json:"kernels"`
	Boards        int      `json:"boards"`
	Profile       string   `json:"profile"`
	Cells         []string `json:"cells"`
	StartS        float64  `json:"start_s"` // boards booted and kernels ready
	WallS         float64  `json:"wall_s"`  // all cells of all kernels
	Exact         bool     `json:"exact"`
	Lost          int64    `json:"bytes_lost"`
	PeakKernelsMB float64  `json:"peak_kernels_rss_mb"`
	PeakBoardsMB  float64  `json:"peak_boards_rss_mb"`
	// OneHost: the boards ran in one simulator process (sim.Host);
	// before issue 17 each had a Node process of its own.
	OneHost bool `json:"one_simulator_process,omitempty"`
}

// Aim is one of issue 8's aims and whether this run met it.
type Aim struct {
	Aim    string `json:"aim"`
	Met    bool   `json:"met"`
	Figure string `json:"figure"`
}

func (r *Results) profile(name string) *ProfileResult {
	for i := range r.Profiles {
		if r.Profiles[i].Name == name {
			return &r.Profiles[i]
		}
	}
	return nil
}

func (p *ProfileResult) cell(name string) *CellResult {
	for i := range p.Cells {
		if p.Cells[i].Cell == name {
			return &p.Cells[i]
		}
	}
	return nil
}

// oldRealmpGet is the 100 KB get on ../shared/realmp before the delayed-ACK
// fix, as issue 8 measured it.
const oldRealmpGet = 19.5

func evaluateAims(r *Results) []Aim {
	var aims []Aim
	if p := r.profile("esp32 1.27"); p != nil {
		if c := p.cell("print(1)"); c != nil {
			aim := (p.DrainMS + 15) / 1000
			aims = append(aims, Aim{"esp32 1.27: print(1) within 1 drain + 15 ms", c.Kernel.MedianS <= aim,
				fmt.Sprintf("%.3f s, aim ≤ %.3f s", c.Kernel.MedianS, aim)})
		}
		for _, name := range []string{"20 lines", "8 KB"} {
			if c := p.cell(name); c != nil {
				f := c.LimitS / c.Kernel.MedianS
				aims = append(aims, Aim{"esp32 1.27: " + name + " at ≥ 90 % of the link's limit", f >= 0.9,
					fmt.Sprintf("%.3f s against a limit of %.3f s: %.0f %%, %.1f× seed", c.Kernel.MedianS, c.LimitS, 100*f, c.Seed.MedianS/c.Kernel.MedianS)})
			}
		}
	}
	if p := r.profile("ideal + 10 ms"); p != nil {
		if c := p.cell("print(1)"); c != nil {
			aim := (p.RTTMS + 5) / 1000
			aims = append(aims, Aim{"ideal + 10 ms: print(1) within 1 round trip + 5 ms", c.Kernel.MedianS <= aim,
				fmt.Sprintf("%.4f s, aim ≤ %.4f s (RTT %.1f ms)", c.Kernel.MedianS, aim, p.RTTMS)})
		}
	}
	if p := r.profile("realmp"); p != nil {
		aims = append(aims, Aim{"realmp: 100 KB get at least 10× faster than the old 19.5 s", p.Files.GetS <= oldRealmpGet/10,
			fmt.Sprintf("%.3f s (%.0f×)", p.Files.GetS, oldRealmpGet/p.Files.GetS)})
	}
	aims = append(aims, liveAims(r)...)
	lost := totalLost(r)
	aims = append(aims, Aim{"0 bytes lost on every profile", lost == 0, fmt.Sprintf("%d bytes lost", lost)})
	return aims
}

func totalLost(r *Results) int64 {
	var n int64
	for _, p := range r.Profiles {
		n += p.Lost
	}
	if r.Fleet != nil {
		n += r.Fleet.Lost
	}
	if r.Serial != nil {
		n += r.Serial.Lost
	}
	return n
}

func writeResults(path string, r *Results) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing the results: %w", err)
	}
	return nil
}

// The README's generated part lies between these lines.
const (
	readmeStart = "<!-- bench:start (generated by make bench from bench/results.json; do not edit) -->"
	readmeEnd   = "<!-- bench:end -->"
)

func updateReadme(path string, r *Results) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	updated, err := replaceBetweenMarkers(string(data), markdown(r))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, []byte(updated), 0o644)
}

func replaceBetweenMarkers(doc, body string) (string, error) {
	start := strings.Index(doc, readmeStart)
	end := strings.Index(doc, readmeEnd)
	if start < 0 || end < start {
		return "", fmt.Errorf("no %q … %q section", readmeStart, readmeEnd)
	}
	return doc[:start+len(readmeStart)] + "\n" + body + doc[end:], nil
}

// dur shows seconds readably: milliseconds below a tenth of a second.
func dur(s float64) string {
	switch {
	case s >= 0.1:
		return fmt.Sprintf("%.3f s", s)
	case s >= 0.001:
		return fmt.Sprintf("%.1f ms", s*1000)
	case s >= 0.00001:
		return fmt.Sprintf("%.2f ms", s*1000)
	default:
		return fmt.Sprintf("%.0f µs", s*1e6)
	}
}

// figure is "time · fraction of the limit · × seed" for one method.
func figure(m Method, c CellResult, seed bool) string {
	s := dur(m.MedianS)
	if m.MedianS > 0 {
		s += " · " + percent(c.LimitS/m.MedianS)
	}
	if seed && m.MedianS > 0 {
		s += fmt.Sprintf(" · %.1f× seed", c.Seed.MedianS/m.MedianS)
	}
	return s
}

// markdown renders the README tables from the results alone.
func markdown(r *Results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run of %s on %d CPUs (load %s before, %s after; %s); medians of %d rounds (80 lines and 8 KB by the paced and seed methods: 1 round).\n\n",
		r.Generated, r.Machine.CPUs, loadString(r.Machine.LoadBefore), loadString(r.Machine.LoadAfter), r.Machine.Note, r.Rounds)
	if len(r.Remeasured) > 0 {
		fmt.Fprintf(&b, "Measured again in later runs, whose figures replace this run's: %s.\n\n", strings.Join(r.Remeasured, "; "))
	}
	b.WriteString("**Cells** — time from sending the cell to its first output line (this kernel: `execute_request` to the iopub stream, through jupyter_client) · fraction of the link's limit · × the seed's method:\n\n")
	b.WriteString("| link | cell | limit | this kernel (`--window auto`) | paced (200 B / 100 ms) | seed (a line per frame, 50 ms apart) |\n|---|---|---|---|---|---|\n")
	for _, p := range r.Profiles {
		for _, c := range p.Cells {
			fmt.Fprintf(&b, "| %s | %s, %d B | %s (%s) | %s | %s | %s |\n", p.Name, c.Cell, c.Bytes, dur(c.LimitS), c.Limit,
				figure(c.Kernel, c, true), figure(c.Paced, c, true), figure(c.Seed, c, false))
		}
	}
	b.WriteString("\n**Links** — GET_VER round trip, the window auto picks, board print → iopub, 100 KB through WebREPL's file protocol (get: one round trip per 256-byte chunk):\n\n")
	b.WriteString("| link | firmware (GET_VER), port | RTT | raw-paste in flight | print → iopub (p50 / p95 / max) | put 100 KB | get 100 KB (limit) | bytes lost |\n|---|---|---|---|---|---|---|---|\n")
	for _, p := range r.Profiles {
		port := p.Port
		if port == "" {
			port = "unknown"
		}
		getFrac := ""
		if p.Files.GetS > 0 {
			getFrac = " · " + percent(p.Files.GetLimitS/p.Files.GetS)
		}
		p95 := "–" // results of before issue 17 have none
		if p.PrintLatencyMS.P95 > 0 {
			p95 = fmt.Sprintf("%.1f", p.PrintLatencyMS.P95)
		}
		fmt.Fprintf(&b, "| %s | %s, %s | %s | %d B | %.1f / %s / %.1f ms | %s | %s (%s)%s | %d |\n", p.Name, p.Firmware, port, dur(p.RTTMS/1000), p.InFlight,
			p.PrintLatencyMS.Median, p95, p.PrintLatencyMS.Max, dur(p.Files.PutS), dur(p.Files.GetS), dur(p.Files.GetLimitS), getFrac, p.Lost)
	}
	var connects []string
	for _, p := range r.Profiles {
		if c := p.Connect; c.MedianS > 0 {
			ratio := ""
			if c.Ratio > 0 {
				ratio = fmt.Sprintf(", %.1f×", c.Ratio)
			}
			fresh := ""
			if len(c.RoundsS) > 0 {
				fresh = fmt.Sprintf("; fresh from boot %s", dur(c.RoundsS[0]))
			}
			connects = append(connects, fmt.Sprintf("%s %s (limit %s%s%s)", p.Name, dur(c.MedianS), dur(c.LimitS), ratio, fresh))
		}
	}
	if len(connects) > 0 {
		fmt.Fprintf(&b, "\n**Connect + first cell** (a new connection, as at a kernel's first cell or after a hand-over: `webrepl.DialExec`, the cell `%s` riding in the frame that enters the raw REPL, until its output is back; median of %d; the limit is the WebSocket handshake and login, 3 round trips, then one round trip, plus on esp32 1.27 one drain; the first round meets the board fresh from boot, which is asked once what it is): %s.\n",
			strings.TrimSpace(connectCell), r.Rounds, strings.Join(connects, "; "))
	}
	b.WriteString(liveMarkdown(r))
	fmt.Fprintf(&b, "\n**Kernel**: process start to its Jupyter sockets accepting %.1f ms, to jupyter_client's `wait_for_ready` returning %.0f ms (its first `kernel_info_request` may go out before the sockets are up, and ZMQ retries the connection after 100 ms); idle memory %.1f MB RSS (medians over %d kernels, one per link).\n",
		r.Kernel.BoundMS, r.Kernel.StartMS, r.Kernel.IdleRSSMB, r.Kernel.Samples)
	if f := r.Fleet; f != nil {
		exact := "all outputs exact, 0 bytes lost"
		if !f.Exact {
			exact = fmt.Sprintf("%d bytes lost", f.Lost)
		}
		where := "each board in a simulator process of its own"
		if f.OneHost {
			where = "all boards in one simulator process, `sim.Host`"
		}
		fmt.Fprintf(&b, "\n**%d kernels × %d boards at once** (%s, %s; each kernel runs %s, the first cell including its connect): ready in %.1f s, all cells done in %.2f s wall time, %s; peak memory %.0f MB for the kernels (%.1f MB each), %.0f MB for the simulated boards (%.1f MB each).\n",
			f.Kernels, f.Boards, f.Profile, where, strings.Join(f.Cells, " then "), f.StartS, f.WallS, exact, f.PeakKernelsMB, f.PeakKernelsMB/float64(f.Kernels), f.PeakBoardsMB, f.PeakBoardsMB/float64(f.Boards))
	}
	if s := r.Serial; s != nil {
		fmt.Fprintf(&b, "\n**Over USB serial** (%s; `-only serial -update`): the time from sending a cell to its marker line (the board has run it), median of the rounds: the kernel through jupyter_client with `serial://` (request to the iopub stream holding the marker) against mpremote's method on the same board (raw-paste with the board's flow control as `tools/mpremote/mpremote/transport_serial.py` does it, rebuilt in bench/serial.go; raw-paste request to the marker read from the port); %d bytes lost. A pseudo-terminal has no baud rate, so these are the methods' own costs: on a real cable at 115200 baud the wire alone takes 87 µs a byte (0.71 s for 8 KB).\n\n", s.Board, s.Lost)
		b.WriteString("| cell | bytes | kernel | mpremote's method |\n|---|---|---|---|\n")
		for _, c := range s.Cells {
			fmt.Fprintf(&b, "| %s | %d | %s | %s |\n", c.Cell, c.Bytes, dur(c.Kernel.MedianS), dur(c.MPRemote.MedianS))
		}
	}
	if h := r.Hub; h != nil {
		fmt.Fprintf(&b, "\n**A workshop: %d learners on JupyterHub at once** (run of %s, load %s before; JupyterHub %s, %s; %s): each learner created with a token through the hub's REST API, their server started and lesson 1 (`%s`, %d code cells, then `%%board`) run in every kernel at once over the Jupyter server's kernel WebSocket, every output exact. Hub up in %.1f s (boards booted), users and servers ready and kernels started in %.1f s; **all %d learners finished in %.2f s**; cell time (request to idle) p50 %s, p95 %s (first cell, with the connect: p50 %s). Peak memory (RSS): hub and proxy %.0f MB, servers %.0f MB (%.0f MB each), kernels %.0f MB (%.1f MB each), boards %.0f MB (%.0f MB each); %.0f MB in all.\n",
			h.Learners, h.Generated, loadString(h.Load), h.JupyterHub, h.Spawner, h.Boards, h.Lesson, h.CellsEach, h.HubUpS, h.SpawnS, h.Learners, h.WallS, dur(h.CellP50S), dur(h.CellP95S), dur(h.FirstCellP50S),
			h.PeakHubMB, h.PeakServersMB, h.PeakServersMB/float64(h.Learners), h.PeakKernelsMB, h.PeakKernelsMB/float64(h.Learners), h.PeakBoardsMB, h.PeakBoardsMB/float64(h.Learners), h.PeakTotalMB)
	}
	b.WriteString("\n**Aims** (issues 8 and 17):\n\n")
	for _, a := range r.Aims {
		mark := "met"
		if !a.Met {
			mark = "**missed**"
		}
		fmt.Fprintf(&b, "- %s: %s — %s\n", a.Aim, mark, a.Figure)
	}
	return b.String()
}

// percent shows a fraction of a limit; on a loopback link the limit is
// far below what the interpreter's own work takes.
func percent(f float64) string {
	if f < 0.01 {
		return "< 1 %"
	}
	return fmt.Sprintf("%.0f %%", 100*f)
}

func loadString(l []float64) string {
	var parts []string
	for _, v := range l {
		parts = append(parts, fmt.Sprintf("%.2f", v))
	}
	return strings.Join(parts, "/")
}
