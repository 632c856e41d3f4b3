// Board messages: the channel from code running on the board to the
// kernel. py/jupyter.py's send(kind, payload, data) writes one as a frame
// between the running cell's M and N marks (program.go):
//
//	KIND SP JSON-PAYLOAD [LF BASE64-LINES]
//
// KIND is a lower-case word ([a-z][a-z0-9_.]*, at most 32), the payload one
// JSON value, and the optional data is base64, one or more lines each
// decoded on its own (the board writes it 768 bytes at a time). Only frames
// with the cell's token are read, so printed text cannot make one. The
// kinds and what the kernel does with them are in boardMessageKinds
// (display.go); the frame, its limits and its errors here.

package kernel

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
)

const (
	// maxMessageData bounds the decoded data of one message: jupyter.LIMIT
	// on the board. A display over it is refused in one line.
	maxMessageData = 1 << 20
	// maxMessageHeader bounds a message's kind and JSON payload.
	maxMessageHeader = 64 << 10
)

// boardMessage is one message from board code.
type boardMessage struct {
	Kind    string
	Payload json.RawMessage
	Data    []byte
	HasData bool // the frame carried data (possibly empty)
}

var messageKind = regexp.MustCompile(`^[a-z][a-z0-9_.]{0,31}$`)

// parseBoardMessage reads a message frame (without its marks).
func parseBoardMessage(frame []byte) (boardMessage, error) {
	header, body, hasData := bytes.Cut(frame, []byte("\n"))
	header = bytes.TrimSuffix(header, []byte("\r"))
	if len(header) > maxMessageHeader {
		return boardMessage{}, fmt.Errorf("its payload is over %d bytes", maxMessageHeader)
	}
	kind, payload, _ := bytes.Cut(header, []byte(" "))
	if !messageKind.Match(kind) {
		return boardMessage{}, fmt.Errorf("its kind %.40q is not a lower-case word", kind)
	}
	m := boardMessage{Kind: string(kind), HasData: hasData}
	if !json.Valid(payload) {
		return m, fmt.Errorf("its payload %.60q is not JSON", payload)
	}
	m.Payload = json.RawMessage(payload)
	if hasData {
		m.Data = []byte{}
		for line := range bytes.Lines(body) {
			line = bytes.TrimRight(line, "\r\n")
			if len(line) == 0 {
				continue
			}
			var err error
			if m.Data, err = base64.StdEncoding.AppendDecode(m.Data, line); err != nil {
				return m, errors.New("its data is not base64")
			}
			if len(m.Data) > maxMessageData {
				return m, fmt.Errorf("its data is over the limit of %d bytes", maxMessageData)
			}
		}
	}
	return m, nil
}
