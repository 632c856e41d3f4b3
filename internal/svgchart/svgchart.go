// Package svgchart draws line charts as SVG text: a frame with axes and
// round-number ticks, one line per series in a colour of its own, and a
// legend naming the series. The result is a self-contained SVG document
// (no script, no external font or style), which notebooks show as an
// image/svg+xml output without any extension. It knows nothing of Jupyter
// or boards.
package svgchart

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Point is one sample of a series.
type Point struct{ X, Y float64 }

// Series is one named line.
type Series struct {
	Name   string
	Points []Point // in increasing X
}

// Options size the chart; zero values take the defaults.
type Options struct {
	Width, Height int    // pixels; default 640 × 300
	XLabel        string // under the X axis, "" for none
}

// palette is the colours of the series, in order (then again).
var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

// Layout, in pixels.
const (
	marginLeft   = 64
	marginRight  = 16
	marginTop    = 28 // the legend's row
	marginBottom = 40
	targetTicks  = 6
)

// Render draws the series as an SVG document. Points that are not finite
// numbers are left out; a series with more points than the plot is wide
// is drawn from the lowest and highest point of each column of pixels,
// so what it draws stays small whatever the number of points.
func Render(series []Series, o Options) string {
	if o.Width <= 0 {
		o.Width = 640
	}
	if o.Height <= 0 {
		o.Height = 300
	}
	plotW := float64(o.Width - marginLeft - marginRight)
	plotH := float64(o.Height - marginTop - marginBottom)
	xmin, xmax, ymin, ymax := bounds(series)
	xt := ticks(xmin, xmax)
	yt := ticks(ymin, ymax)
	xmin, xmax = math.Min(xmin, xt.from), math.Max(xmax, xt.to)
	ymin, ymax = math.Min(ymin, yt.from), math.Max(ymax, yt.to)
	px := func(x float64) float64 { return marginLeft + (x-xmin)/(xmax-xmin)*plotW }
	py := func(y float64) float64 { return marginTop + plotH - (y-ymin)/(ymax-ymin)*plotH }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`,
		o.Width, o.Height, o.Width, o.Height)
	names := make([]string, len(series))
	for i, s := range series {
		names[i] = s.Name
	}
	// The title is the chart's text for screen readers.
	fmt.Fprintf(&b, `<title>line chart of %s</title>`, html.EscapeString(strings.Join(names, ", ")))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`, o.Width, o.Height)
	// Grid and tick labels.
	b.WriteString(`<g stroke="#e5e5e5">`)
	for _, v := range yt.values {
		fmt.Fprintf(&b, `<line x1="%d" y1="%s" x2="%s" y2="%s"/>`, marginLeft, num(py(v)), num(marginLeft+plotW), num(py(v)))
	}
	for _, v := range xt.values {
		fmt.Fprintf(&b, `<line x1="%s" y1="%d" x2="%s" y2="%s"/>`, num(px(v)), marginTop, num(px(v)), num(marginTop+plotH))
	}
	b.WriteString(`</g><g fill="#333">`)
	for _, v := range yt.values {
		fmt.Fprintf(&b, `<text x="%d" y="%s" text-anchor="end" dominant-baseline="middle">%s</text>`, marginLeft-6, num(py(v)), yt.label(v))
	}
	for _, v := range xt.values {
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle" dominant-baseline="hanging">%s</text>`, num(px(v)), num(marginTop+plotH+6), xt.label(v))
	}
	if o.XLabel != "" {
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle">%s</text>`, num(marginLeft+plotW/2), o.Height-6, html.EscapeString(o.XLabel))
	}
	b.WriteString(`</g>`)
	// Axes.
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%s" height="%s" fill="none" stroke="#888"/>`, marginLeft, marginTop, num(plotW), num(plotH))
	// Lines: the axes span every point, so nothing needs clipping (and the
	// document needs no id, which would clash between charts on one page).
	b.WriteString(`<g fill="none" stroke-width="1.5">`)
	for i, s := range series {
		pts := thin(finite(s.Points), xmin, xmax, int(plotW))
		if len(pts) == 0 {
			continue
		}
		colour := palette[i%len(palette)]
		if len(pts) == 1 {
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="2" fill="%s"/>`, num(px(pts[0].X)), num(py(pts[0].Y)), colour)
			continue
		}
		fmt.Fprintf(&b, `<polyline stroke="%s" points="`, colour)
		for j, p := range pts {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(num(px(p.X)) + "," + num(py(p.Y)))
		}
		b.WriteString(`"/>`)
	}
	b.WriteString(`</g>`)
	// Legend: a row above the plot.
	x := float64(marginLeft)
	for i, s := range series {
		colour := palette[i%len(palette)]
		name := s.Name
		if pts := finite(s.Points); len(pts) > 0 {
			name += " = " + strconv.FormatFloat(pts[len(pts)-1].Y, 'g', 6, 64)
		}
		fmt.Fprintf(&b, `<rect x="%s" y="9" width="12" height="3" fill="%s"/><text x="%s" y="14" fill="#333">%s</text>`,
			num(x), colour, num(x+16), html.EscapeString(name))
		x += 16 + 7*float64(len([]rune(name))) + 14
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// num formats a coordinate with one decimal at most.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// bounds is the extent of the finite points; an empty or flat extent is
// widened so that the axes have a span.
func bounds(series []Series) (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, s := range series {
		for _, p := range finite(s.Points) {
			xmin, xmax = math.Min(xmin, p.X), math.Max(xmax, p.X)
			ymin, ymax = math.Min(ymin, p.Y), math.Max(ymax, p.Y)
		}
	}
	if math.IsInf(xmin, 1) {
		return 0, 1, 0, 1
	}
	widen := func(lo, hi float64) (float64, float64) {
		if hi > lo {
			return lo, hi
		}
		d := math.Max(math.Abs(lo)*0.1, 1)
		return lo - d, hi + d
	}
	xmin, xmax = widen(xmin, xmax)
	ymin, ymax = widen(ymin, ymax)
	return xmin, xmax, ymin, ymax
}

func finite(pts []Point) []Point {
	for _, p := range pts {
		if math.IsNaN(p.Y) || math.IsInf(p.Y, 0) || math.IsNaN(p.X) || math.IsInf(p.X, 0) {
			out := make([]Point, 0, len(pts))
			for _, q := range pts {
				if !math.IsNaN(q.Y) && !math.IsInf(q.Y, 0) && !math.IsNaN(q.X) && !math.IsInf(q.X, 0) {
					out = append(out, q)
				}
			}
			return out
		}
	}
	return pts
}

// thin keeps, of more points than 2 × columns, the first, lowest, highest
// and last point of each column, in order: the line looks the same.
func thin(pts []Point, xmin, xmax float64, columns int) []Point {
	if columns < 1 || len(pts) <= 2*columns {
		return pts
	}
	out := make([]Point, 0, 4*columns)
	col := func(p Point) int { return int((p.X - xmin) / (xmax - xmin) * float64(columns)) }
	for i := 0; i < len(pts); {
		j, c := i, col(pts[i])
		lo, hi := i, i
		for j < len(pts) && col(pts[j]) == c {
			if pts[j].Y < pts[lo].Y {
				lo = j
			}
			if pts[j].Y > pts[hi].Y {
				hi = j
			}
			j++
		}
		keep := []int{i, lo, hi, j - 1}
		if lo > hi {
			keep[1], keep[2] = hi, lo
		}
		last := -1
		for _, k := range keep {
			if k != last {
				out = append(out, pts[k])
				last = k
			}
		}
		i = j
	}
	return out
}

// tickSet is round-number ticks covering an extent.
type tickSet struct {
	values   []float64
	from, to float64 // the first and last tick
	decimals int     // digits after the point in labels; -1: %g
}

// ticks picks a step of 1, 2 or 5 × 10^n giving about targetTicks ticks
// from below lo to above hi.
func ticks(lo, hi float64) tickSet {
	raw := (hi - lo) / targetTicks
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	t := tickSet{from: math.Floor(lo/step) * step, to: math.Ceil(hi/step) * step}
	for i := 0; ; i++ {
		v := t.from + float64(i)*step
		if v > t.to+step/2 || i > 4*targetTicks {
			break
		}
		if math.Abs(v) < step/1e6 {
			v = 0
		}
		t.values = append(t.values, v)
	}
	t.decimals = max(0, -int(math.Floor(math.Log10(step))))
	if math.Abs(t.to) >= 1e7 || math.Abs(t.from) >= 1e7 || t.decimals > 6 {
		t.decimals = -1
	}
	return t
}

func (t tickSet) label(v float64) string {
	if t.decimals < 0 {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	return strconv.FormatFloat(v, 'f', t.decimals, 64)
}
