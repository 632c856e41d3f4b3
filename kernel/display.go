// Rich output from board code: the board messages of a cell (boardmsg.go)
// become display_data, update_display_data and clear_output, and the
// points of plot() a live chart (plot.go).

package kernel

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"webrepl-kernel/jupyter"
	"webrepl-kernel/webrepl"
)

// cellDisplay is what one execute_request displays: it reads the board
// messages of its cell and keeps the cell's live chart.
type cellDisplay struct {
	io cellIO
	// plotLines: %%plot, the cell's printed lines of numbers are plotted
	// (plot.go); plotPoints: its --points (0: the default).
	plotLines  bool
	plotPoints int
	chart      *plotter // nil until the first point

	mu      sync.Mutex
	partial []byte // %%plot: printed text after the last line end

	// answer types a line the board waits for (a widget's value,
	// widgetboard.go); set while the board runs the program.
	answer func(line string)
}

// messageHandler acts on one kind of board message for the cell.
type messageHandler func(d *cellDisplay, m boardMessage) error

// boardMessageKinds is every kind of board message the kernel reads. A
// kind not here is named in one line on stderr and ignored.
func boardMessageKinds() map[string]messageHandler {
	kinds := map[string]messageHandler{
		"display": (*cellDisplay).display,
		"clear":   (*cellDisplay).clear,
		"plot":    (*cellDisplay).plot,
	}
	maps.Copy(kinds, widgetMessageKinds())
	return kinds
}

// message is cellOutput's message callback: a frame of this cell's token,
// with the bytes over maxMessageFrame not kept, cut if the cell ended
// inside it. Every refusal is one line on stderr; the cell goes on.
func (d *cellDisplay) message(frame []byte, overflow int, cut bool) {
	switch {
	case cut:
		d.notice("board message cut short: the cell ended while it was being sent")
		return
	case overflow > 0:
		d.notice(fmt.Sprintf("board message refused: %d bytes, over the limit of %d bytes of data", len(frame)+overflow, maxMessageData))
		return
	}
	m, err := parseBoardMessage(frame)
	if err == nil {
		handle, ok := boardMessageKinds()[m.Kind]
		if !ok {
			err = errors.New("the kernel knows no such kind")
		} else {
			err = handle(d, m)
		}
	}
	if err != nil {
		kind := m.Kind
		if kind == "" {
			kind = "board"
		}
		d.notice(fmt.Sprintf("%s message refused: %v", kind, err))
	}
}

// notice is one line on the cell's stderr.
func (d *cellDisplay) notice(line string) { d.io.stderr(line + "\n") }

// displayPayload is the payload of a "display" message.
type displayPayload struct {
	MIME   string         `json:"mime"`   // "image": PNG or JPEG, told from the data
	ID     *string        `json:"id"`     // display_id, or null
	Update bool           `json:"update"` // update_display_data of ID
	Meta   map[string]any `json:"meta"`   // metadata for the MIME type (width, height)
}

var mimeType = regexp.MustCompile(`^[a-z]+/[a-z0-9.+-]+$`)

// display publishes a display_data, or an update_display_data of an
// earlier display_id.
func (d *cellDisplay) display(m boardMessage) error {
	var p displayPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return fmt.Errorf("payload: %v", err)
	}
	mime, value, err := displayValue(p.MIME, m.Data)
	if err != nil {
		return err
	}
	data := jupyter.MIMEBundle{mime: value}
	if mime != "text/plain" {
		data["text/plain"] = plainFallback(mime, m.Data)
	}
	var meta jupyter.Metadata
	if len(p.Meta) > 0 {
		meta = jupyter.Metadata{mime: p.Meta}
	}
	id := ""
	if p.ID != nil {
		id = *p.ID
	}
	if d.io.silent {
		return nil
	}
	switch {
	case p.Update && id == "":
		return errors.New("an update needs a display_id")
	case p.Update:
		d.io.k.publish(d.io.r, "update_display_data", jupyter.UpdateDisplayData{Data: data, Metadata: meta, Transient: jupyter.Transient{DisplayID: id}})
	case id != "":
		d.io.k.publish(d.io.r, "display_data", jupyter.DisplayData{Data: data, Metadata: meta, Transient: &jupyter.Transient{DisplayID: id}})
	default:
		d.io.k.publish(d.io.r, "display_data", jupyter.DisplayData{Data: data, Metadata: meta})
	}
	return nil
}

// displayValue is the MIME type and the bundle value of a display's data:
// base64 text for images, the parsed value for JSON, else UTF-8 text.
func displayValue(mime string, data []byte) (string, any, error) {
	if mime == "image" {
		switch {
		case len(data) >= 8 && string(data[:8]) == "\x89PNG\r\n\x1a\n":
			mime = "image/png"
		case len(data) >= 3 && string(data[:3]) == "\xff\xd8\xff":
			mime = "image/jpeg"
		default:
			return "", nil, errors.New("Image data is neither PNG nor JPEG")
		}
	}
	if !mimeType.MatchString(mime) {
		return "", nil, fmt.Errorf("%.40q is not a MIME type", mime)
	}
	switch {
	case mime == "image/png" || mime == "image/jpeg" || mime == "image/gif":
		return mime, base64.StdEncoding.EncodeToString(data), nil
	case mime == "application/json" || strings.HasSuffix(mime, "+json"):
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return "", nil, fmt.Errorf("%s data is not JSON", mime)
		}
		return mime, v, nil
	}
	if !utf8.Valid(data) {
		return "", nil, fmt.Errorf("%s data is not UTF-8 text", mime)
	}
	return mime, string(data), nil
}

// plainFallback is the text/plain of a rich display, for frontends that
// show text only (jupyter console, a terminal's nbconvert).
func plainFallback(mime string, data []byte) string {
	switch mime {
	case "text/markdown", "application/json":
		return string(data)
	case "text/html":
		return "<HTML>"
	}
	if strings.HasPrefix(mime, "image/") {
		return fmt.Sprintf("<%s image, %d bytes>", strings.ToUpper(strings.TrimSuffix(strings.TrimPrefix(mime, "image/"), "+xml")), len(data))
	}
	return "<" + mime + ">"
}

// clearPayload is the payload of a "clear" message.
type clearPayload struct {
	Wait bool `json:"wait"`
}

// clear publishes clear_output.
func (d *cellDisplay) clear(m boardMessage) error {
	var p clearPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return fmt.Errorf("payload: %v", err)
	}
	if !d.io.silent {
		d.io.k.publish(d.io.r, "clear_output", jupyter.ClearOutput{Wait: p.Wait})
	}
	return nil
}

// defineJupyter defines the module jupyter on the board (py/jupyter.py),
// for a cell that mentions it.
func (k *Kernel) defineJupyter(cell *runningCell, s *webrepl.Session) *cellError {
	var discard strings.Builder
	cell.setSession(s)
	res, err := s.Exec(cell.ctx, []byte(jupyterProgram), &discard)
	cell.setSession(nil)
	if err != nil {
		return k.execFailure(cell, s, err)
	}
	if res != nil && res.Exception != nil {
		return hostError("RuntimeError", "defining the module jupyter on the board failed: "+res.Exception.Type+": "+res.Exception.Message)
	}
	return nil
}
