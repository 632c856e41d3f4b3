package kernel

import (
	"fmt"
	"os"
	"testing"
)

// TestMain gives the kernels of these tests a hand-over folder of their own
// (XDG_RUNTIME_DIR, set before any test runs), so they never meet the
// user's notebooks or another test run.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kernel-test-runtime-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_RUNTIME_DIR", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
