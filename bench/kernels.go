package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"webrepl-kernel/jupyter"
	"webrepl-kernel/kernelspec"
)

// driver is the Jupyter frontend: bench/jupyter_driver.py, the pinned
// jupyter_client, one process for all kernels.
type driver struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	next  int
	wait  map[int]chan map[string]any
	dead  chan struct{}
}

func startDriver(python, script string) (*driver, error) {
	cmd := exec.Command(python, script)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the Jupyter driver (%s %s): %w", python, script, err)
	}
	d := &driver{cmd: cmd, stdin: stdin, wait: map[int]chan map[string]any{}, dead: make(chan struct{})}
	go func() {
		defer close(d.dead)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				fmt.Fprintf(os.Stderr, "bench: unreadable driver line %q\n", sc.Text())
				continue
			}
			tag, _ := m["tag"].(float64)
			d.mu.Lock()
			ch := d.wait[int(tag)]
			delete(d.wait, int(tag))
			d.mu.Unlock()
			if ch != nil {
				ch <- m
			}
		}
	}()
	return d, nil
}

// call sends one command and waits for its answer.
func (d *driver) call(ctx context.Context, cmd map[string]any) (map[string]any, error) {
	ch := make(chan map[string]any, 1)
	d.mu.Lock()
	d.next++
	tag := d.next
	d.wait[tag] = ch
	cmd["tag"] = tag
	line, _ := json.Marshal(cmd)
	_, err := d.stdin.Write(append(line, '\n'))
	d.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("writing to the Jupyter driver: %w", err)
	}
	select {
	case m := <-ch:
		if f, ok := m["fail"].(string); ok {
			return nil, fmt.Errorf("%s: %s", cmd["op"], f)
		}
		return m, nil
	case <-d.dead:
		return nil, errors.New("the Jupyter driver exited")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (d *driver) close() {
	d.stdin.Close()
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
}

// kernelProc is one running `webrepl-kernel kernel` and its frontend.
type kernelProc struct {
	name    string
	cmd     *exec.Cmd
	drv     *driver
	started time.Time
	exited  chan struct{}
	startup time.Duration // until jupyter_client's wait_for_ready returned
	bound   time.Duration // until the shell port accepted
}

var kernelSeq struct {
	sync.Mutex
	n int
}

// startKernel starts the built kernel for a board, connects the driver and
// returns once kernel_info_reply has arrived, with the time that took from
// process start. A kernel that dies before answering (another process took
// one of its ports between choosing and binding) is started again.
func startKernel(ctx context.Context, exe, dir string, drv *driver, b *board) (*kernelProc, time.Duration, error) {
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		var k *kernelProc
		var startup time.Duration
		k, startup, err = startKernelOnce(ctx, exe, dir, drv, b)
		if err == nil {
			return k, startup, nil
		}
		fmt.Fprintf(os.Stderr, "bench: a kernel did not start (attempt %d): %v\n", attempt, err)
	}
	return nil, 0, err
}

func startKernelOnce(ctx context.Context, exe, dir string, drv *driver, b *board) (*kernelProc, time.Duration, error) {
	kernelSeq.Lock()
	kernelSeq.n++
	name := "k" + strconv.Itoa(kernelSeq.n)
	kernelSeq.Unlock()
	ports, err := freePorts(5)
	if err != nil {
		return nil, 0, err
	}
	info := jupyter.ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", ShellPort: ports[0], IOPubPort: ports[1],
		StdinPort: ports[2], ControlPort: ports[3], HBPort: ports[4], Key: "bench-" + name, SignatureScheme: "hmac-sha256"}
	data, _ := json.Marshal(info)
	connFile := filepath.Join(dir, name+".json")
	if err := os.WriteFile(connFile, data, 0o600); err != nil {
		return nil, 0, err
	}
	cmd := exec.Command(exe, "kernel", "--connection-file", connFile)
	cmd.Env = append(os.Environ(), kernelspec.EnvURL+"="+b.url, kernelspec.EnvPassword+"="+b.password,
		"XDG_RUNTIME_DIR="+dir) // the kernels' handover lock files stay in the bench's folder
	cmd.Stderr = os.Stderr
	dieWithParent(cmd)
	k := &kernelProc{name: name, cmd: cmd, drv: drv, exited: make(chan struct{})}
	k.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("starting the kernel: %w", err)
	}
	go func() { _ = cmd.Wait(); close(k.exited) }()
	bound := make(chan time.Duration, 1)
	go func() { bound <- untilAccepting(k, ports[0]) }()
	m, err := drv.call(ctx, map[string]any{"op": "connect", "kernel": name, "connection_file": connFile})
	if err != nil {
		k.kill()
		return nil, 0, fmt.Errorf("kernel %s: %w", name, err)
	}
	ready := m["ready_wall"].(float64)
	k.startup = time.Unix(0, int64(ready*1e9)).Sub(k.started)
	k.bound = <-bound
	return k, k.startup, nil
}

// untilAccepting is how long after its start the kernel's shell port took
// a TCP connection (0 if the kernel ended first).
func untilAccepting(k *kernelProc, port int) time.Duration {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return time.Since(k.started)
		}
		select {
		case <-k.exited:
			return 0
		case <-time.After(time.Millisecond):
		}
		if time.Since(k.started) > time.Minute {
			return 0
		}
	}
}

