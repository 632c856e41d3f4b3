// Package kernelspec writes and removes the Jupyter kernelspec of the
// webrepl kernel: a directory named after the kernel holding kernel.json and
// the logos, in one of the places Jupyter searches (user data dir, honouring
// JUPYTER_DATA_DIR; an explicit prefix; or the Python environment's prefix;
// docs/protocol/jupyter.md §6). InstallFlags and UninstallFlags define the
// CLI's flags for them.
package kernelspec

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
)

// Defaults of the installed kernel.
const (
	DefaultName        = "micropython-webrepl"
	DefaultDisplayName = "MicroPython (WebREPL)"
	// Language is "python" so that Jupyter frontends highlight cells as Python
	// and notebooks open with Python tooling; MicroPython is a Python.
	Language = "python"
)

// Environment variables the kernel reads its board from; install writes them
// into kernel.json's env when --url/--password/--window are given.
const (
	EnvURL      = "WEBREPL_URL"
	EnvPassword = "WEBREPL_PASSWORD"
	// EnvWindow is the raw-paste window policy, "auto", "full" or "safe"
	// (webrepl.Options.Window); unset means auto.
	EnvWindow = "WEBREPL_WINDOW"
	// EnvOldFullWindow=1 is how installs before --window said "full"; the
	// kernel still reads it from their kernel.json when EnvWindow is unset.
	// Install never writes it.
	EnvOldFullWindow = "WEBREPL_FULL_WINDOW"
)

//go:embed assets/logo-32x32.png assets/logo-64x64.png assets/logo-svg.svg
var assets embed.FS

// Spec is the content of kernel.json (jupyter_client's KernelSpec fields).
type Spec struct {
	Argv          []string          `json:"argv"`
	DisplayName   string            `json:"display_name"`
	Language      string            `json:"language"`
	InterruptMode string            `json:"interrupt_mode"`
	Env           map[string]string `json:"env,omitempty"`
	Metadata      map[string]any    `json:"metadata,omitempty"`
}

// Options says where and what to install.
type Options struct {
	Prefix      string // install under PREFIX/share/jupyter/kernels
	SysPrefix   bool   // install under the Python environment's prefix
	Name        string // kernel name = directory name; DefaultName if ""
	DisplayName string // DefaultDisplayName if ""
	URL         string // board URL written into env (optional)
	Password    string // board password written into env (optional)
	Window      string // "auto" (or ""), "full", "safe": written as EnvWindow unless auto
	Executable  string // absolute path of the kernel binary; os.Executable() if ""
}

var validName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// NewSpec builds kernel.json for the binary exe.
func NewSpec(exe string, opts Options) Spec {
	spec := Spec{
		Argv:          []string{exe, "kernel", "--connection-file", "{connection_file}"},
		DisplayName:   firstNonEmpty(opts.DisplayName, DefaultDisplayName),
		Language:      Language,
		InterruptMode: "message",
	}
	if opts.URL != "" || opts.Password != "" || (opts.Window != "" && opts.Window != "auto") {
		spec.Env = map[string]string{}
		if opts.URL != "" {
			spec.Env[EnvURL] = opts.URL
		}
		if opts.Password != "" {
			spec.Env[EnvPassword] = opts.Password
		}
		if opts.Window != "" && opts.Window != "auto" {
			spec.Env[EnvWindow] = opts.Window
		}
	}
	return spec
}

// KernelsDir returns the "kernels" directory the options select.
func KernelsDir(ctx context.Context, opts Options) (string, error) {
	switch {
	case opts.Prefix != "" && opts.SysPrefix:
		return "", errors.New("--prefix and --sys-prefix exclude each other")
	case opts.Prefix != "":
		abs, err := filepath.Abs(opts.Prefix)
		if err != nil {
			return "", fmt.Errorf("prefix %q: %w", opts.Prefix, err)
		}
		return filepath.Join(abs, "share", "jupyter", "kernels"), nil
	case opts.SysPrefix:
		prefix, err := pythonPrefix(ctx)
		if err != nil {
			return "", err
		}
		return filepath.Join(prefix, "share", "jupyter", "kernels"), nil
	}
	data, err := userDataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(data, "kernels"), nil
}

