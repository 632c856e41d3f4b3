package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPercentilesAreOfTheSortedSamples(t *testing.T) {
	var d []time.Duration
	for i := 20; i >= 1; i-- { // 20 … 1 ms, out of order
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	p := percentiles(d)
	if p.P50 != 10 || p.P95 != 19 || p.Max != 20 || p.N != 20 {
		t.Errorf("percentiles of 1…20 ms = %+v, want p50 10, p95 19, max 20, n 20", p)
	}
}

func TestLiveAimsAndTableFollowTheFigures(t *testing.T) {
	r := &Results{Profiles: []ProfileResult{
		{Name: "esp32 1.28", RTTMS: 0.01, PrintLatencyMS: LatencyMS{Median: 2, P95: 4, Max: 6}, Live: &LiveFigures{
			Slider: &Percentiles{P50: 1.7, P95: 3.9},
			Plot:   Percentiles{P50: 52, P95: 160, Max: 170},
			Flood:  FloodFigures{Seconds: 10, Plots: 2000, MessagesPerS: 10.5, UpdatesPerS: 10.1, KernelPeakMB: 15.9},
		}},
		{Name: "ideal + 10 ms", RTTMS: 20.4, PrintLatencyMS: LatencyMS{Median: 12, P95: 13, Max: 14}, Live: &LiveFigures{
			SliderSkipped: "the kernel has no widgets (ImportError: no module named 'jupyter.widgets')",
			Plot:          Percentiles{P50: 60, P95: 110, Max: 120},
			Flood:         FloodFigures{Seconds: 10, Plots: 2000, MessagesPerS: 12, UpdatesPerS: 11, KernelPeakMB: 70},
		}},
	}}
	met := map[string]bool{}
	for _, a := range evaluateAims(r) {
		met[a.Aim] = a.Met
	}
	for aim, want := range map[string]bool{
		"esp32 1.28: slider change → board callback within 1 round trip + 10 ms":                                     true,
		"esp32 1.28: board plot() → chart in the frontend ≤ 150 ms":                                                  false, // p95 160
		"esp32 1.28: plot() 200 times a second for 10 s: kernel under 64 MB, frontend about 10 messages a second":    true,
		"ideal + 10 ms: board plot() → chart in the frontend ≤ 150 ms":                                               true,
		"ideal + 10 ms: plot() 200 times a second for 10 s: kernel under 64 MB, frontend about 10 messages a second": false,
		"esp32 1.28: board print → iopub within 3 ms (the first output after a quiet moment)":                        true,
	} {
		if got, ok := met[aim]; !ok || got != want {
			t.Errorf("aim %q: met = %v (present %v), want %v", aim, got, ok, want)
		}
	}
	if _, ok := met["ideal + 10 ms: slider change → board callback within 1 round trip + 10 ms"]; ok {
		t.Error("a skipped slider figure has an aim")
	}
	md := markdown(r)
	for _, want := range []string{
		"| esp32 1.28 | 1.7 / 3.9 ms | 52.0 / 160.0 / 170.0 ms | 2000 in 10.0 s, 10.5/s, 10.1/s | 15.9 MB |",
		"| ideal + 10 ms | skipped: the kernel has no widgets",
		"| 2.0 / 4.0 / 6.0 ms |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestUpdateReplacesOnlyWhatWasMeasured(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.json")
	full := sampleResults()
	full.Generated = "full"
	full.Fleet = &FleetResult{Kernels: 30, WallS: 9}
	if err := writeResults(path, full); err != nil {
		t.Fatal(err)
	}
	part := &Results{Generated: "later", Profiles: []ProfileResult{{Name: "realmp", RTTMS: 0.5}, {Name: "new link"}}}
	r, err := mergeInto(path, part)
	if err != nil {
		t.Fatal(err)
	}
	if r.Generated != "full" || r.profile("esp32 1.27") == nil || r.profile("realmp").RTTMS != 0.5 ||
		r.profile("new link") == nil || r.Fleet == nil || r.Fleet.WallS != 9 || len(r.Remeasured) != 1 ||
		!strings.HasPrefix(r.Remeasured[0], "realmp, new link (later;") {
		t.Errorf("merged results: %+v", r)
	}
	if _, err := mergeInto(filepath.Join(t.TempDir(), "none.json"), part); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("merging into a missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

func TestOnlySelectsProfilesAndTheFleet(t *testing.T) {
	for _, c := range []struct {
		only, name string
		want       bool
	}{
		{"", "esp32 1.27", true}, {"", "fleet", true},
		{"1.28,ideal", "esp32 1.28", true}, {"1.28,ideal", "ideal + 10 ms", true}, {"1.28,ideal", "fleet", false},
		{"1.28,fleet", "fleet", true}, {"fleet", "esp32 1.27", false}, {"esp", "esp8266", true},
	} {
		if got := selected(c.only, c.name); got != c.want {
			t.Errorf("selected(%q, %q) = %v, want %v", c.only, c.name, got, c.want)
		}
	}
}