// execResult is what the driver saw of one cell.
type execResult struct {
	Status, Stdout, Stderr, Error string
	Marker, Reply                 time.Duration
	Streams                       []streamAt
	Displays                      []displayAt // display_data and update_display_data
	IOPub                         int         // the cell's iopub messages, status included
	Comms                         []commOpen  // comm_open messages
}

// displayAt is a display message as it reached the frontend.
type displayAt struct {
	At   time.Time
	Kind string // display_data or update_display_data
	Text string // its text/plain
}

// commOpen is a comm the kernel opened (a widget's model).
type commOpen struct{ ID, Model string }

type streamAt struct {
	At   time.Time
	Text string
}

func (k *kernelProc) execute(ctx context.Context, code, marker string) (execResult, error) {
	m, err := k.drv.call(ctx, map[string]any{"op": "execute", "kernel": k.name, "code": code, "marker": marker})
	if err != nil {
		return execResult{}, fmt.Errorf("kernel %s: %w", k.name, err)
	}
	r := execResult{}
	r.Status, _ = m["status"].(string)
	r.Stdout, _ = m["stdout"].(string)
	r.Stderr, _ = m["stderr"].(string)
	r.Error, _ = m["error"].(string)
	if v, ok := m["marker_s"].(float64); ok {
		r.Marker = time.Duration(v * float64(time.Second))
	}
	if v, ok := m["reply_s"].(float64); ok {
		r.Reply = time.Duration(v * float64(time.Second))
	}
	if ss, ok := m["streams"].([]any); ok {
		for _, s := range ss {
			pair, _ := s.([]any)
			if len(pair) == 2 {
				at, _ := pair[0].(float64)
				text, _ := pair[1].(string)
				r.Streams = append(r.Streams, streamAt{At: time.Unix(0, int64(at*1e9)), Text: text})
			}
		}
	}
	if ds, ok := m["displays"].([]any); ok {
		for _, d := range ds {
			f, _ := d.([]any)
			if len(f) == 3 {
				at, _ := f[0].(float64)
				kind, _ := f[1].(string)
				text, _ := f[2].(string)
				r.Displays = append(r.Displays, displayAt{At: time.Unix(0, int64(at*1e9)), Kind: kind, Text: text})
			}
		}
	}
	if n, ok := m["iopub"].(float64); ok {
		r.IOPub = int(n)
	}
	if cs, ok := m["comms"].([]any); ok {
		for _, c := range cs {
			f, _ := c.([]any)
			if len(f) == 2 {
				id, _ := f[0].(string)
				model, _ := f[1].(string)
				r.Comms = append(r.Comms, commOpen{ID: id, Model: model})
			}
		}
	}
	return r, nil
}

// commUpdate sends a widget's new state as the frontend does between
// cells and returns when it was sent, once the kernel is idle again.
func (k *kernelProc) commUpdate(ctx context.Context, commID string, state map[string]any) (time.Time, error) {
	m, err := k.drv.call(ctx, map[string]any{"op": "comm_update", "kernel": k.name, "comm_id": commID, "state": state})
	if err != nil {
		return time.Time{}, fmt.Errorf("kernel %s: %w", k.name, err)
	}
	sent, _ := m["sent_wall"].(float64)
	return time.Unix(0, int64(sent*1e9)), nil
}

// shutdown asks the kernel to exit (shutdown_request) and waits for it.
func (k *kernelProc) shutdown(ctx context.Context) {
	_, _ = k.drv.call(ctx, map[string]any{"op": "shutdown", "kernel": k.name})
	select {
	case <-k.exited:
	case <-time.After(15 * time.Second):
		k.kill()
	}
}

func (k *kernelProc) kill() {
	_ = k.cmd.Process.Kill()
	<-k.exited
}

func (k *kernelProc) rssKB() int64 { return rssKB(k.cmd.Process.Pid) }

// rssKB is a process's resident memory (VmRSS), 0 if it is gone.
func rssKB(pid int) int64 { return statusKB(pid, "VmRSS:") }

// peakKB is a process's peak resident memory (VmHWM), 0 if it is gone.
func peakKB(pid int) int64 { return statusKB(pid, "VmHWM:") }

// statusKB reads one kB field of /proc/PID/status.
func statusKB(pid int, field string) int64 {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// descendants lists the processes below pid (the boards' Node processes
// are children of this program).
func descendants(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so cut after ")".
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 {
			pp, _ := strconv.Atoi(fields[1])
			parent[p] = pp
		}
	}
	var out []int
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// handedOut remembers every port given to a kernel in this run: kernels
// started at the same moment must not be given the same free port.
var handedOut struct {
	sync.Mutex
	ports map[int]bool
}

func freePorts(n int) ([]int, error) {
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.ports == nil {
		handedOut.ports = map[int]bool{}
	}
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		if p := l.Addr().(*net.TCPAddr).Port; !handedOut.ports[p] {
			handedOut.ports[p] = true
			ports = append(ports, p)
		}
	}
	return ports, nil
}
