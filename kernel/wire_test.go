package kernel

import (
	"strings"
	"testing"
	"time"

	"webrepl-kernel/jupyter"
)

// The kernel behind jupyter.Serve, driven by jupyter.KernelClient over ZMQ:
// what the other tests hand it through jupytertest arrives off the wire the
// same way — replies, iopub output, an input_request over stdin (the
// board's password), interrupt and shutdown on control.
func TestKernelOverZMQ(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t, overZMQ(), configure(func(c *Config) { c.Password = "" }))
	c := tk.client
	ctx, cancel := tk.waitContext()
	defer cancel()

	info, err := c.KernelInfo(ctx)
	if err != nil || info.Status != "ok" || info.LanguageInfo.Name != "python" || !strings.Contains(info.Banner, tk.board.URL()) {
		t.Fatalf("kernel_info: %+v, %v", info, err)
	}

	var out strings.Builder
	var prompts []jupyter.InputRequest
	hooks := jupyter.ExecuteHooks{
		Output: func(m jupyter.Message) {
			var s jupyter.Stream
			if m.Type == "stream" && m.Decode(&s) == nil {
				out.WriteString(s.Text)
			}
		},
		Input: func(r jupyter.InputRequest) (string, error) {
			prompts = append(prompts, r)
			return tk.board.Password(), nil
		},
	}
	reply, err := c.Execute(ctx, executeRequest("print(6 * 7)", withStdin), hooks)
	if err != nil || reply.Status != "ok" || reply.ExecutionCount != 1 || out.String() != "42\n" {
		t.Errorf("cell: %+v %q, %v", reply, out.String(), err)
	}
	if len(prompts) != 1 || !prompts[0].Password || !strings.Contains(prompts[0].Prompt, tk.board.URL()) {
		t.Errorf("input requests %+v, want one asking the board's password", prompts)
	}

	// A running cell stops on interrupt_request.
	running := make(chan jupyter.ExecuteReply, 1)
	started := make(chan struct{}, 1)
	go func() {
		reply, err := c.Execute(ctx, executeRequest("import time\nprint('started')\nwhile True: time.sleep(0.1)"), jupyter.ExecuteHooks{
			Output: func(m jupyter.Message) {
				select {
				case started <- struct{}{}:
				default:
				}
			},
		})
		if err != nil {
			t.Errorf("interrupted cell: %v", err)
		}
		running <- reply
	}()
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("the looping cell printed nothing")
	}
	if err := c.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	if reply := <-running; reply.Status != "error" || reply.Ename != "KeyboardInterrupt" {
		t.Errorf("interrupted cell: %+v", reply)
	}

	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-tk.k.Done():
	case <-time.After(waitLong):
		t.Fatal("kernel did not signal Done after shutdown_request")
	}
}
