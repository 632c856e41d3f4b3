package kernelspec

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"webrepl-kernel/internal/pyenv"
	"webrepl-kernel/kernelspec/internal/logo"
)

func TestLogosMatchTheirGenerator(t *testing.T) {
	for _, size := range []int{32, 64} {
		name := "assets/logo-" + itoa(size) + "x" + itoa(size) + ".png"
		committed, err := assets.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(committed))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Errorf("%s is %v, want %dx%d", name, b, size, size)
		}
		fresh, err := logo.PNG(size)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(committed, fresh) {
			t.Errorf("%s differs from the generator; run go run ./kernelspec/internal/logo/gen kernelspec/assets", name)
		}
	}
	svg, err := assets.ReadFile("assets/logo-svg.svg")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(svg, logo.SVG()) {
		t.Error("logo-svg.svg differs from the generator")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestInstallHonoursJupyterDataDir(t *testing.T) {
	data := t.TempDir()
	t.Setenv("JUPYTER_DATA_DIR", data)
	dir, err := Install(context.Background(), Options{Executable: "/opt/bin/webrepl-kernel", URL: "ws://10.0.0.5:8266/", Password: "pw123"})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(data, "kernels", DefaultName); dir != want {
		t.Fatalf("installed into %s, want %s", dir, want)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	wantArgv := []string{"/opt/bin/webrepl-kernel", "kernel", "--connection-file", "{connection_file}"}
	if strings.Join(spec.Argv, " ") != strings.Join(wantArgv, " ") {
		t.Errorf("argv = %q, want %q", spec.Argv, wantArgv)
	}
	if spec.InterruptMode != "message" || spec.Language != "python" || spec.DisplayName != DefaultDisplayName {
		t.Errorf("spec = %+v", spec)
	}
	if spec.Env[EnvURL] != "ws://10.0.0.5:8266/" || spec.Env[EnvPassword] != "pw123" {
		t.Errorf("env = %v", spec.Env)
	}
	if _, set := spec.Env[EnvWindow]; set {
		t.Errorf("env has %s without --window or --full-window: %v", EnvWindow, spec.Env)
	}
	info, err := os.Stat(filepath.Join(dir, "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		t.Errorf("kernel.json with a password has mode %v, want private", info.Mode().Perm())
	}
	for _, f := range []string{"logo-32x32.png", "logo-64x64.png", "logo-svg.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	removed, err := Uninstall(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if removed != dir {
		t.Errorf("removed %s, want %s", removed, dir)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("kernelspec still there after uninstall: %v", err)
	}
	if _, err := Uninstall(context.Background(), Options{}); err == nil {
		t.Error("second uninstall succeeded, want a 'no kernelspec' error")
	}
}

func TestInstallWithoutBoardHasNoEnv(t *testing.T) {
	prefix := t.TempDir()
	dir, err := Install(context.Background(), Options{Prefix: prefix, Name: "board2", DisplayName: "Board 2", Executable: "/x/k"})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(prefix, "share", "jupyter", "kernels", "board2"); dir != want {
		t.Fatalf("dir = %s, want %s", dir, want)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if strings.Contains(string(raw), `"env"`) {
		t.Errorf("kernel.json has env without --url/--password:\n%s", raw)
	}
	if !strings.Contains(string(raw), `"Board 2"`) {
		t.Errorf("display name missing:\n%s", raw)
	}
}

func TestInstallFullWindowWritesItsEnv(t *testing.T) {
	opts, err := parseInstall("--prefix", t.TempDir(), "--full-window")
	if err != nil {
		t.Fatal(err)
	}
	opts.Executable = "/x/k"
	dir, err := Install(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	if len(spec.Env) != 1 || spec.Env[EnvWindow] != "full" {
		t.Errorf("env = %v, want only %s=full (--full-window is --window full)", spec.Env, EnvWindow)
	}
	if _, err := parseInstall("--prefix", t.TempDir(), "--full-window", "--window", "safe"); err == nil {
		t.Error("--full-window with --window safe accepted")
	}
}

func TestInstallRejectsBadInput(t *testing.T) {
	t.Setenv("JUPYTER_DATA_DIR", t.TempDir())
	if _, err := Install(context.Background(), Options{Name: "../evil", Executable: "/x"}); err == nil {
		t.Error("name with a slash accepted")
	}
	if _, err := parseInstall("--user", "--prefix", "/tmp"); err == nil {
		t.Error("--user with --prefix accepted")
	}
	if _, err := parseUninstall("--user", "--sys-prefix"); err == nil {
		t.Error("uninstall --user with --sys-prefix accepted")
	}
	opts, err := parseInstall("--name", "n1", "--url", "ws://a/", "--password", "p", "--display-name", "D")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Name != "n1" || opts.URL != "ws://a/" || opts.Password != "p" || opts.DisplayName != "D" {
		t.Errorf("parsed %+v", opts)
	}
}

// Jupyter's own kernelspec listing must find the installed kernel.
func TestJupyterListsInstalledKernel(t *testing.T) {
	python := pyenv.Python(t, "jupyter_client")
	data := t.TempDir()
	t.Setenv("JUPYTER_DATA_DIR", data)
	// In a virtual environment jupyter_core 5 searches the environment's kernels before
	// JUPYTER_DATA_DIR; JUPYTER_PATH comes first everywhere.
	t.Setenv("JUPYTER_PATH", data)
	if _, err := Install(context.Background(), Options{Executable: "/x/webrepl-kernel"}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-m", "jupyter_client.kernelspecapp", "list", "--json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kernelspec list: %v\n%s", err, stderr.Bytes())
	}
	var listing struct {
		Kernelspecs map[string]struct {
			ResourceDir string `json:"resource_dir"`
			Spec        Spec   `json:"spec"`
		} `json:"kernelspecs"`
	}
	if err := json.Unmarshal(out, &listing); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got, ok := listing.Kernelspecs[DefaultName]
	if !ok {
		t.Fatalf("jupyter does not list %s:\n%s", DefaultName, out)
	}
	if got.Spec.InterruptMode != "message" || got.ResourceDir != filepath.Join(data, "kernels", DefaultName) {
		t.Errorf("listed %+v", got)
	}
}

func parseInstall(args ...string) (Options, error) {
	fs := flag.NewFlagSet("install", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	check := InstallFlags(fs)
	if err := fs.Parse(args); err != nil {
		return Options{}, err
	}
	return check()
}

func parseUninstall(args ...string) (Options, error) {
	fs := flag.NewFlagSet("uninstall", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	check := UninstallFlags(fs)
	if err := fs.Parse(args); err != nil {
		return Options{}, err
	}
	return check()
}
