// Live plots: the points of a cell (board code's plot() calls, and in a
// %%plot cell its printed lines of numbers) drawn as one SVG line chart
// (internal/svgchart) that is shown once and then updated in place
// (update_display_data of one display_id), at most every plotInterval
// whatever the board's rate. When the cell ends the last points are drawn:
// that chart is what the notebook keeps.

package kernel

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"webrepl-kernel/internal/svgchart"
	"webrepl-kernel/jupyter"
)

const (
	// plotInterval is the shortest time between two drawings of a chart.
	plotInterval = 100 * time.Millisecond
	// defaultPlotPoints is how many of the latest points each series keeps
	// (%%plot --points N changes it, up to maxPlotPoints).
	defaultPlotPoints = 500
	maxPlotPoints     = 100000
	// maxPlotSeries bounds the series of one chart; values of more names
	// are left out, which one line says.
	maxPlotSeries = 10
	// maxPlotLine bounds a printed line held until its line end in a
	// %%plot cell; a longer one is shown as text.
	maxPlotLine = 4 << 10
	// maxSeriesName bounds a series' name.
	maxSeriesName = 40
)

// plotter is one cell's chart. Its methods are called by the cell's output
// (under cellOutput's lock) and by its own timer.
type plotter struct {
	d      *cellDisplay
	points int          // kept per series
	say    func(string) // one line on the cell's stderr

	mu      sync.Mutex
	series  []*plotSeries
	step    int // points added: the X of the next one
	id      string
	shown   bool
	dirty   bool // points not drawn yet
	drawn   time.Time
	timer   *time.Timer
	closed  bool
	tooMany bool // said that series beyond maxPlotSeries are left out
}

// plotSeries is a ring of a series' latest points.
type plotSeries struct {
	name  string
	ring  []svgchart.Point
	start int // index of the oldest point when the ring is full
}

func (s *plotSeries) add(p svgchart.Point, limit int) {
	if len(s.ring) < limit {
		s.ring = append(s.ring, p)
		return
	}
	s.ring[s.start] = p
	s.start = (s.start + 1) % len(s.ring)
}

func (s *plotSeries) inOrder() []svgchart.Point {
	out := make([]svgchart.Point, 0, len(s.ring))
	out = append(out, s.ring[s.start:]...)
	return append(out, s.ring[:s.start]...)
}

// chartFor is the cell's chart, made at its first point.
func (d *cellDisplay) chartFor() *plotter {
	if d.chart == nil {
		points := d.plotPoints
		if points <= 0 {
			points = defaultPlotPoints
		}
		d.chart = &plotter{d: d, points: points, say: d.notice, id: "plot-" + newCellToken()}
	}
	return d.chart
}

// plotPayload is the payload of a "plot" message: plot(1.0, 2.0) or
// plot(temp=21.5).
type plotPayload struct {
	Values []float64           `json:"values"`
	Named  map[string]*float64 `json:"named"`
}

// plot adds one point of each series named in a plot() call.
func (d *cellDisplay) plot(m boardMessage) error {
	var p plotPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return fmt.Errorf("plot() takes numbers: %v", err)
	}
	var row []namedValue
	for i, v := range p.Values {
		row = append(row, namedValue{"y" + strconv.Itoa(i+1), v})
	}
	for _, name := range sortedKeys(p.Named) {
		if v := p.Named[name]; v != nil {
			row = append(row, namedValue{name, *v})
		}
	}
	if len(row) > 0 {
		d.chartFor().add(row)
	}
	return nil
}

func sortedKeys(m map[string]*float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ { // few keys: insertion sort
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// namedValue is one value of a row.
type namedValue struct {
	name  string
	value float64
}

// add adds a row: one point to each series it names, at the next X.
func (p *plotter) add(row []namedValue) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	x := float64(p.step)
	p.step++
	for _, v := range row {
		s := p.seriesNamed(v.name)
		if s == nil {
			continue
		}
		s.add(svgchart.Point{X: x, Y: v.value}, p.points)
	}
	p.dirty = true
	if wait := plotInterval - time.Since(p.drawn); wait <= 0 {
		p.draw()
	} else if p.timer == nil {
		p.timer = time.AfterFunc(wait, p.drawLater)
	}
}

// seriesNamed finds or makes a series; nil when there are too many.
func (p *plotter) seriesNamed(name string) *plotSeries {
	if len(name) > maxSeriesName {
		name = name[:maxSeriesName]
	}
	for _, s := range p.series {
		if s.name == name {
			return s
		}
	}
	if len(p.series) >= maxPlotSeries {
		if !p.tooMany {
			p.tooMany = true
			p.say(fmt.Sprintf("plot: only %d series are drawn; %q and later names are left out", maxPlotSeries, name))
		}
		return nil
	}
	s := &plotSeries{name: name}
	p.series = append(p.series, s)
	return s
}

func (p *plotter) drawLater() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.timer = nil
	if !p.closed && p.dirty {
		p.draw()
	}
}

// draw publishes the chart: display_data the first time, then
// update_display_data. Called with mu held; publishing blocks while the
// frontend is behind, and so does the board's output with it.
func (p *plotter) draw() {
	p.dirty = false
	p.drawn = time.Now()
	io := p.d.io
	if io.silent {
		return
	}
	series := make([]svgchart.Series, len(p.series))
	for i, s := range p.series {
		series[i] = svgchart.Series{Name: s.name, Points: s.inOrder()}
	}
	svg := svgchart.Render(series, svgchart.Options{})
	data := jupyter.MIMEBundle{"image/svg+xml": svg, "text/plain": p.summary()}
	if !p.shown {
		p.shown = true
		io.k.publish(io.r, "display_data", jupyter.DisplayData{Data: data, Transient: &jupyter.Transient{DisplayID: p.id}})
		return
	}
	io.k.publish(io.r, "update_display_data", jupyter.UpdateDisplayData{Data: data, Transient: jupyter.Transient{DisplayID: p.id}})
}

// summary is the chart's text/plain: each series' latest value.
func (p *plotter) summary() string {
	parts := make([]string, 0, len(p.series))
	for _, s := range p.series {
		pts := s.inOrder()
		parts = append(parts, s.name+"="+strconv.FormatFloat(pts[len(pts)-1].Y, 'g', 6, 64))
	}
	return fmt.Sprintf("<plot of %d points: %s>", p.step, strings.Join(parts, " "))
}

// finish draws the last points, if any are not drawn; the chart stays.
func (p *plotter) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	if p.dirty {
		p.draw()
	}
	p.closed = true
}
