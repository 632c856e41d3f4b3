package main

// The hub section: a workshop on this machine. scripts/hub.sh starts
// JupyterHub (examples/jupyterhub) with one simulated board per learner and
// an admin service token; this program then does what a class does, through
// the hub's REST API and each server's kernel WebSocket as a browser would:
// it creates the learners and a token each, starts every learner's server,
// opens lesson 1 from the learner's own folder (where the hub copied it) and
// runs its cells in every learner's kernel at once, comparing every output
// with the stored one. It reports how long until all had finished, the
// cells' p50/p95, and the peak memory of the hub, the servers, the kernels
// and the boards.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"webrepl-kernel/notebook"
)

// HubResult is n learners running a lesson at once through JupyterHub.
type HubResult struct {
	Generated     string    `json:"generated"`
	Load          []float64 `json:"load_before"` // /proc/loadavg when the section began
	Learners      int       `json:"learners"`
	Lesson        string    `json:"lesson"`
	CellsEach     int       `json:"cells_each"`
	JupyterHub    string    `json:"jupyterhub"`
	Spawner       string    `json:"spawner"`
	Boards        string    `json:"boards"`     // how the simulated boards ran
	HubUpS        float64   `json:"hub_up_s"`   // script start until the hub answered (boards booted)
	SpawnS        float64   `json:"spawn_s"`    // users, tokens and every server ready, kernels started
	WallS         float64   `json:"wall_s"`     // the lesson in every kernel at once, until the last finished
	CellP50S      float64   `json:"cell_p50_s"` // execute_request until status idle, every cell of every learner
	CellP95S      float64   `json:"cell_p95_s"`
	FirstCellP50S float64   `json:"first_cell_p50_s"` // the first cell includes the kernel's connect
	Exact         bool      `json:"exact"`
	PeakHubMB     float64   `json:"peak_hub_rss_mb"` // jupyterhub, configurable-http-proxy, idle culler
	PeakServersMB float64   `json:"peak_servers_rss_mb"`
	PeakKernelsMB float64   `json:"peak_kernels_rss_mb"`
	PeakBoardsMB  float64   `json:"peak_boards_rss_mb"`
	PeakTotalMB   float64   `json:"peak_total_rss_mb"`
}

const hubLesson = "01-hello-board.ipynb"

// hubReady is what scripts/hub.sh writes to HUB_READY_FILE.
type hubReady struct {
	URL      string   `json:"url"`
	Password string   `json:"password"`
	Work     string   `json:"work"`
	PID      int      `json:"pid"`
	Learners []string `json:"learners"`
}

