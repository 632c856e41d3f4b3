//go:build linux

package main

// End to end: the rehearsal (`run --boards`) over simulated boards, one
// with a wrong password, one not listening, one busy with another client,
// one whose password file others can read; and the kernel choosing its
// board from a board map.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"webrepl-kernel/jupyter"
	"webrepl-kernel/notebook"
	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
	"webrepl-kernel/webrepl"
)

// writePasswordFile writes pw into dir/name with mode perm.
func writePasswordFile(t *testing.T, dir, name, pw string, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(pw+"\n"), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // umask aside
		t.Fatal(err)
	}
	return path
}

// writeMap writes a board map (mode 0644, as a classroom's) into dir.
func writeMap(t *testing.T, dir, text string) string {
	t.Helper()
	path := filepath.Join(dir, "boards.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// closedURL is a WebREPL address where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "ws://" + addr + "/"
}

func idleBoard(t *testing.T) *sim.Board {
	t.Helper()
	return simtest.Start(t, sim.Options{Profile: "ideal"})
}

func TestRehearsalTableReportAndExitCode(t *testing.T) {
	t.Parallel()
	alice, table, wrong, busy := idleBoard(t), idleBoard(t), idleBoard(t), idleBoard(t)
	// Another client holds the busy board for the whole rehearsal.
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	holder, err := webrepl.Dial(ctx, busy.URL(), webrepl.Options{Password: busy.Password()})
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()

	dir := t.TempDir()
	secrets := t.TempDir()
	mapText := fmt.Sprintf(`# the test classroom
alice   = %s  password_file=%s
@table2 = %s  password_file=%s
carol   = @table2
dave    = @table2
bob     = %s  password_file=%s
eve     = %s  password_file=%s
frank   = %s  password_file=%s
gina    = %s  password_file=%s
`,
		alice.URL(), writePasswordFile(t, secrets, "alice", alice.Password(), 0o600),
		table.URL(), writePasswordFile(t, secrets, "table2", table.Password(), 0o600),
		wrong.URL(), writePasswordFile(t, secrets, "bob", "not-"+wrong.Password(), 0o600),
		closedURL(t), writePasswordFile(t, secrets, "eve", "whatever", 0o600),
		busy.URL(), writePasswordFile(t, secrets, "frank", busy.Password(), 0o600),
		closedURL(t), writePasswordFile(t, secrets, "gina", "readable", 0o644))
	mapPath := writeMap(t, dir, mapText)
	good := writeLesson(t, dir, "1-blink.ipynb", nbCell{Source: "print('hello from', 6 * 7)"})
	failing := writeLesson(t, dir, "2-sensor.ipynb",
		nbCell{Source: "print('first')"},
		nbCell{Source: "undefined_name"},
		nbCell{Source: "print('never')"})
	report := filepath.Join(dir, "report.json")

	res := runCLI(t, nil, nil, "run", "--boards", mapPath, "--jobs", "3", "--timeout", "60", "--report", report, good, failing)
	t.Logf("run --boards:\n%s%s", res.stdout, res.stderr)
	if res.code != 1 {
		t.Errorf("exit %d, want 1\n%s%s", res.code, res.stdout, res.stderr)
	}
	rows := map[string]string{}
	grid, _, _ := strings.Cut(res.stdout, "\n\n") // the table, before the problems
	for _, l := range strings.Split(grid, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			rows[f[0]] = strings.Join(f[1:], " ")
		}
	}
	for board, want := range map[string]string{
		"board":   "1-blink 2-sensor",
		"alice":   "ok cell 2: NameError",
		"@table2": "ok cell 2: NameError",
		"bob":     "wrong password wrong password",
		"eve":     "unreachable unreachable",
		"frank":   "busy busy",
		"gina":    "no password no password",
	} {
		if got, ok := rows[board]; !ok || got != want {
			t.Errorf("row %q = %q, want %q\n%s", board, got, want, res.stdout)
		}
	}
	for _, want := range []string{
		"alice (" + alice.URL() + ") × 2-sensor: cell 2 raised NameError",
		"bob (" + wrong.URL() + "): wrong password: wrong WebREPL password",
		"eve (ws://127.0.0.1:", "): unreachable: board unreachable",
		"frank (" + busy.URL() + "): busy: the board turned this connection away",
		"gina (ws://127.0.0.1:", "): no password: password file " + filepath.Join(secrets, "gina") + ": other users can read or change it (mode 0644)",
		"rehearsal: 6 board(s) × 2 lesson(s): 2 ok, 2 failed, 2 unreachable, 2 wrong password, 2 busy, 2 no password; 0 of 6 board(s) ready",
	} {
		if strings.Count(res.stdout, want) != 1 {
			t.Errorf("output lacks %q once:\n%s", want, res.stdout)
		}
	}

	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Map     string   `json:"map"`
		Lessons []string `json:"lessons"`
		Boards  []struct {
			Name     string   `json:"name"`
			URL      string   `json:"url"`
			Learners []string `json:"learners"`
			Results  []struct {
				Lesson, Status, Error, Ename string
				Cell                         int
				Detail                       []string
			} `json:"results"`
		} `json:"boards"`
		Counts      map[string]int `json:"counts"`
		BoardsReady int            `json:"boards_ready"`
		OK          bool           `json:"ok"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, data)
	}
	if rep.OK || rep.Map != mapPath || len(rep.Lessons) != 2 || len(rep.Boards) != 6 || rep.Counts["ok"] != 2 || rep.Counts["busy"] != 2 {
		t.Errorf("report summary: %s", data)
	}
	tb := rep.Boards[1]
	if tb.Name != "@table2" || strings.Join(tb.Learners, ",") != "carol,dave" || tb.URL != table.URL() {
		t.Errorf("group board in the report: %+v", tb)
	}
	failed := tb.Results[1]
	if failed.Status != "failed" || failed.Cell != 2 || failed.Ename != "NameError" || !strings.Contains(strings.Join(failed.Detail, "\n"), "undefined_name") {
		t.Errorf("failing lesson in the report: %+v", failed)
	}
	if got := rep.Boards[0].Results[0]; got.Status != "ok" || got.Error != "" {
		t.Errorf("passing lesson in the report: %+v", got)
	}
}

// A board that passes everything: exit 0, no problems section.
func TestRehearsalAllReady(t *testing.T) {
	t.Parallel()
	board := idleBoard(t)
	dir := t.TempDir()
	mapPath := writeMap(t, dir, fmt.Sprintf("* = %s password_file=%s\n", board.URL(),
		writePasswordFile(t, dir, "pw", board.Password(), 0o600)))
	nb := writeLesson(t, dir, "lesson.ipynb", nbCell{Source: "x = 6 * 7\nx"})
	res := runCLI(t, nil, nil, "run", "--boards", mapPath, nb)
	if res.code != 0 || strings.Contains(res.stdout, "problems:") ||
		!strings.Contains(res.stdout, "rehearsal: 1 board(s) × 1 lesson(s): 1 ok, 0 failed; 1 of 1 board(s) ready") {
		t.Errorf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

func TestRehearsalUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	nb := writeLesson(t, dir, "a.ipynb", nbCell{Source: "1"})
	mapPath := writeMap(t, dir, "* = 127.0.0.1\n")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run", "--boards", mapPath, "--url", "ws://127.0.0.1:1/", nb}, 2, "--url does not go with it"},
		{[]string{"run", "--boards", mapPath, "--sim", nb}, 2, "--sim does not go with it"},
		{[]string{"run", "--boards", mapPath, "--jobs", "0", nb}, 2, "--jobs 0: want 1 or more"},
		{[]string{"run", "--url", "ws://127.0.0.1:1/", "--jobs", "2", nb}, 2, "--jobs and --report go with --boards"},
		{[]string{"run", "--boards", filepath.Join(dir, "missing.conf"), nb}, 1, "missing.conf: no such file"},
		{[]string{"run", "--boards", writeMap(t, t.TempDir(), "alice ws://x\n"), nb}, 1, "boards.conf:1: want NAME = URL"},
	} {
		res := runCLI(t, nil, nil, tc.args...)
		if res.code != tc.code || strings.Count(res.stderr, tc.want) != 1 || res.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d and %q once", tc.args, res.code, res.stdout, res.stderr, tc.code, tc.want)
		}
	}
}

// kernelOutput starts the kernel (this binary) with env, runs the cells
// in order and returns each cell's text: its streams and its error line.
func kernelOutput(t *testing.T, env []string, cells ...string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	// No board from the caller's environment; the test's env comes last and wins.
	base := []string{runMainEnv + "=1", "WEBREPL_URL=", "WEBREPL_PASSWORD=", "JUPYTERHUB_USER=", "WEBREPL_BOARDS="}
	start := notebook.LaunchKernel([]string{os.Args[0], "kernel", "--connection-file", "{connection_file}"}, append(base, env...), os.Stderr)
	k, err := start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Stop()
	var texts []string
	for _, code := range cells {
		var out strings.Builder
		reply, err := k.Execute(ctx, jupyter.ExecuteRequest{Code: code, UserExpressions: map[string]string{}}, jupyter.ExecuteHooks{
			Output: func(m jupyter.Message) {
				var c struct{ Text, Ename, Evalue string }
				if json.Unmarshal(m.Content, &c) == nil && m.Type == "stream" {
					out.WriteString(c.Text)
				}
			}})
		if err != nil {
			t.Fatalf("%q: %v", code, err)
		}
		if reply.Status == jupyter.StatusError {
			fmt.Fprintf(&out, "%s: %s\n", reply.Ename, reply.Evalue)
		}
		texts = append(texts, out.String())
	}
	return texts
}

func TestKernelTakesItsBoardFromTheMap(t *testing.T) {
	t.Parallel()
	a, b := idleBoard(t), idleBoard(t)
	login := currentLogin(t)
	dir := t.TempDir()
	pw := func(name, value string, perm os.FileMode) string { return writePasswordFile(t, dir, name, value, perm) }
	mapPath := writeMap(t, dir, fmt.Sprintf(`alice   = %s password_file=%s
@table  = %s password_file=%s
carol   = @table password_file=%s
dave    = @table
%s = %s password_file=%s
mallory = %s password_file=%s
*       = %s password_file=%s
`, a.URL(), pw("alice", a.Password(), 0o600),
		b.URL(), pw("table", b.Password(), 0o600),
		pw("carol", b.Password(), 0o600),
		login, b.URL(), pw("login", b.Password(), 0o600),
		a.URL(), pw("mallory", a.Password(), 0o640),
		a.URL(), pw("default", a.Password(), 0o600)))
	origin := func(line int, rest string) string {
		return fmt.Sprintf("Chosen by: board map %s:%d %s\n", mapPath, line, rest)
	}
	for _, tc := range []struct {
		name string
		env  []string
		url  string
		want string
	}{
		{"JUPYTERHUB_USER", []string{"JUPYTERHUB_USER=alice"}, a.URL(), origin(1, "(alice =)")},
		{"login name", nil, b.URL(), origin(5, "("+login+" =)")},
		{"group, own password file", []string{"JUPYTERHUB_USER=carol"}, b.URL(), origin(3, "(carol = @table), group's board on line 2")},
		{"group, group's password file", []string{"JUPYTERHUB_USER=dave"}, b.URL(), origin(4, "(dave = @table), group's board on line 2")},
		{"default", []string{"JUPYTERHUB_USER=zed"}, a.URL(), origin(7, "(the default, * =; no entry for zed)")},
		{"WEBREPL_URL wins", []string{"JUPYTERHUB_USER=alice", "WEBREPL_URL=" + b.URL(), "WEBREPL_PASSWORD=" + b.Password()}, b.URL(),
			"Chosen by: WEBREPL_URL (the kernelspec's env, or the environment the kernel was started in)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := append([]string{"WEBREPL_BOARDS=" + mapPath}, tc.env...)
			out := kernelOutput(t, env, "%board")[0]
			if !strings.Contains(out, "URL:       "+tc.url+"\n") || !strings.HasSuffix(out, tc.want) {
				t.Errorf("%%board:\n%s\nwant URL %s and last line %q", out, tc.url, tc.want)
			}
		})
	}

	// A password file others can read is refused in one line; %connect
	// still picks a board, and %board says so.
	out := kernelOutput(t, []string{"WEBREPL_BOARDS=" + mapPath, "JUPYTERHUB_USER=mallory"},
		"print('hi')", "%connect "+b.URL()+" --password "+b.Password(), "%board")
	wantErr := fmt.Sprintf("ConnectionError: password file %s: other users can read or change it (mode 0640); refused: chmod 600 %s (owned by its learner) (learner mallory, board map %s:6 (mallory =)); %%connect URL picks a board meanwhile\n",
		filepath.Join(dir, "mallory"), filepath.Join(dir, "mallory"), mapPath)
	if out[0] != wantErr {
		t.Errorf("cell with an open password file:\n%q\nwant\n%q", out[0], wantErr)
	}
	if !strings.Contains(out[2], "URL:       "+b.URL()+"\n") || !strings.HasSuffix(out[2], "Chosen by: %connect in this kernel\n") {
		t.Errorf("%%board after %%connect:\n%s", out[2])
	}

	// A mistake in the map is the first cell's error, naming file and line.
	bad := writeMap(t, t.TempDir(), "alice = "+a.URL()+"\nbob = "+a.URL()+" password=inline\n")
	out = kernelOutput(t, []string{"WEBREPL_BOARDS=" + bad, "JUPYTERHUB_USER=alice"}, "print('hi')")
	if want := "ConnectionError: " + bad + ":2: password= in a map other users can read (mode 0644)"; !strings.HasPrefix(out[0], want) || strings.Count(out[0], "\n") != 1 {
		t.Errorf("cell with a bad map:\n%q\nwant one line starting %q", out[0], want)
	}
	// A learner the map does not know, and no default.
	noDefault := writeMap(t, t.TempDir(), "alice = "+a.URL()+"\n")
	out = kernelOutput(t, []string{"WEBREPL_BOARDS=" + noDefault, "JUPYTERHUB_USER=zed"}, "print('hi')")
	if want := "ConnectionError: board map " + noDefault + " has no line for learner zed and no default (* = URL): ask the teacher"; !strings.HasPrefix(out[0], want) {
		t.Errorf("cell for an unknown learner:\n%q\nwant %q", out[0], want)
	}
}

func currentLogin(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}
