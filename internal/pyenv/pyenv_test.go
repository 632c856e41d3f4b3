package pyenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPathDefaultsToTheRepositoryVenv(t *testing.T) {
	t.Setenv(EnvVar, "")
	python, fromEnv, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, ".venv", "bin", "python"); python != want || fromEnv {
		t.Errorf("Path() = %q, %v; want %q, false", python, fromEnv, want)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the repository root has no go.mod: %v", err)
	}
}

func TestPathFromTheEnvironment(t *testing.T) {
	t.Setenv(EnvVar, "/opt/py/bin/python")
	python, fromEnv, err := Path()
	if err != nil || python != "/opt/py/bin/python" || !fromEnv {
		t.Errorf("Path() = %q, %v, %v; want /opt/py/bin/python, true, nil", python, fromEnv, err)
	}
}