func measureHub(ctx context.Context, exe, dir string, n int) (HubResult, error) {
	hr := HubResult{Generated: time.Now().UTC().Format(time.RFC3339), Load: loadAvg(),
		Learners: n, Lesson: hubLesson, Spawner: "SimpleLocalProcessSpawner (local processes)"}
	root := filepath.Join(sourceDir(), "..")
	adminToken := randomHex(24)
	ports, err := freePorts(1)
	if err != nil {
		return hr, err
	}
	ready := filepath.Join(dir, "hub-ready.json")
	logPath := filepath.Join(dir, "hub.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return hr, err
	}
	defer logFile.Close()
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "hub.sh"), exe)
	cmd.Env = append(os.Environ(), fmt.Sprintf("HUB_LEARNERS=%d", n), fmt.Sprintf("HUB_PORT=%d", ports[0]),
		"HUB_ADMIN_TOKEN="+adminToken, "HUB_READY_FILE="+ready, "HUB_WORK=")
	cmd.Stderr = logFile
	ownGroup(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return hr, err
	}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return hr, fmt.Errorf("scripts/hub.sh: %w", err)
	}
	exited := make(chan error, 1)
	banner := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		seen := false
		for sc.Scan() {
			fmt.Fprintln(logFile, sc.Text())
			if !seen && strings.Contains(sc.Text(), "/hub/login") {
				seen = true
				banner <- true
			}
		}
		if !seen {
			banner <- false
		}
		exited <- cmd.Wait()
	}()
	stopped := false
	defer func() {
		if !stopped {
			stopHub(cmd, exited)
		}
	}()

	// Peak memory of everything below the script, by role.
	sampler := startHubSampler(cmd.Process.Pid)
	defer sampler.stop()

	select {
	case ok := <-banner:
		if !ok {
			return hr, fmt.Errorf("scripts/hub.sh ended before the hub answered (log %s):\n%s", logPath, tail(logPath, 30))
		}
	case <-ctx.Done():
		return hr, fmt.Errorf("the hub did not come up: %w (log %s)", ctx.Err(), logPath)
	}
	hr.HubUpS = round3(time.Since(began).Seconds())
	var info hubReady
	if data, err := os.ReadFile(ready); err != nil {
		return hr, err
	} else if err := json.Unmarshal(data, &info); err != nil {
		return hr, fmt.Errorf("%s: %w", ready, err)
	}
	if v, err := exec.Command(filepath.Join(root, "examples", "jupyterhub", ".venv", "bin", "jupyterhub"), "--version").Output(); err == nil {
		hr.JupyterHub = strings.TrimSpace(string(v))
	}
	hr.Boards = fmt.Sprintf("%d simulated esp32 boards", n)
	if out, _ := exec.Command(exe, "sim", "-h").CombinedOutput(); bytes.Contains(out, []byte("-boards")) {
		hr.Boards += " in one simulator process (sim --boards)"
	} else {
		hr.Boards += ", one simulator process each"
	}
	mapText, err := os.ReadFile(filepath.Join(info.Work, "boards.conf"))
	if err != nil {
		return hr, err
	}

	hub := &hubClient{base: info.URL, admin: adminToken, http: &http.Client{Timeout: 5 * time.Minute}}
	spawnStart := time.Now()
	learners := make([]*learner, n)
	if err := parallel(n, n, func(i int) error {
		l, err := hub.login(ctx, info.Learners[i])
		learners[i] = l
		return err
	}); err != nil {
		return hr, err
	}
	defer func() {
		for _, l := range learners {
			if l != nil && l.ws != nil {
				l.ws.Close()
			}
		}
	}()
	hr.SpawnS = round3(time.Since(spawnStart).Seconds())

	lessonStart := time.Now()
	cellTimes := make([][]time.Duration, n)
	err = parallel(n, n, func(i int) error {
		l := learners[i]
		times, err := l.runLesson(ctx)
		cellTimes[i] = times
		if err != nil {
			return fmt.Errorf("%s: %w", l.name, err)
		}
		// The learner's own board: %board names the map's line for them.
		out, err := l.execute(ctx, "%board", nil)
		if err != nil {
			return fmt.Errorf("%s, %%board: %w", l.name, err)
		}
		text := strings.Join(notebook.RenderOutputs(out.outputs), "\n")
		wantLine := mapLine(string(mapText), l.name)
		if wantLine == "" || !strings.Contains(text, "board map") || !strings.Contains(text, boardURL(wantLine)) {
			return fmt.Errorf("%s: %%board does not name their board from the map (%q):\n%s", l.name, wantLine, text)
		}
		return nil
	})
	hr.WallS = round3(time.Since(lessonStart).Seconds())
	if err != nil {
		return hr, err
	}
	var all, first []time.Duration
	for _, ts := range cellTimes {
		all = append(all, ts...)
		if len(ts) > 0 {
			first = append(first, ts[0])
		}
	}
	hr.CellsEach = len(cellTimes[0])
	hr.CellP50S = round4(quantile(all, 0.5).Seconds())
	hr.CellP95S = round4(quantile(all, 0.95).Seconds())
	hr.FirstCellP50S = round4(quantile(first, 0.5).Seconds())
	hr.Exact = true
	for _, l := range learners {
		l.ws.Close()
		l.ws = nil
	}
	peak := sampler.stop()
	hr.PeakHubMB, hr.PeakServersMB = round1(peak.hub/1024), round1(peak.servers/1024)
	hr.PeakKernelsMB, hr.PeakBoardsMB = round1(peak.kernels/1024), round1(peak.boards/1024)
	hr.PeakTotalMB = round1(peak.total / 1024)
	// Stopping the hub stops every server, and each server its kernels:
	// nothing that ran in the hub's folder may be left (an orphaned kernel
	// would keep its board's one connection).
	stopHub(cmd, exited)
	stopped = true
	if left := processesMentioning(info.Work); len(left) > 0 {
		return hr, fmt.Errorf("still running after the hub stopped: %s", strings.Join(left, "; "))
	}
	return hr, nil
}

