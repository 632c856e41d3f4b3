package jupyter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"webrepl-kernel/internal/winjob"
)

// ConnectionFileArg is replaced in LaunchOptions.Argv by the connection
// file's path, as in a kernelspec's argv.
const ConnectionFileArg = "{connection_file}"

// LaunchOptions says how to start a kernel process.
type LaunchOptions struct {
	Argv   []string  // the command line; ConnectionFileArg is replaced
	Env    []string  // KEY=VALUE added to this process's environment
	Output io.Writer // the kernel's stdout and stderr; nil discards them
	// Transport is "ipc" (sockets in a private folder) or "tcp" (loopback
	// ports); "" is the system's default, DefaultLaunchTransport.
	Transport string
}

// LaunchedKernel is a kernel process started by Launch with a client
// connected to it. Stop ends it.
type LaunchedKernel struct {
	*KernelClient
	Info KernelInfoReply // the kernel_info_reply that said it is ready

	cmd    *exec.Cmd
	job    *winjob.Job // closed (which would kill the kernel) only after it exited
	info   ConnectionInfo
	dir    string        // holds the connection file and the ipc sockets
	exited chan struct{} // closed when the process has exited
	status error         // cmd.Wait's result, set before exited closes
}

// Launch starts a kernel process with a fresh connection file (ipc
// sockets in a private temporary folder: no port can be taken by another
// process between choosing and binding it), connects to it and waits until
// it answers kernel_info (see KernelClient.KernelInfo). On Windows the
// default is loopback TCP (ipc needs AF_UNIX, which not every Windows has):
// free ports are chosen just before the kernel binds them, as
// jupyter_client does. ctx bounds the start only.
func Launch(ctx context.Context, opts LaunchOptions) (*LaunchedKernel, error) {
	if len(opts.Argv) == 0 {
		return nil, errors.New("jupyter: launch: no command")
	}
	dir, err := os.MkdirTemp("", "kernel-")
	if err != nil {
		return nil, fmt.Errorf("jupyter: launch: %w", err)
	}
	info := ConnectionInfo{
		Transport: "ipc", IP: filepath.Join(dir, "k"),
		ShellPort: 1, IOPubPort: 2, StdinPort: 3, ControlPort: 4, HBPort: 5,
		Key: uuid.NewString(), SignatureScheme: SupportedSignatureScheme,
	}
	transport := opts.Transport
	if transport == "" {
		transport = DefaultLaunchTransport
	}
	switch transport {
	case "ipc":
	case "tcp":
		ports, err := freePorts(5)
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("jupyter: launch: %w", err)
		}
		info.Transport, info.IP = "tcp", "127.0.0.1"
		info.ShellPort, info.IOPubPort, info.StdinPort, info.ControlPort, info.HBPort = ports[0], ports[1], ports[2], ports[3], ports[4]
	default:
		os.RemoveAll(dir)
		return nil, fmt.Errorf("jupyter: launch: unknown transport %q (want ipc or tcp)", opts.Transport)
	}
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("jupyter: launch: %w", err)
	}
	connFile := filepath.Join(dir, "connection.json")
	if err := os.WriteFile(connFile, data, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("jupyter: launch: %w", err)
	}
	argv := make([]string, len(opts.Argv))
	for i, a := range opts.Argv {
		argv[i] = strings.ReplaceAll(a, ConnectionFileArg, connFile)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), opts.Env...)
	out := opts.Output
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = out, out
	endWithParent(cmd)
	job := winjob.New() // on Windows the kernel dies with this process; a no-op elsewhere
	if err := cmd.Start(); err != nil {
		job.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("jupyter: start the kernel: %w", err)
	}
	if err := job.Add(cmd.Process); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		job.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("jupyter: start the kernel: %w", err)
	}
	k := &LaunchedKernel{cmd: cmd, job: job, info: info, dir: dir, exited: make(chan struct{})}
	go func() {
		k.status = cmd.Wait()
		close(k.exited)
	}()
	if err := k.start(ctx, info); err != nil {
		k.kill()
		return nil, err
	}
	return k, nil
}

// start waits for the kernel's sockets, connects and asks kernel_info.
func (k *LaunchedKernel) start(ctx context.Context, info ConnectionInfo) error {
	ctx, cancel := k.Context(ctx)
	defer cancel()
	// The kernel binds its sockets in a fixed order; once the last one
	// is there (its ipc file exists, its TCP port accepts) all of them accept.
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for _, port := range []int{info.ShellPort, info.ControlPort, info.StdinPort, info.IOPubPort, info.HBPort} {
		for !bound(ctx, info, port) {
			select {
			case <-poll.C:
			case <-ctx.Done():
				return fmt.Errorf("jupyter: waiting for the kernel's sockets: %w", context.Cause(ctx))
			}
		}
	}
	client, err := Connect(info)
	if err != nil {
		return err
	}
	k.KernelClient = client
	if k.Info, err = client.KernelInfo(ctx); err != nil {
		return err
	}
	return nil
}

// bound reports whether the kernel has bound its socket on port.
func bound(ctx context.Context, info ConnectionInfo, port int) bool {
	if info.Transport == "ipc" {
		_, err := os.Stat(strings.TrimPrefix(info.endpoint(port), "ipc://"))
		return err == nil
	}
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	c, err := d.DialContext(dctx, "tcp", strings.TrimPrefix(info.endpoint(port), "tcp://"))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// freePorts picks n loopback ports nothing listens on now.
func freePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("choosing a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Exited is closed when the kernel process has exited.
func (k *LaunchedKernel) Exited() <-chan struct{} { return k.exited }

// ExitStatus is the process's exit error (nil for status 0); valid once
// Exited is closed.
func (k *LaunchedKernel) ExitStatus() error {
	<-k.exited
	return k.status
}

// ErrKernelExited is the cause of contexts from Context when the kernel
// process ends.
var ErrKernelExited = errors.New("the kernel exited")

// Context returns a context that is also cancelled, with an error wrapping
// ErrKernelExited as its cause, when the kernel process exits.
func (k *LaunchedKernel) Context(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	go func() {
		select {
		case <-k.exited:
			if k.status != nil {
				cancel(fmt.Errorf("%w (%v)", ErrKernelExited, k.status))
			} else {
				cancel(ErrKernelExited)
			}
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(nil) }
}

// Stop asks the kernel to shut down, waits for it to exit (up to grace),
// then terminates and finally kills it; the client's sockets and the
// connection folder are removed. It returns the process's exit error when
// it had to be forced.
func (k *LaunchedKernel) Stop(grace time.Duration) error {
	if k.KernelClient != nil {
		select {
		case <-k.exited:
		default:
			ctx, cancel := context.WithTimeout(context.Background(), grace)
			_ = k.Shutdown(ctx) // a kernel that does not answer is ended below
			cancel()
		}
	}
	forced := false
	select {
	case <-k.exited:
	case <-time.After(grace):
		forced = true
		_ = k.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-k.exited:
		case <-time.After(grace):
			_ = k.cmd.Process.Kill()
			<-k.exited
		}
	}
	k.closeAll()
	if forced {
		return fmt.Errorf("jupyter: the kernel did not exit within %v of shutdown_request: %v", grace, k.status)
	}
	return nil
}

// kill ends a kernel that never became ready.
func (k *LaunchedKernel) kill() {
	_ = k.cmd.Process.Kill()
	<-k.exited
	k.closeAll()
}

func (k *LaunchedKernel) closeAll() {
	if k.KernelClient != nil {
		k.KernelClient.Close()
	}
	k.job.Close()
	os.RemoveAll(k.dir)
}
