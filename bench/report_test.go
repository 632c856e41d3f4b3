package main

import (
	"strings"
	"testing"
)

func sampleResults() *Results {
	cell := func(name string, bytes int, limit, kernel, seed float64) CellResult {
		c := CellResult{Cell: name, Bytes: bytes, LimitS: limit, Limit: "1 drain(s) + RTT"}
		c.Kernel.RoundsS, c.Kernel.MedianS = []float64{kernel}, kernel
		c.Seed.RoundsS, c.Seed.MedianS = []float64{seed}, seed
		c.Paced.RoundsS, c.Paced.MedianS = []float64{seed / 2}, seed/2
		return c
	}
	return &Results{
		Rounds: 3,
		Profiles: []ProfileResult{
			{Name: "esp32 1.27", DrainMS: 80, RTTMS: 0.5, InFlight: 256, Cells: []CellResult{
				cell("print(1)", 9, 0.0805, 0.2, 0.16),
				cell("20 lines", 909, 0.3205, 0.32, 1.12),
				cell("8 KB", 8193, 2.6406, 3.0, 8.5),
			}},
			{Name: "realmp", RTTMS: 0.02, InFlight: 255, Files: FileFigures{GetS: 2.5, GetLimitS: 0.008}, Lost: 3},
		},
	}
}

func TestAimsFollowTheFigures(t *testing.T) {
	r := sampleResults()
	aims := evaluateAims(r)
	met := map[string]bool{}
	for _, a := range aims {
		met[a.Aim] = a.Met
	}
	for aim, want := range map[string]bool{
		"esp32 1.27: print(1) within 1 drain + 15 ms":                false, // 0.2 s > 0.095 s
		"esp32 1.27: 20 lines at ≥ 90 % of the link's limit":         true,
		"esp32 1.27: 8 KB at ≥ 90 % of the link's limit":             false, // 2.64 / 3.0 = 88 %
		"realmp: 100 KB get at least 10× faster than the old 19.5 s": false,
		"0 bytes lost on every profile":                              false,
	} {
		got, ok := met[aim]
		if !ok || got != want {
			t.Errorf("aim %q: met = %v (present %v), want %v", aim, got, ok, want)
		}
	}
	if totalLost(r) != 3 {
		t.Errorf("totalLost = %d, want 3", totalLost(r))
	}
}

func TestReadmeTablesComeFromTheResults(t *testing.T) {
	r := sampleResults()
	r.Aims = evaluateAims(r)
	md := markdown(r)
	// limit ÷ time and seed ÷ time, from the figures above.
	for _, want := range []string{
		"| esp32 1.27 | 20 lines, 909 B | 0.321 s (1 drain(s) + RTT) | 0.320 s · 100 % · 3.5× seed |",
		"| esp32 1.27 | 8 KB, 8193 B | 2.641 s (1 drain(s) + RTT) | 3.000 s · 88 % · 2.8× seed |",
		"esp32 1.27: 8 KB at ≥ 90 % of the link's limit: **missed**",
		"| realmp | , unknown | 0.02 ms | 255 B |",
		"| 2.500 s (8.0 ms) · < 1 % | 3 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	doc := "# T\n\nbefore\n" + readmeStart + "\nold table\n" + readmeEnd + "\nafter\n"
	got, err := replaceBetweenMarkers(doc, md)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got, "old table") || !strings.HasPrefix(got, "# T\n\nbefore\n"+readmeStart+"\n") || !strings.HasSuffix(got, readmeEnd+"\nafter\n") || !strings.Contains(got, md) {
		t.Errorf("replaced section:\n%s", got)
	}
	if _, err := replaceBetweenMarkers("no markers", md); err == nil {
		t.Error("a README without the markers was accepted")
	}
}

func TestCellsAreWhatTheyClaim(t *testing.T) {
	for _, c := range benchCells() {
		if !strings.HasPrefix(c.want, strings.TrimSuffix(c.marker, "\n")) {
			t.Errorf("%s: expected output %q does not start with its marker %q", c.Name, c.want, c.marker)
		}
	}
	if c := linesCell(20); strings.Count(c.code, "\n") != 20 {
		t.Errorf("20-line cell has %d lines", strings.Count(c.code, "\n"))
	}
	if c := sizeCell("8 KB", 8192); len(c.code) < 8192 || len(c.code) > 8192+80 {
		t.Errorf("8 KB cell is %d bytes", len(c.code))
	}
}
