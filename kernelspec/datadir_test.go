package kernelspec

import (
	"path/filepath"
	"testing"
)

// Jupyter's per-user data folder on each system (jupyter_core 5's
// jupyter_data_dir), checked on whatever system runs the test: the
// Windows and macOS rules run on Linux too.
func TestDataDirPerSystem(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	home := filepath.Join("home", "ada")
	appdata := filepath.Join("C:", "Users", "ada", "AppData", "Roaming")
	for _, c := range []struct {
		goos string
		vars map[string]string
		want string
	}{
		{"darwin", map[string]string{"XDG_DATA_HOME": "/xdg", "APPDATA": appdata}, filepath.Join(home, "Library", "Jupyter")},
		{"windows", map[string]string{"APPDATA": appdata, "XDG_DATA_HOME": "/xdg"}, filepath.Join(appdata, "jupyter")},
		{"windows", nil, filepath.Join(home, ".jupyter", "data")},
		{"linux", map[string]string{"XDG_DATA_HOME": "/xdg", "APPDATA": appdata}, filepath.Join("/xdg", "jupyter")},
		{"linux", nil, filepath.Join(home, ".local", "share", "jupyter")},
		{"freebsd", nil, filepath.Join(home, ".local", "share", "jupyter")},
	} {
		if got := dataDirFor(c.goos, env(c.vars), home); got != c.want {
			t.Errorf("%s with %v: %q, want %q", c.goos, c.vars, got, c.want)
		}
	}
}