// processesMentioning lists the command lines that contain s.
func processesMentioning(s string) []string {
	var out []string
	for p := range procParents() {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
		if err == nil && strings.Contains(string(data), s) {
			out = append(out, fmt.Sprintf("%d %s", p, strings.ReplaceAll(strings.TrimRight(string(data), "\x00"), "\x00", " ")))
		}
	}
	return out
}

// stopHub ends scripts/hub.sh as Ctrl-C would (it stops the hub, the
// servers, the kernels and the boards), and its whole group if it lingers.
func stopHub(cmd *exec.Cmd, exited <-chan error) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(90 * time.Second):
		killGroup(cmd.Process)
		<-exited
	}
}

func mapLine(text, name string) string {
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[0] == name && f[1] == "=" {
			return line
		}
	}
	return ""
}

func boardURL(line string) string {
	f := strings.Fields(line)
	if len(f) < 3 {
		return "\x00"
	}
	return f[2]
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(i, 0)]
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(path string, lines int) string {
	data, _ := os.ReadFile(path)
	l := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// hubClient talks to JupyterHub's REST API.
type hubClient struct {
	base  string
	admin string
	http  *http.Client
}

// call sends a JSON request with a token and decodes the answer into out
// (nil: ignored); a status outside ok is an error with the body.
func (h *hubClient) call(ctx context.Context, method, path, token string, body, out any, ok ...int) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	good := resp.StatusCode/100 == 2
	for _, s := range ok {
		good = good || resp.StatusCode == s
	}
	if !good {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(data)))
	}
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

// learner is one learner's server and kernel connection.
type learner struct {
	name    string
	token   string
	hub     *hubClient
	ws      *websocket.Conn
	session string
	cells   []*notebook.Cell
	frames  chan wsMessage
	readErr error
}

type wsMessage struct {
	Channel      string         `json:"channel"`
	Header       map[string]any `json:"header"`
	ParentHeader map[string]any `json:"parent_header"`
	Metadata     map[string]any `json:"metadata"`
	Content      map[string]any `json:"content"`
	Buffers      []any          `json:"buffers"`
}

// login does what a learner's first visit does: the admin creates the user
// and a token for them; with it the learner starts their server (waiting on
// the hub's progress events), opens lesson 1 from their folder and starts a
// kernel for it, and connects to the kernel's WebSocket.
func (h *hubClient) login(ctx context.Context, name string) (*learner, error) {
	if err := h.call(ctx, "POST", "/hub/api/users/"+name, h.admin, nil, nil, http.StatusConflict); err != nil {
		return nil, err
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := h.call(ctx, "POST", "/hub/api/users/"+name+"/tokens", h.admin,
		map[string]any{"note": "webrepl-kernel bench", "expires_in": 3600}, &tok); err != nil {
		return nil, err
	}
	l := &learner{name: name, token: tok.Token, hub: h, session: randomHex(16)}
	if err := h.call(ctx, "POST", "/hub/api/users/"+name+"/server", l.token, map[string]any{}, nil); err != nil {
		return nil, err
	}
	if err := l.waitReady(ctx); err != nil {
		return nil, err
	}
	var nb struct {
		Content json.RawMessage `json:"content"`
	}
	if err := h.call(ctx, "GET", l.api("contents/"+hubLesson+"?content=1&type=notebook"), l.token, nil, &nb); err != nil {
		return nil, fmt.Errorf("%s's copy of the lesson: %w", name, err)
	}
	parsed, err := notebook.Parse(nb.Content)
	if err != nil {
		return nil, fmt.Errorf("%s's copy of the lesson: %w", name, err)
	}
	for _, c := range parsed.Cells {
		if c.Type() == "code" {
			l.cells = append(l.cells, c)
		}
	}
	var sess struct {
		Kernel struct {
			ID string `json:"id"`
		} `json:"kernel"`
	}
	if err := h.call(ctx, "POST", l.api("sessions"), l.token, map[string]any{
		"path": hubLesson, "name": hubLesson, "type": "notebook", "kernel": map[string]any{"name": "micropython-webrepl"},
	}, &sess); err != nil {
		return nil, err
	}
	wsURL := strings.Replace(h.base, "http", "ws", 1) + l.api("kernels/"+sess.Kernel.ID+"/channels?session_id="+l.session)
	dialer := websocket.Dialer{HandshakeTimeout: 2 * time.Minute}
	conn, resp, err := dialer.DialContext(ctx, wsURL, http.Header{"Authorization": {"token " + l.token}})
	if err != nil {
		if resp != nil {
			err = fmt.Errorf("%w (%s)", err, resp.Status)
		}
		return nil, fmt.Errorf("%s: the kernel's WebSocket: %w", name, err)
	}
	conn.SetReadLimit(16 << 20)
	l.ws = conn
	l.frames = make(chan wsMessage, 256)
	go l.read()
	// The kernel answers kernel_info once it is up (as JupyterLab asks on connect).
	if _, err := l.request(ctx, "kernel_info_request", map[string]any{}); err != nil {
		return nil, fmt.Errorf("%s: kernel_info: %w", name, err)
	}
	return l, nil
}

func (l *learner) api(path string) string {
	return "/user/" + url.PathEscape(l.name) + "/api/" + path
}

// waitReady follows the hub's progress event stream for the learner's
// server until it says ready (or failed).
func (l *learner) waitReady(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, "GET", l.hub.base+"/hub/api/users/"+l.name+"/server/progress", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+l.token)
	resp, err := l.hub.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: spawn progress: %w", l.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: spawn progress: %s", l.name, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	var last string
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data:")
		if !ok {
			continue
		}
		var ev struct {
			Ready   bool   `json:"ready"`
			Failed  bool   `json:"failed"`
			Message string `json:"message"`
		}
		if json.Unmarshal([]byte(strings.TrimSpace(data)), &ev) != nil {
			continue
		}
		last = ev.Message
		if ev.Failed {
			return fmt.Errorf("%s: the server failed to start: %s", l.name, ev.Message)
		}
		if ev.Ready {
			return nil
		}
	}
	return fmt.Errorf("%s: the progress stream ended before the server was ready (last: %q, %v)", l.name, last, sc.Err())
}

