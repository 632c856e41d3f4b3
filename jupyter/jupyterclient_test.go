package jupyter

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"webrepl-kernel/internal/pyenv"
)

// TestJupyterClientInterop runs the pinned jupyter_client (pyzmq, libzmq) against
// Serve: wait_for_ready, kernel_info, input, heartbeat, an identity-less
// control socket and shutdown, over tcp and ipc.
func TestJupyterClientInterop(t *testing.T) {
	python := pyenv.Python(t, "jupyter_client", "zmq")
	script, err := filepath.Abs("testdata/jupyter_client_check.py")
	if err != nil {
		t.Fatal(err)
	}
	for _, transport := range []string{"tcp", "ipc"} {
		t.Run(transport, func(t *testing.T) {
			dir := t.TempDir()
			info := tcpInfo()
			if transport == "ipc" {
				info = ConnectionInfo{Transport: "ipc", IP: filepath.Join(dir, "k"), Key: testKey,
					SignatureScheme: "hmac-sha256", ShellPort: 1, IOPubPort: 2, StdinPort: 3, ControlPort: 4, HBPort: 5}
			}
			rs := startServer(t, info)
			info = rs.info
			info.KernelName = "test"
			data, err := json.Marshal(info)
			if err != nil {
				t.Fatal(err)
			}
			connFile := filepath.Join(dir, "kernel-test.json")
			if err := os.WriteFile(connFile, data, 0o600); err != nil {
				t.Fatal(err)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, python, script, connFile).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "ALL OK") {
				t.Fatalf("jupyter_client check failed (%v):\n%s\nkernel log: %q", err, out, rs.log.lines)
			}

			t.Logf("jupyter_client:\n%s", out)

			// The script's shutdown_request made the handler cancel Serve.
			select {
			case err := <-rs.done:
				if err != nil {
					t.Errorf("Serve returned %v", err)
				}
				close(rs.done)
			case <-time.After(waitLong):
				t.Fatal("Serve did not return after shutdown_request")
			}
		})
	}
}
