package kernel

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseBoardMessage(t *testing.T) {
	m, err := parseBoardMessage([]byte("display {\"mime\": \"text/html\"}\r\nPGI+\r\neA==\r\n"))
	if err != nil || m.Kind != "display" || string(m.Payload) != `{"mime": "text/html"}` || string(m.Data) != "<b>x" || !m.HasData {
		t.Errorf("parsed %+v, %v", m, err)
	}
	if m, err := parseBoardMessage([]byte(`clear {"wait": true}`)); err != nil || m.HasData || m.Data != nil {
		t.Errorf("without data: %+v, %v", m, err)
	}
	for frame, want := range map[string]string{
		"Display {}":      "not a lower-case word",
		"":                "not a lower-case word",
		"display {":       "not JSON",
		"display {}\n!!!": "not base64",
		"x " + `"` + strings.Repeat("a", maxMessageHeader) + `"`: "payload is over",
	} {
		if _, err := parseBoardMessage([]byte(frame)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: %v, want %q", frame, err, want)
		}
	}
}

// A message frame split across writes anywhere reaches the message
// callback whole and in order with the text around it; an oversize frame
// is counted, not kept; a frame cut by the cell's end is said so.
func TestCellOutputMessageFrames(t *testing.T) {
	const token = "0123456789abcdef"
	text := "before\n" + marker(kindMessage, token) + "plot {}" + marker(kindMessageEnd, token) + "after\n"
	for split := 1; split < len(text); split++ {
		var got []string
		o := newTokenOutput(token, func(s string) { got = append(got, "text:"+s) }, nil, nil)
		o.message = func(frame []byte, overflow int, cut bool) { got = append(got, "msg:"+string(frame)) }
		o.Write([]byte(text[:split]))
		o.Write([]byte(text[split:]))
		o.Close()
		joined := strings.Join(got, "|")
		if !strings.Contains(joined, "msg:plot {}") || strings.Count(joined, "msg:") != 1 ||
			strings.Index(joined, "before") > strings.Index(joined, "msg:") || strings.Index(joined, "after") < strings.Index(joined, "msg:") {
			t.Fatalf("split at %d: %q", split, got)
		}
	}

	var overflow []int
	o := newTokenOutput(token, func(string) {}, nil, nil)
	o.message = func(frame []byte, over int, cut bool) {
		if len(frame) != maxMessageFrame || cut {
			t.Errorf("kept %d bytes (cut %v), want %d", len(frame), cut, maxMessageFrame)
		}
		overflow = append(overflow, over)
	}
	o.Write([]byte(marker(kindMessage, token)))
	chunk := []byte(strings.Repeat("A", 64<<10))
	for range maxMessageFrame/len(chunk) + 2 {
		o.Write(chunk)
	}
	o.Write([]byte(marker(kindMessageEnd, token)))
	o.Close()
	if want := []int{(maxMessageFrame/len(chunk)+2)*len(chunk) - maxMessageFrame}; !reflect.DeepEqual(overflow, want) {
		t.Errorf("overflow %v, want %v", overflow, want)
	}

	var cut []bool
	var shown string
	o = newTokenOutput(token, func(s string) { shown += s }, nil, nil)
	o.message = func(frame []byte, over int, c bool) { cut = append(cut, c) }
	o.Write([]byte("x" + marker(kindMessage, token) + "display {}\nAAAA\x02N01"))
	o.Close()
	if !reflect.DeepEqual(cut, []bool{true}) || shown != "x" {
		t.Errorf("cut frame: %v, text %q", cut, shown)
	}
}