// userDataDir mirrors jupyter_core.paths.jupyter_data_dir (5.x, without
// JUPYTER_PLATFORM_DIRS) on this system.
func userDataDir() (string, error) {
	if dir := os.Getenv("JUPYTER_DATA_DIR"); dir != "" {
		return filepath.Abs(dir)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the Jupyter data directory: %w", err)
	}
	return dataDirFor(runtime.GOOS, os.Getenv, home), nil
}

// dataDirFor is Jupyter's per-user data folder on the system goos, so that
// every system's rule is tested on any: ~/Library/Jupyter on macOS,
// %APPDATA%\jupyter on Windows (else ~/.jupyter/data), and
// $XDG_DATA_HOME/jupyter or ~/.local/share/jupyter elsewhere.
func dataDirFor(goos string, getenv func(string) string, home string) string {
	switch goos {
	case "darwin":
		return filepath.Join(home, "Library", "Jupyter")
	case "windows":
		if appdata := getenv("APPDATA"); appdata != "" {
			return filepath.Join(appdata, "jupyter")
		}
		return filepath.Join(home, ".jupyter", "data")
	}
	if xdg := getenv("XDG_DATA_HOME"); xdg != "" {
		return filepath.Join(xdg, "jupyter")
	}
	return filepath.Join(home, ".local", "share", "jupyter")
}

// pythonPrefix finds sys.prefix of the active Python environment, where
// Jupyter installed in that environment looks for kernels.
func pythonPrefix(ctx context.Context) (string, error) {
	for _, env := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if dir := os.Getenv(env); dir != "" {
			return dir, nil
		}
	}
	for _, python := range []string{"python3", "python"} {
		out, err := exec.CommandContext(ctx, python, "-c", "import sys; print(sys.prefix)").Output()
		if err == nil && strings.TrimSpace(string(out)) != "" {
			return strings.TrimSpace(string(out)), nil
		}
	}
	return "", errors.New("--sys-prefix: no active Python environment found (VIRTUAL_ENV, CONDA_PREFIX or python3 on PATH)")
}

// Install writes the kernelspec and returns its directory. An existing
// kernelspec of the same name is replaced.
func Install(ctx context.Context, opts Options) (string, error) {
	name := firstNonEmpty(opts.Name, DefaultName)
	if !validName.MatchString(name) {
		return "", fmt.Errorf("kernel name %q: use only ASCII letters, digits, '-', '.' and '_'", name)
	}
	exe := opts.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return "", fmt.Errorf("finding the kernel binary: %w", err)
		}
	}
	exe, err := filepath.Abs(exe)
	if err != nil {
		return "", fmt.Errorf("kernel binary %q: %w", exe, err)
	}
	kernels, err := KernelsDir(ctx, opts)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(kernels, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating kernelspec directory: %w", err)
	}
	data, err := json.MarshalIndent(NewSpec(exe, opts), "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding kernel.json: %w", err)
	}
	// A password in env is a secret: keep the file private to its owner.
	mode := os.FileMode(0o644)
	if opts.Password != "" {
		mode = 0o600
	}
	specPath := filepath.Join(dir, "kernel.json")
	if err := os.WriteFile(specPath, append(data, '\n'), mode); err != nil {
		return "", fmt.Errorf("writing kernel.json: %w", err)
	}
	if err := os.Chmod(specPath, mode); err != nil {
		return "", fmt.Errorf("writing kernel.json: %w", err)
	}
	entries, err := assets.ReadDir("assets")
	if err != nil {
		return "", fmt.Errorf("reading embedded logos: %w", err)
	}
	for _, e := range entries {
		logo, err := assets.ReadFile("assets/" + e.Name())
		if err != nil {
			return "", fmt.Errorf("reading embedded logo: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), logo, 0o644); err != nil {
			return "", fmt.Errorf("writing logo: %w", err)
		}
	}
	return dir, nil
}