func (l *learner) read() {
	defer close(l.frames)
	for {
		var m wsMessage
		if err := l.ws.ReadJSON(&m); err != nil {
			l.readErr = err
			return
		}
		l.frames <- m
	}
}

func (l *learner) send(msgType string, content map[string]any) (string, error) {
	id := randomHex(16)
	m := wsMessage{
		Channel: "shell",
		Header: map[string]any{"msg_id": id, "msg_type": msgType, "username": l.name, "session": l.session,
			"date": time.Now().UTC().Format(time.RFC3339Nano), "version": "5.3"},
		ParentHeader: map[string]any{}, Metadata: map[string]any{}, Content: content, Buffers: []any{},
	}
	return id, l.ws.WriteJSON(m)
}

// request sends a shell request and returns its reply's content.
func (l *learner) request(ctx context.Context, msgType string, content map[string]any) (map[string]any, error) {
	id, err := l.send(msgType, content)
	if err != nil {
		return nil, err
	}
	for {
		select {
		case m, ok := <-l.frames:
			if !ok {
				return nil, fmt.Errorf("the WebSocket closed: %v", l.readErr)
			}
			if m.Channel == "shell" && m.ParentHeader["msg_id"] == id {
				return m.Content, nil
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// cellRun is one execute_request's outputs and reply.
type cellRun struct {
	outputs []map[string]any
	reply   map[string]any
	took    time.Duration
}

// execute runs code as a notebook does and collects its outputs until the
// kernel is idle again and the reply has come.
func (l *learner) execute(ctx context.Context, code string, _ *notebook.Cell) (cellRun, error) {
	start := time.Now()
	id, err := l.send("execute_request", map[string]any{"code": code, "silent": false, "store_history": true,
		"user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true})
	if err != nil {
		return cellRun{}, err
	}
	var r cellRun
	idle := false
	for !idle || r.reply == nil {
		select {
		case m, ok := <-l.frames:
			if !ok {
				return r, fmt.Errorf("the WebSocket closed: %v", l.readErr)
			}
			if m.ParentHeader["msg_id"] != id {
				continue
			}
			msgType, _ := m.Header["msg_type"].(string)
			switch {
			case m.Channel == "shell" && msgType == "execute_reply":
				r.reply = m.Content
			case m.Channel != "iopub":
			case msgType == "status":
				if m.Content["execution_state"] == "idle" {
					idle = true
					r.took = time.Since(start)
				}
			case msgType == "stream", msgType == "execute_result", msgType == "display_data", msgType == "error":
				o := map[string]any{"output_type": msgType}
				for k, v := range m.Content {
					if k != "transient" {
						o[k] = v
					}
				}
				if msgType == "error" {
					o["output_type"] = "error"
				}
				r.outputs = append(r.outputs, o)
			case msgType == "clear_output":
				r.outputs = nil
			}
		case <-ctx.Done():
			return r, ctx.Err()
		}
	}
	return r, nil
}

// runLesson runs every code cell of the learner's lesson in order and
// compares its outputs with the stored ones (cells tagged output-varies are
// not compared; raises-exception cells must raise).
func (l *learner) runLesson(ctx context.Context) ([]time.Duration, error) {
	var times []time.Duration
	for i, c := range l.cells {
		r, err := l.execute(ctx, c.Source(), c)
		if err != nil {
			return times, fmt.Errorf("cell %d: %w", i+1, err)
		}
		times = append(times, r.took)
		status, _ := r.reply["status"].(string)
		if c.HasTag(notebook.TagRaisesException) {
			if status != "error" {
				return times, fmt.Errorf("cell %d is tagged %s but its status is %q", i+1, notebook.TagRaisesException, status)
			}
		} else if status != "ok" {
			return times, fmt.Errorf("cell %d: status %q: %v %v", i+1, status, r.reply["ename"], r.reply["evalue"])
		}
		if c.HasTag(notebook.TagOutputVaries) {
			continue
		}
		want, got := notebook.RenderOutputs(c.Outputs()), notebook.RenderOutputs(r.outputs)
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			return times, fmt.Errorf("cell %d: output differs:\n--- stored\n%s\n+++ this run\n%s", i+1, strings.Join(want, "\n"), strings.Join(got, "\n"))
		}
	}
	return times, nil
}

// hubPeaks is the highest summed RSS (kB) seen for each role.
type hubPeaks struct{ hub, servers, kernels, boards, total float64 }

type hubSampler struct {
	done    chan struct{}
	stopped chan struct{}
	once    sync.Once
	mu      sync.Mutex
	peak    hubPeaks
}

// startHubSampler samples every process below pid every 200 ms and sorts
// each into hub, server, kernel or board by its command line.
func startHubSampler(pid int) *hubSampler {
	s := &hubSampler{done: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(s.stopped)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			var now hubPeaks
			parents := procParents()
			roles := map[int]string{}
			for _, p := range append(descendants(pid), pid) {
				kb := float64(rssKB(p))
				// A process is what its nearest known ancestor is: the
				// simulator's Node worker is a board, a kernel's children
				// are the kernel's.
				role := ""
				for q := p; q > 1 && q != pid; q = parents[q] {
					if r, ok := roles[q]; ok {
						role = r
						break
					}
					if r := hubRole(q); r != "" {
						role = r
						break
					}
				}
				roles[p] = role
				switch role {
				case "server":
					now.servers += kb
				case "kernel":
					now.kernels += kb
				case "board":
					now.boards += kb
				default:
					now.hub += kb
				}
				now.total += kb
			}
			s.mu.Lock()
			s.peak.hub = math.Max(s.peak.hub, now.hub)
			s.peak.servers = math.Max(s.peak.servers, now.servers)
			s.peak.kernels = math.Max(s.peak.kernels, now.kernels)
			s.peak.boards = math.Max(s.peak.boards, now.boards)
			s.peak.total = math.Max(s.peak.total, now.total)
			s.mu.Unlock()
			select {
			case <-s.done:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *hubSampler) stop() hubPeaks {
	s.once.Do(func() { close(s.done) })
	<-s.stopped
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// procParents maps every process to its parent.
func procParents() map[int]int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		st := string(stat)
		fields := strings.Fields(st[strings.LastIndexByte(st, ')')+1:])
		if len(fields) > 1 {
			parent[p], _ = strconv.Atoi(fields[1])
		}
	}
	return parent
}

// hubRole names what a process is in the workshop: "server"
// (jupyterhub-singleuser), "kernel" (webrepl-kernel kernel), "board" (the
// simulator and its Node worker) or "" (the hub, its proxy, the culler and
// the script).
func hubRole(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
	line := strings.Join(args, " ")
	switch {
	case strings.Contains(line, "jupyterhub-singleuser"):
		return "server"
	case len(args) > 1 && strings.HasSuffix(args[0], "webrepl-kernel") && args[1] == "kernel":
		return "kernel"
	case len(args) > 1 && strings.HasSuffix(args[0], "webrepl-kernel") && args[1] == "sim":
		return "board"
	}
	return ""
}
