package jupyter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testKernelEnv makes the test binary a kernel (Serve with testHandler on
// the connection file after --connection-file), so Launch starts a real
// process; "exit" makes it exit at once instead.
const testKernelEnv = "JUPYTER_TEST_KERNEL"

func TestMain(m *testing.M) {
	switch os.Getenv(testKernelEnv) {
	case "":
		os.Exit(m.Run())
	case "exit":
		os.Stderr.WriteString("test kernel: exiting on purpose\n")
		os.Exit(3)
	case "launcher":
		runTestLauncher()
	}
	info, err := ReadConnectionFile(os.Args[len(os.Args)-1])
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := newTestHandler()
	h.shutdown = cancel
	go func() { // every "block" cell ends only by an interrupt
		for range h.started {
		}
	}()
	if err := Serve(ctx, info, h, nil); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	os.Exit(0)
}

func ipcInfo(t *testing.T) ConnectionInfo {
	return ConnectionInfo{Transport: "ipc", IP: filepath.Join(t.TempDir(), "k"), Key: testKey,
		SignatureScheme: SupportedSignatureScheme, ShellPort: 1, IOPubPort: 2, StdinPort: 3, ControlPort: 4, HBPort: 5}
}

func texts(msgs []Message) string {
	var b strings.Builder
	for _, m := range msgs {
		var s Stream
		if m.Type == "stream" && m.Decode(&s) == nil {
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

func TestKernelClientAgainstServe(t *testing.T) {
	t.Parallel()
	k := newTestKernel(t, ipcInfo(t))
	go func() {
		for range k.handler.started {
		}
	}()
	c := k.c
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	info, err := c.KernelInfo(ctx)
	if err != nil || info.Implementation != "test" {
		t.Fatalf("kernel_info: %+v, %v", info, err)
	}

	var got []Message
	reply, err := c.Execute(ctx, ExecuteRequest{Code: "print me"}, ExecuteHooks{Output: func(m Message) { got = append(got, m) }})
	if err != nil || reply.Status != StatusOK || texts(got) != "print me" {
		t.Fatalf("execute: %+v, %v, outputs %q", reply, err, texts(got))
	}

	got = nil
	asked := ""
	reply, err = c.Execute(ctx, ExecuteRequest{Code: "input", AllowStdin: true}, ExecuteHooks{
		Output: func(m Message) { got = append(got, m) },
		Input:  func(r InputRequest) (string, error) { asked = r.Prompt; return "Ada", nil },
	})
	if err != nil || asked != "name? " || texts(got) != "hello Ada" {
		t.Fatalf("input: %+v, %v, prompt %q, outputs %q", reply, err, asked, texts(got))
	}

	// No answer: the caller interrupts the waiting kernel, Execute then
	// returns the reply with ErrNoInput.
	reply, err = c.Execute(ctx, ExecuteRequest{Code: "input", AllowStdin: true}, ExecuteHooks{
		Input: func(InputRequest) (string, error) {
			go func() {
				if err := c.Interrupt(ctx); err != nil {
					t.Errorf("interrupt: %v", err)
				}
			}()
			return "", errors.New("nobody at the keyboard")
		},
	})
	if !errors.Is(err, ErrNoInput) || reply.Status != StatusError {
		t.Fatalf("unanswered input: %+v, %v", reply, err)
	}

	// A cell still running when the kernel shuts down ends with it.
	done := make(chan error, 1)
	go func() {
		_, err := c.Execute(ctx, ExecuteRequest{Code: "block"}, ExecuteHooks{})
		done <- err
	}()
	if err := c.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	select {
	case <-done:
	case <-time.After(waitLong):
		t.Fatal("Execute of a blocked cell did not end when the kernel went away")
	}
}

func launchTestKernel(t *testing.T, mode string) (*LaunchedKernel, error) {
	return launchTestKernelOver(t, mode, "")
}

func launchTestKernelOver(t *testing.T, mode, transport string) (*LaunchedKernel, error) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	return Launch(ctx, LaunchOptions{
		Argv:      []string{exe, "-test.run=^$", "--connection-file", ConnectionFileArg},
		Env:       []string{testKernelEnv + "=" + mode},
		Transport: transport,
	})
}

// TestLaunch runs over the system's default transport and over both named
// ones (tcp is Windows's default: tested here too).
func TestLaunch(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"", "ipc", "tcp"} {
		t.Run("transport="+transport, func(t *testing.T) {
			t.Parallel()
			testLaunch(t, transport)
		})
	}
}

func testLaunch(t *testing.T, transport string) {
	k, err := launchTestKernelOver(t, "serve", transport)
	if err != nil {
		t.Fatal(err)
	}
	if want := transport; want != "" && k.info.Transport != want {
		t.Errorf("launched over %q, want %q", k.info.Transport, want)
	}
	if k.Info.Implementation != "test" {
		t.Errorf("kernel_info %+v", k.Info)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	var got []Message
	if _, err := k.Execute(ctx, ExecuteRequest{Code: "launched"}, ExecuteHooks{Output: func(m Message) { got = append(got, m) }}); err != nil || texts(got) != "launched" {
		t.Fatalf("execute: %v %q", err, texts(got))
	}
	dir := k.dir
	if err := k.Stop(waitLong); err != nil {
		t.Errorf("stop: %v", err)
	}
	if err := k.ExitStatus(); err != nil {
		t.Errorf("exit status after shutdown: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("connection folder left behind: %v", err)
	}
}

func TestLaunchKernelThatExits(t *testing.T) {
	t.Parallel()
	_, err := launchTestKernel(t, "exit")
	if !errors.Is(err, ErrKernelExited) || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("Launch of a kernel that exits: %v", err)
	}
}

func TestKernelDiesDuringExecute(t *testing.T) {
	t.Parallel()
	k, err := launchTestKernel(t, "serve")
	if err != nil {
		t.Fatal(err)
	}
	defer k.Stop(time.Second)
	ctx, cancel := k.Context(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := k.Execute(ctx, ExecuteRequest{Code: "block"}, ExecuteHooks{})
		done <- err
	}()
	if err := k.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		// The client sees the sockets close (EOF) or the context's cause.
		if err == nil {
			t.Error("Execute succeeded on a killed kernel")
		}
	case <-time.After(waitLong):
		t.Fatal("Execute did not end when the kernel died")
	}
	select {
	case <-ctx.Done():
		if !errors.Is(context.Cause(ctx), ErrKernelExited) {
			t.Errorf("context cause %v", context.Cause(ctx))
		}
	case <-time.After(waitLong):
		t.Error("Context was not cancelled when the kernel died")
	}
}
