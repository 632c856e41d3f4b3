package main

import (
	"strings"
	"testing"
	"time"
)

func TestQuantileTakesTheRankAtOrAbove(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 20; i++ {
		d = append(d, time.Duration(21-i)*time.Second) // unsorted on purpose
	}
	if got := quantile(d, 0.5); got != 10*time.Second {
		t.Errorf("p50 of 1..20 s = %v, want 10s", got)
	}
	if got := quantile(d, 0.95); got != 19*time.Second {
		t.Errorf("p95 of 1..20 s = %v, want 19s", got)
	}
	if got := quantile(nil, 0.5); got != 0 {
		t.Errorf("p50 of nothing = %v, want 0", got)
	}
}

func TestMapLineFindsTheLearnersOwnLine(t *testing.T) {
	text := "# comment\nlearner01 = ws://127.0.0.1:1/ password_file=/a\nlearner010 = ws://127.0.0.1:2/\n"
	line := mapLine(text, "learner01")
	if boardURL(line) != "ws://127.0.0.1:1/" {
		t.Errorf("learner01's board = %q (line %q)", boardURL(line), line)
	}
	if mapLine(text, "learner02") != "" {
		t.Error("a learner without a line found one")
	}
	// An unknown learner's URL must match nothing in %board's output.
	if strings.Contains("URL: ws://127.0.0.1:1/", boardURL("")) {
		t.Error("an empty line's URL matches any output")
	}
}

func TestMarkdownShowsTheHubSection(t *testing.T) {
	r := sampleResults()
	r.Hub = &HubResult{Generated: "2026-01-01T00:00:00Z", Learners: 30, Lesson: hubLesson, CellsEach: 7, JupyterHub: "6.1.1",
		WallS: 3.27, CellP50S: 0.215, CellP95S: 1.169, PeakServersMB: 6000, PeakKernelsMB: 330, PeakBoardsMB: 440}
	md := markdown(r)
	for _, want := range []string{"30 learners on JupyterHub at once", "all 30 learners finished in 3.27 s", "p50 0.215 s, p95 1.169 s", "kernels 330 MB (11.0 MB each)"} {
		if !strings.Contains(md, want) {
			t.Errorf("the README's tables lack %q:\n%s", want, md)
		}
	}
}