// Uninstall removes the kernelspec and returns the directory it removed.
func Uninstall(ctx context.Context, opts Options) (string, error) {
	name := firstNonEmpty(opts.Name, DefaultName)
	if !validName.MatchString(name) {
		return "", fmt.Errorf("kernel name %q: use only ASCII letters, digits, '-', '.' and '_'", name)
	}
	kernels, err := KernelsDir(ctx, opts)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(kernels, name)
	// Refuse to delete a directory that is not a kernelspec (a typo in
	// --prefix must not wipe an unrelated folder).
	if _, err := os.Stat(filepath.Join(dir, "kernel.json")); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("no kernelspec %q in %s", name, kernels)
		}
		return "", fmt.Errorf("checking kernelspec: %w", err)
	}
	if err := removeTree(dir); err != nil {
		return "", fmt.Errorf("removing kernelspec: %w", err)
	}
	return dir, nil
}

// removeTree removes dir and what it holds one entry at a time with
// os.Remove (DeleteFile and RemoveDirectory on Windows). os.RemoveAll on
// Windows deletes through NtSetInformationFile's POSIX-semantics
// disposition, which Wine 8 answers with "Invalid function"; a kernelspec
// folder is small and flat, so the plain calls cost nothing.
func removeTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if e.IsDir() {
			err = removeTree(path)
		} else {
			err = os.Remove(path)
		}
		if err != nil {
			return err
		}
	}
	return os.Remove(dir)
}

// InstallFlags defines the install subcommand's flags on fs. After
// fs.Parse, check reports flags that contradict each other and returns the
// options they give.
func InstallFlags(fs *flag.FlagSet) (check func() (Options, error)) {
	var opts Options
	checkPlace := placeFlags(fs, &opts, "install for the current user (default; honours JUPYTER_DATA_DIR)",
		"install under `DIR`/share/jupyter/kernels", "install into the active Python environment's prefix")
	fs.StringVar(&opts.Name, "name", DefaultName, "kernel `name` (directory name)")
	fs.StringVar(&opts.DisplayName, "display-name", DefaultDisplayName, "name shown in Jupyter's launcher")
	fs.StringVar(&opts.URL, "url", "", "board `URL`: ws://HOST:PORT/, wss://…, HOST (port 8266) or HOST:PORT (else %connect in the notebook)")
	fs.StringVar(&opts.Password, "password", "", "WebREPL password (stored in kernel.json, readable only by you)")
	fullWindow := fs.Bool("full-window", false, "same as --window full (kept for older scripts)")
	fs.StringVar(&opts.Window, "window", "auto",
		"raw-paste window: auto (full on ESP32 with MicroPython 1.15+, identified at connect; safe elsewhere), full, safe")
	return func() (Options, error) {
		if *fullWindow {
			if opts.Window != "auto" && opts.Window != "full" {
				return opts, fmt.Errorf("--full-window (--window full) contradicts --window %s", opts.Window)
			}
			opts.Window = "full"
		}
		switch opts.Window {
		case "auto", "full", "safe":
		default:
			return opts, fmt.Errorf("--window %q: want auto, full or safe", opts.Window)
		}
		return opts, checkPlace()
	}
}

// UninstallFlags defines the uninstall subcommand's flags on fs; see
// InstallFlags.
func UninstallFlags(fs *flag.FlagSet) (check func() (Options, error)) {
	var opts Options
	checkPlace := placeFlags(fs, &opts, "remove from the current user's kernels (default)",
		"remove from `DIR`/share/jupyter/kernels", "remove from the active Python environment's prefix")
	fs.StringVar(&opts.Name, "name", DefaultName, "kernel `name`")
	return func() (Options, error) { return opts, checkPlace() }
}

// placeFlags defines --user, --prefix and --sys-prefix (which kernels folder)
// on fs, and returns the check that they do not contradict each other.
func placeFlags(fs *flag.FlagSet, opts *Options, userHelp, prefixHelp, sysPrefixHelp string) func() error {
	user := fs.Bool("user", false, userHelp)
	fs.StringVar(&opts.Prefix, "prefix", "", prefixHelp)
	fs.BoolVar(&opts.SysPrefix, "sys-prefix", false, sysPrefixHelp)
	return func() error {
		if *user && (opts.Prefix != "" || opts.SysPrefix) {
			return errors.New("--user excludes --prefix and --sys-prefix")
		}
		return nil
	}
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
