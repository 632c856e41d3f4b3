// Package pyenv finds, for Go tests, the project's pinned Python: the
// virtual environment scripts/pyenv.sh makes from tests/requirements.txt
// (JupyterLab 4, Notebook 7, jupyter_client 8, nbformat …), so that tests
// drive the kernel with the Jupyter releases users install, not with
// whatever a system python3 happens to have.
//
// WEBREPL_PYTHON names it (the Makefile sets it); otherwise it is
// <repository>/.venv/bin/python.
package pyenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// EnvVar is the environment variable that names the Python to use.
const EnvVar = "WEBREPL_PYTHON"

// Path returns the Python tests should use and whether EnvVar chose it.
func Path() (python string, fromEnv bool, err error) {
	if p := os.Getenv(EnvVar); p != "" {
		return p, true, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", false, err
	}
	return filepath.Join(root, ".venv", "bin", "python"), false, nil
}

// repoRoot walks up from the working directory (a Go test runs in its
// package's folder) to the folder holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("finding the repository: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Python returns the project's Python after checking that it imports every
// module in modules. When WEBREPL_PYTHON is unset and .venv/ has not been
// made, the test is skipped with how to make it; when the chosen Python is
// missing or lacks a module, the test fails: that environment was asked for
// and is broken.
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	python, fromEnv, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(python); err != nil {
		if !fromEnv {
			t.Skipf("no project Python at %s: run scripts/pyenv.sh (make test does) or set %s", python, EnvVar)
		}
		t.Fatalf("%s=%s: %v (scripts/pyenv.sh makes .venv/)", EnvVar, python, err)
	}
	if len(modules) > 0 {
		check := "import " + strings.Join(modules, ", ")
		if out, err := exec.Command(python, "-c", check).CombinedOutput(); err != nil {
			t.Fatalf("%s cannot %q (%v): %s; scripts/pyenv.sh installs tests/requirements.txt",
				python, check, err, strings.TrimSpace(string(out)))
		}
	}
	return python
}
