package svgchart

import (
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
)

func TestRenderIsSVGWithAxesAndLegend(t *testing.T) {
	var a, b []Point
	for i := range 5000 {
		a = append(a, Point{float64(i), math.Sin(float64(i) / 100)})
		b = append(b, Point{float64(i), 300 + float64(i%7)})
	}
	a = append(a, Point{5000, math.NaN()})
	svg := Render([]Series{{Name: "sin", Points: a}, {Name: "<light & co>", Points: b}}, Options{XLabel: "sample"})
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("not XML: %v\n%.300s", err, svg)
		}
	}
	for _, want := range []string{`xmlns="http://www.w3.org/2000/svg"`, "<title>line chart of sin, &lt;light &amp; co&gt;</title>", ">&lt;light &amp; co&gt; = 301<", ">sin = ", ">sample<", ">5000<", ">0<", ">300<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if strings.Count(svg, "<polyline") != 2 || strings.Contains(svg, "NaN") {
		t.Errorf("want two lines and no NaN")
	}
	// 5000 points a series are thinned to a few per pixel column.
	if len(svg) > 200<<10 {
		t.Errorf("SVG of %d bytes: points not thinned", len(svg))
	}
}

func TestTicksAreRound(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   string
	}{
		{0, 99, "0 20 40 60 80 100"},
		{20.1, 21.7, "20.0 20.5 21.0 21.5 22.0"},
		{-1, 1, "-1.0 -0.5 0.0 0.5 1.0"},
	} {
		ts := ticks(c.lo, c.hi)
		var labels []string
		for _, v := range ts.values {
			labels = append(labels, ts.label(v))
		}
		if got := strings.Join(labels, " "); got != c.want {
			t.Errorf("ticks(%v, %v) = %q, want %q", c.lo, c.hi, got, c.want)
		}
	}
}

func TestFlatAndSinglePoint(t *testing.T) {
	svg := Render([]Series{{Name: "one", Points: []Point{{0, 5}}}}, Options{})
	if !strings.Contains(svg, "<circle") || strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
		t.Errorf("one point: %.400s", svg)
	}
}
