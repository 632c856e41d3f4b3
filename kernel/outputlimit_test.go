package kernel

import (
	"strconv"
	"strings"
	"testing"
)

// A cell that prints more than maxCellText shows that much, then one line
// saying the rest is not shown; the program runs to its end (its last
// value still shows) and the next cell shows all its output again.
func TestCellTextIsLimited(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t)
	line := strings.Repeat("x", 99) // 100 bytes with its line end
	n := maxCellText/100 + 2000
	reply, out := tk.execute("for i in range(" + strconv.Itoa(n) + "):\n    print('" + line + "')\n'the end'")
	if reply.Str("status") != "ok" {
		t.Fatalf("reply: %v", reply.Content)
	}
	stdout, stderr := streamText(out), streamsOf(out, "stderr")
	if len(stdout) != maxCellText || strings.Trim(stdout, "x\n") != "" {
		t.Errorf("stdout: %d bytes, want the first %d", len(stdout), maxCellText)
	}
	if strings.Count(stderr, "[output limit:") != 1 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 ||
		!strings.Contains(stderr, "1 MB") {
		t.Errorf("stderr = %q, want one line about the limit", stderr)
	}
	var result string
	for _, m := range out {
		if m.Type == "execute_result" {
			data, _ := m.Content["data"].(map[string]any)
			result, _ = data["text/plain"].(string)
		}
	}
	if result != "'the end'" {
		t.Errorf("the cell's value = %q, want 'the end' (the program ran to its end)", result)
	}
	if reply, out := tk.execute("print('next')"); reply.Str("status") != "ok" || streamText(out) != "next\n" || streamsOf(out, "stderr") != "" {
		t.Errorf("next cell: %v %q %q", reply.Content, streamText(out), streamsOf(out, "stderr"))
	}
}
