package sim

import (
	"bytes"
	"testing"
)

// recordWrites keeps each Write call separately.
type recordWrites struct{ calls [][]byte }

func (r *recordWrites) Write(p []byte) (int, error) {
	r.calls = append(r.calls, bytes.Clone(p))
	return len(p), nil
}

// The board writes a frame's header and its payload in two socket writes
// (docs/protocol/webrepl.md §1.4); the simulator must too, or the client's
// delayed-ACK stall never shows.
func TestBoardFrameHeaderAndPayloadWrittenSeparately(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 125, 126, 300, 65535} {
		payload := bytes.Repeat([]byte{'x'}, size)
		frame, err := encodeBoardFrame(opText, payload)
		if err != nil {
			t.Fatal(err)
		}
		var rec recordWrites
		if err := writeBoardFrame(&rec, frame); err != nil {
			t.Fatal(err)
		}
		wantHead := 2
		if size >= 126 {
			wantHead = 4
		}
		if len(rec.calls) != 2 || len(rec.calls[0]) != wantHead || !bytes.Equal(rec.calls[1], payload) {
			t.Errorf("payload %d bytes: writes of %d calls (first %d bytes), want header (%d bytes) then payload", size, len(rec.calls), len(rec.calls[0]), wantHead)
		}
	}
	// An empty frame (the close answer) is one write: there is no payload.
	frame, _ := encodeBoardFrame(opClose, nil)
	var rec recordWrites
	if err := writeBoardFrame(&rec, frame); err != nil || len(rec.calls) != 1 || !bytes.Equal(rec.calls[0], []byte{0x88, 0}) {
		t.Errorf("close frame written as %q (err %v), want one write \\x88\\x00", rec.calls, err)
	}
}
