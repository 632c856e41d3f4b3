// Package boardpytest runs board-side Python under real MicroPython for
// tests: the unix build of MicroPython v1.28 in ../shared/realmp (or
// $WEBREPL_REALMP), run as a process on a program, as a fast check that
// each embedded .py compiles and does what its Go caller expects. Tests on
// the simulator's interpreter dial a board started with sim/simtest.
package boardpytest

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"webrepl-kernel/internal/boardpy"
)

// runTimeout is a generous deadline for one program: they take
// milliseconds, but the test machine may be busy.
const runTimeout = 2 * time.Minute

// Dir is the folder of the real board: $WEBREPL_REALMP, else
// <repo root>/../shared/realmp (found from this file).
func Dir() string {
	if d := os.Getenv("WEBREPL_REALMP"); d != "" {
		return d
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared", "realmp")
}

// MicroPython is the path of realmp's micropython binary; it skips the test
// when there is none.
func MicroPython(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(Dir(), "micropython")
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		t.Skipf("realmp's micropython not found at %s (set WEBREPL_REALMP): real-MicroPython checks skipped", bin)
	}
	return bin
}

// Run runs program under realmp's micropython (skipping the test when it
// is absent) in a new folder and returns what it printed. A program that
// raises makes MicroPython exit non-zero: that is an error carrying its
// traceback.
func Run(t testing.TB, program string) (string, error) {
	t.Helper()
	stdout, stderr, err := RunIn(t, t.TempDir(), program)
	if err != nil {
		return stdout, errors.New("micropython: " + stdout + stderr)
	}
	return stdout, nil
}

// RunIn runs program under realmp's micropython with dir as its current
// folder (its file system, as a board's flash is). err is non-nil when the
// program raised; the unix port prints the traceback at the end of stdout.
func RunIn(t testing.TB, dir, program string) (stdout, stderr string, err error) {
	t.Helper()
	bin := MicroPython(t)
	file, ferr := os.CreateTemp("", "boardpy-*.py")
	if ferr != nil {
		t.Fatal(ferr)
	}
	defer os.Remove(file.Name())
	_, ferr = file.WriteString(program)
	if cerr := file.Close(); ferr == nil {
		ferr = cerr
	}
	if ferr != nil {
		t.Fatal(ferr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, file.Name())
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("micropython did not finish within %v: %s%s", runTimeout, out.Bytes(), errOut.Bytes())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running micropython: %v", err)
	}
	return out.String(), errOut.String(), err
}

// Compiles reports whether MicroPython compiles src (without running it).
func Compiles(t testing.TB, name, src string) error {
	t.Helper()
	// compile() of the text itself: a syntax error is an exception whose
	// message names the line; nothing of src runs.
	_, err := Run(t, "compile("+pyBytes(src)+".decode(),"+pyBytes(name)+".decode(),'exec')\n")
	return err
}

// FilesCompile checks that every file of fsys matching pattern (a package's
// embedded board Python, "py/*.py") compacts (boardpy.Compact) and that
// MicroPython compiles it both as written and as sent.
func FilesCompile(t *testing.T, fsys fs.FS, pattern string) {
	t.Helper()
	names, err := fs.Glob(fsys, pattern)
	if err != nil || len(names) == 0 {
		t.Fatalf("no embedded board files match %s: %v", pattern, err)
	}
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		compact, err := boardpy.Compact(name, string(src))
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		for _, text := range []string{string(src), compact} {
			if err := Compiles(t, name, text); err != nil {
				t.Errorf("%s does not compile: %v", name, err)
			}
		}
	}
}

// pyBytes is data as a Python bytes literal of \x escapes: any text, in
// whatever encoding, passes unchanged (test-side only; the host's own
// literals come from boardpy.Str).
func pyBytes(data string) string {
	const hexDigits = "0123456789abcdef"
	b := make([]byte, 0, 3+4*len(data))
	b = append(b, "b'"...)
	for i := 0; i < len(data); i++ {
		b = append(b, '\\', 'x', hexDigits[data[i]>>4], hexDigits[data[i]&15])
	}
	return string(append(b, '\''))
}
