package kernel

import (
	"reflect"
	"strings"
	"testing"
)

func TestParsePlotLine(t *testing.T) {
	row := func(pairs ...any) []namedValue {
		var r []namedValue
		for i := 0; i < len(pairs); i += 2 {
			r = append(r, namedValue{pairs[i].(string), pairs[i+1].(float64)})
		}
		return r
	}
	for line, want := range map[string][]namedValue{
		"1 2.5 -3e2\n":          row("y1", 1.0, "y2", 2.5, "y3", -300.0),
		"1,2\r\n":               row("y1", 1.0, "y2", 2.0),
		"temp=21.5 light=300\n": row("temp", 21.5, "light", 300.0),
		"temp: 21.5, light= 3":  row("temp", 21.5, "light", 3.0),
		"7 a=1":                 row("y1", 7.0, "a", 1.0),
		"reading 1 in range\n":  nil,
		"\n":                    nil,
		"x=abc":                 nil,
		"nan inf":               nil,
		"0x10":                  nil,
		"temp=":                 nil,
	} {
		got, ok := parsePlotLine(line)
		if ok != (want != nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %v %v, want %v", line, got, ok, want)
		}
	}
}

// A chart keeps the last N points of each series and at most
// maxPlotSeries series, whatever the number of points added; the series
// beyond are said once.
func TestPlotterKeepsItsMemoryBounded(t *testing.T) {
	var notices []string
	d := &cellDisplay{io: cellIO{silent: true}, plotPoints: 50}
	p := d.chartFor()
	p.say = func(s string) { notices = append(notices, s) }
	for i := range 20000 {
		row := []namedValue{{"a", float64(i)}, {"b", -float64(i)}}
		if i == 7 {
			for j := range maxPlotSeries + 3 {
				row = append(row, namedValue{"s" + strings.Repeat("x", j), 1})
			}
		}
		p.add(row)
	}
	p.finish()
	if len(p.series) != maxPlotSeries {
		t.Errorf("%d series, want %d", len(p.series), maxPlotSeries)
	}
	for _, s := range p.series {
		if len(s.ring) > 50 {
			t.Errorf("series %s keeps %d points, want at most 50", s.name, len(s.ring))
		}
	}
	if pts := p.series[0].inOrder(); pts[0].X != 19950 || pts[49].X != 19999 || pts[49].Y != 19999 {
		t.Errorf("series a keeps %v … %v, want the last 50 points in order", pts[0], pts[49])
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "only 10 series") {
		t.Errorf("notices %q", notices)
	}
}
