//go:build linux

package main

// The command-line conventions of every subcommand in the commands() table,
// checked on the real binary (this test binary re-executed as main): -h
// exits 0 with the usage on stdout, usage errors exit 2 and are printed
// once, `version` says what was built, install checks --url.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"webrepl-kernel/kernelspec"
)

func TestHelpPrintsUsageOnStdoutAndExitsZero(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-help"}, {"help"}} {
		res := runCLI(t, nil, nil, args...)
		if res.code != 0 || !strings.HasPrefix(res.stdout, "usage: webrepl-kernel COMMAND") || res.stderr != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 0 and the usage on stdout only", args, res.code, res.stdout, res.stderr)
		}
		for _, c := range commands() {
			if !strings.Contains(res.stdout, "\n  "+c.name+" ") {
				t.Errorf("%v: command %s missing from the usage:\n%s", args, c.name, res.stdout)
			}
		}
	}
	for _, c := range commands() {
		for _, args := range [][]string{{c.name, "-h"}, {c.name, "--help"}, {"help", c.name}} {
			res := runCLI(t, nil, nil, args...)
			if res.code != 0 || res.stderr != "" {
				t.Errorf("%v: exit %d, stderr %q; want 0 and nothing on stderr", args, res.code, res.stderr)
			}
			want := "usage: webrepl-kernel " + c.name + " "
			if !strings.HasPrefix(res.stdout, want) || strings.Count(res.stdout, "usage:") != 1 {
				t.Errorf("%v: stdout %q, want one usage line starting %q", args, res.stdout, want)
			}
		}
	}
}

func TestUsageErrorsArePrintedOnceAndExitTwo(t *testing.T) {
	t.Parallel()
	for _, c := range commands() {
		res := runCLI(t, nil, nil, c.name, "--no-such-flag")
		const msg = "flag provided but not defined: -no-such-flag"
		if res.code != 2 || strings.Count(res.stderr, msg) != 1 || res.stdout != "" {
			t.Errorf("%s --no-such-flag: exit %d, stdout %q, stderr %q; want 2 and %q once on stderr",
				c.name, res.code, res.stdout, res.stderr, msg)
		}
		if strings.Contains(res.stderr, "Usage of") || strings.Count(res.stderr, "usage: webrepl-kernel "+c.name) != 1 {
			t.Errorf("%s --no-such-flag: stderr %q, want our usage line once and not the flag package's", c.name, res.stderr)
		}
	}
	for _, args := range [][]string{{}, {"no-such-command"}, {"help", "no-such-command"}} {
		res := runCLI(t, nil, nil, args...)
		if res.code != 2 || res.stdout != "" || strings.Count(res.stderr, "usage: webrepl-kernel COMMAND") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and the usage once on stderr", args, res.code, res.stdout, res.stderr)
		}
	}
	for _, args := range [][]string{{"version", "extra"}, {"install", "extra"}, {"sim"}, {"kernel"},
		{"exec", "--full-window", "--window", "safe", "x.py"}, {"install", "--full-window", "--window", "safe"}} {
		res := runCLI(t, nil, nil, args...)
		if res.code != 2 || strings.Count(res.stderr, "webrepl-kernel "+args[0]+": ") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and the error once", args, res.code, res.stderr)
		}
	}
}

func TestVersionNamesTheBuild(t *testing.T) {
	t.Parallel()
	res := runCLI(t, nil, nil, "version")
	expectExit(t, res, 0)
	lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	if lines[0] != "webrepl-kernel "+version {
		t.Errorf("first line %q, want %q", lines[0], "webrepl-kernel "+version)
	}
	if !strings.Contains(res.stdout, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH) {
		t.Errorf("version output %q lacks the Go version %s", res.stdout, runtime.Version())
	}
	if res.stderr != "" {
		t.Errorf("stderr %q", res.stderr)
	}
}

// install refuses a URL that is not a WebREPL address on the spot, in one
// line, and completes a bare host into the URL kernel.json carries.
func TestInstallChecksAndCompletesTheURL(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"http://x", "https://board:8266/", "x/y"} {
		prefix := t.TempDir()
		res := runCLI(t, nil, nil, "install", "--prefix", prefix, "--url", bad)
		if res.code != 2 || strings.Count(res.stderr, "\n") != 1 || !strings.Contains(res.stderr, "ws://") {
			t.Errorf("install --url %s: exit %d, stderr %q; want 2 and one line naming ws://", bad, res.code, res.stderr)
		}
		if entries, _ := os.ReadDir(prefix); len(entries) != 0 {
			t.Errorf("install --url %s wrote into the prefix anyway", bad)
		}
	}
	for in, want := range map[string]string{
		"192.168.4.1":       "ws://192.168.4.1:8266/",
		"192.168.4.1:9000":  "ws://192.168.4.1:9000/",
		"wss://b.example/r": "wss://b.example/r",
	} {
		prefix := t.TempDir()
		res := runCLI(t, nil, nil, "install", "--prefix", prefix, "--url", in)
		expectExit(t, res, 0)
		raw, err := os.ReadFile(filepath.Join(prefix, "share", "jupyter", "kernels", kernelspec.DefaultName, "kernel.json"))
		if err != nil {
			t.Fatal(err)
		}
		var spec kernelspec.Spec
		if err := json.Unmarshal(raw, &spec); err != nil {
			t.Fatal(err)
		}
		if got := spec.Env[kernelspec.EnvURL]; got != want {
			t.Errorf("install --url %s: kernel.json has %s=%q, want %q", in, kernelspec.EnvURL, got, want)
		}
	}
}

// A board command refuses a bad address before connecting, like install.
func TestBoardCommandsRefuseANonWebSocketURL(t *testing.T) {
	t.Parallel()
	res := runCLI(t, []string{"WEBREPL_PASSWORD=x"}, nil, "ls", "--url", "http://192.0.2.1/")
	if res.code != 2 || strings.Count(res.stderr, "\n") != 1 {
		t.Errorf("ls --url http://…: exit %d, stderr %q; want 2 and one line", res.code, res.stderr)
	}
}
