// %%plot: a cell whose printed lines of numbers are plotted live (plot.go),
// by Thonny's plotter's convention: a line of numbers ("21.5 300" or
// "21.5, 300") gives a point to one series per column (y1, y2, …), a line
// of name=value pairs ("temp=21.5 light=300", also "temp: 21.5") one to
// each series named; the two may mix. Any other line is shown as text;
// plotted lines are not.

package kernel

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// magicPlot runs the cell's body on the board with its printed numbers
// plotted.
func magicPlot(c *magicCall) *cellError {
	points := 0
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		value, ok := strings.CutPrefix(a, "--points=")
		if a == "--points" && i+1 < len(c.args) {
			i++
			value, ok = c.args[i], true
		}
		n, err := strconv.Atoi(value)
		if !ok || err != nil || n < 2 || n > maxPlotPoints {
			return hostError("UsageError", fmt.Sprintf("usage: %%%%plot [--points N] (N from 2 to %d; default %d)", maxPlotPoints, defaultPlotPoints))
		}
		points = n
	}
	if strings.TrimSpace(c.body) == "" {
		return nil
	}
	d := c.io.display
	d.plotLines, d.plotPoints = true, points
	return c.k.runOnBoard(c.cell, c.r, c.req, c.io, c.body, nil)
}

// text takes the cell's printed text: in a %%plot cell, line by line, the
// lines of numbers plotted and the others shown; else shown as it is.
func (d *cellDisplay) text(s string) {
	if !d.plotLines {
		d.io.stdout(s)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.partial = append(d.partial, s...)
	var shown strings.Builder
	for {
		i := strings.IndexByte(string(d.partial), '\n')
		if i < 0 {
			break
		}
		line := string(d.partial[:i+1])
		d.partial = d.partial[i+1:]
		if row, ok := parsePlotLine(line); ok {
			d.io.stdout(shown.String())
			shown.Reset()
			d.chartFor().add(row)
			continue
		}
		shown.WriteString(line)
	}
	if len(d.partial) > maxPlotLine {
		shown.Write(d.partial)
		d.partial = nil
	}
	d.io.stdout(shown.String())
}

// finish ends the cell's displays: in a %%plot cell the text of a last line
// without a line end, and the chart's last drawing.
func (d *cellDisplay) finish() {
	d.mu.Lock()
	rest := string(d.partial)
	d.partial = nil
	d.mu.Unlock()
	if rest != "" {
		if row, ok := parsePlotLine(rest); ok {
			d.chartFor().add(row)
		} else {
			d.io.stdout(rest)
		}
	}
	if d.chart != nil {
		d.chart.finish()
	}
}

// parsePlotLine reads a line of numbers and name=value pairs; ok is false
// for any other line (text, an empty line).
func parsePlotLine(line string) (row []namedValue, ok bool) {
	fields := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' || r == '\r' || r == '\n' || r == ';' })
	column := 0
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if v, ok := plotNumber(f); ok {
			column++
			row = append(row, namedValue{"y" + strconv.Itoa(column), v})
			continue
		}
		name, value, found := strings.Cut(f, "=")
		if !found {
			name, value, found = strings.Cut(f, ":")
		}
		if !found || name == "" {
			return nil, false
		}
		if value == "" { // "temp= 21.5", "temp: 21.5"
			if i+1 >= len(fields) {
				return nil, false
			}
			i++
			value = fields[i]
		}
		v, ok := plotNumber(value)
		if !ok {
			return nil, false
		}
		row = append(row, namedValue{name, v})
	}
	return row, len(row) > 0
}

// plotNumber reads a finite number as Python prints one (no "0x", "_").
func plotNumber(s string) (float64, bool) {
	if strings.ContainsAny(s, "xX_") {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}
