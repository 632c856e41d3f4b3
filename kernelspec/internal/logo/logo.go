// Package logo draws the kernel's logo: a microcontroller chip with a Wi-Fi
// mark, as PNG at any size and as SVG. The PNG and SVG files shipped in the
// kernelspec are generated from this code (see gen/), so the drawing and the
// committed files cannot drift apart unnoticed (kernelspec's tests compare them).
package logo

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
)

// The design lives in a 64×64 unit square; PNG renders scale it.
const units = 64.0

var (
	bodyColour = color.NRGBA{0x2b, 0x3a, 0x4a, 0xff}
	pinColour  = color.NRGBA{0x9a, 0xa5, 0xb1, 0xff}
	markColour = color.NRGBA{0xf5, 0xa6, 0x23, 0xff}
)

// Geometry, in design units.
const (
	bodyMin, bodyMax = 13.0, 51.0
	bodyRadius       = 5.0
	pinWidth         = 4.0
	pinOut           = 6.0 // how far a pin sticks out of the body
	markX, markY     = 32.0, 43.0
	dotRadius        = 3.2
	arcWidth         = 3.4
	arcHalfAngle     = 45.0 // degrees either side of straight up
)

var pinCentres = []float64{20, 28, 36, 44}
var arcRadii = []float64{10, 17}

// shape reports which colour covers the design point (x, y), if any.
func shape(x, y float64) (color.NRGBA, bool) {
	// The mark is drawn on top of the body.
	dx, dy := x-markX, y-markY
	dist := math.Hypot(dx, dy)
	if dist <= dotRadius {
		return markColour, true
	}
	angle := math.Atan2(dx, -dy) * 180 / math.Pi // 0 = up
	if math.Abs(angle) <= arcHalfAngle {
		for _, r := range arcRadii {
			if math.Abs(dist-r) <= arcWidth/2 {
				return markColour, true
			}
		}
	}
	if inRoundedRect(x, y, bodyMin, bodyMin, bodyMax, bodyMax, bodyRadius) {
		return bodyColour, true
	}
	for _, c := range pinCentres {
		lo, hi := c-pinWidth/2, c+pinWidth/2
		if (y >= lo && y <= hi && ((x >= bodyMin-pinOut && x < bodyMin) || (x > bodyMax && x <= bodyMax+pinOut))) ||
			(x >= lo && x <= hi && ((y >= bodyMin-pinOut && y < bodyMin) || (y > bodyMax && y <= bodyMax+pinOut))) {
			return pinColour, true
		}
	}
	return color.NRGBA{}, false
}

func inRoundedRect(x, y, x0, y0, x1, y1, r float64) bool {
	if x < x0 || x > x1 || y < y0 || y > y1 {
		return false
	}
	cx := math.Max(x0+r, math.Min(x, x1-r))
	cy := math.Max(y0+r, math.Min(y, y1-r))
	return math.Hypot(x-cx, y-cy) <= r
}

// Image renders the logo at size×size pixels, anti-aliased by 4×4 supersampling.
func Image(size int) *image.NRGBA {
	const samples = 4
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	scale := units / float64(size)
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var r, g, b, covered float64
			for sy := 0; sy < samples; sy++ {
				for sx := 0; sx < samples; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/samples) * scale
					y := (float64(py) + (float64(sy)+0.5)/samples) * scale
					if c, ok := shape(x, y); ok {
						r += float64(c.R)
						g += float64(c.G)
						b += float64(c.B)
						covered++
					}
				}
			}
			if covered == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{
				R: uint8(math.Round(r / covered)),
				G: uint8(math.Round(g / covered)),
				B: uint8(math.Round(b / covered)),
				A: uint8(math.Round(255 * covered / (samples * samples))),
			})
		}
	}
	return img
}

// PNG encodes Image(size). Go's encoder is deterministic, so the bytes are
// reproducible.
func PNG(size int) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, Image(size)); err != nil {
		return nil, fmt.Errorf("encoding %dx%d logo: %w", size, size, err)
	}
	return buf.Bytes(), nil
}

// SVG draws the same design as vector graphics.
func SVG() []byte {
	var b bytes.Buffer
	hex := func(c color.NRGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">`+"\n")
	fmt.Fprintf(&b, `  <g fill="%s">`+"\n", hex(pinColour))
	for _, c := range pinCentres {
		lo := c - pinWidth/2
		fmt.Fprintf(&b, `    <rect x="%g" y="%g" width="%g" height="%g"/>`+"\n", bodyMin-pinOut, lo, pinOut+1, pinWidth)
		fmt.Fprintf(&b, `    <rect x="%g" y="%g" width="%g" height="%g"/>`+"\n", bodyMax-1, lo, pinOut+1, pinWidth)
		fmt.Fprintf(&b, `    <rect x="%g" y="%g" width="%g" height="%g"/>`+"\n", lo, bodyMin-pinOut, pinWidth, pinOut+1)
		fmt.Fprintf(&b, `    <rect x="%g" y="%g" width="%g" height="%g"/>`+"\n", lo, bodyMax-1, pinWidth, pinOut+1)
	}
	fmt.Fprintf(&b, "  </g>\n")
	fmt.Fprintf(&b, `  <rect x="%g" y="%g" width="%g" height="%g" rx="%g" fill="%s"/>`+"\n",
		bodyMin, bodyMin, bodyMax-bodyMin, bodyMax-bodyMin, bodyRadius, hex(bodyColour))
	fmt.Fprintf(&b, `  <circle cx="%g" cy="%g" r="%g" fill="%s"/>`+"\n", markX, markY, dotRadius, hex(markColour))
	rad := arcHalfAngle * math.Pi / 180
	for _, r := range arcRadii {
		x0, y0 := markX-r*math.Sin(rad), markY-r*math.Cos(rad)
		x1 := markX + r*math.Sin(rad)
		fmt.Fprintf(&b, `  <path d="M %.2f %.2f A %g %g 0 0 1 %.2f %.2f" fill="none" stroke="%s" stroke-width="%g"/>`+"\n",
			x0, y0, r, r, x1, y0, hex(markColour), arcWidth)
	}
	fmt.Fprintf(&b, "</svg>\n")
	return b.Bytes()
}
