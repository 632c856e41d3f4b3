package jupyter

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"time"

	"github.com/google/uuid"
)

// ProtocolVersion is the messaging protocol version stamped on every header
// and declared in kernel_info. "5.3" adds interrupt_request, "5.5" iopub as
// XPUB with iopub_welcome; ≤ "5.1" would make jupyter_kernel_test's
// validator reject every message (docs/protocol/jupyter.md §0 item 1).
const ProtocolVersion = "5.5"

// delimiter separates routing identities from the signed part of a message.
const delimiter = "<IDS|MSG>"

// dateLayout is RFC 3339 with microseconds, the precision Python's datetime keeps.
const dateLayout = "2006-01-02T15:04:05.000000Z07:00"

// Header is a message header as this package writes it.
type Header struct {
	MsgID    string `json:"msg_id"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"`
	MsgType  string `json:"msg_type"`
	Version  string `json:"version"`
}

// message is one decoded wire message. The header is kept as the exact bytes
// received so it can be echoed verbatim as the parent_header of replies and
// side effects (unknown header fields such as subshell_id survive).
type message struct {
	identities [][]byte
	rawHeader  json.RawMessage
	parent     json.RawMessage
	metadata   json.RawMessage
	content    json.RawMessage
	buffers    [][]byte

	msgID   string
	msgType string
	session string
	channel string // the socket it came on (set by a client's reader)
}

// signer computes message signatures. A nil *signer (empty key) signs with ""
// and accepts any signature, as jupyter_client does with an empty key.
type signer struct {
	key []byte
}

func newSigner(key string) *signer {
	if key == "" {
		return nil
	}
	return &signer{key: []byte(key)}
}

func (s *signer) mac() hash.Hash { return hmac.New(sha256.New, s.key) }

// sign returns the lowercase hex HMAC over the four serialised dicts.
func (s *signer) sign(parts ...[]byte) []byte {
	if s == nil {
		return []byte{}
	}
	m := s.mac()
	for _, p := range parts {
		m.Write(p)
	}
	sum := m.Sum(nil)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

// verify checks a received hex signature in constant time.
func (s *signer) verify(signature []byte, parts ...[]byte) error {
	if s == nil {
		return nil
	}
	got := make([]byte, hex.DecodedLen(len(signature)))
	if _, err := hex.Decode(got, signature); err != nil {
		return errors.New("signature is not hex")
	}
	m := s.mac()
	for _, p := range parts {
		m.Write(p)
	}
	if !hmac.Equal(got, m.Sum(nil)) {
		return errors.New("signature mismatch")
	}
	return nil
}

// decodeMessage splits ZMQ frames into a message and checks its signature.
// Every failure is an error naming what was wrong; it never panics.
func decodeMessage(frames [][]byte, s *signer) (*message, error) {
	delim := -1
	for i, f := range frames {
		if string(f) == delimiter {
			delim = i
			break
		}
	}
	if delim < 0 {
		return nil, fmt.Errorf("no <IDS|MSG> delimiter in %d frames", len(frames))
	}
	rest := frames[delim+1:]
	if len(rest) < 5 {
		return nil, fmt.Errorf("%d frames after the delimiter, want at least 5", len(rest))
	}
	signature, header, parent, metadata, content := rest[0], rest[1], rest[2], rest[3], rest[4]
	if err := s.verify(signature, header, parent, metadata, content); err != nil {
		return nil, fmt.Errorf("bad signature: %w", err)
	}

	msg := &message{
		identities: frames[:delim],
		rawHeader:  header,
		parent:     parent,
		metadata:   metadata,
		content:    content,
		buffers:    rest[5:],
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(header, &fields); err != nil || fields == nil {
		return nil, fmt.Errorf("header is not a JSON object")
	}
	var err error
	if msg.msgType, err = stringField(fields, "msg_type"); err != nil || msg.msgType == "" {
		return nil, fmt.Errorf("header has no msg_type")
	}
	if msg.msgID, err = stringField(fields, "msg_id"); err != nil {
		return nil, fmt.Errorf("header msg_id: %w", err)
	}
	if msg.session, err = stringField(fields, "session"); err != nil {
		return nil, fmt.Errorf("header session: %w", err)
	}
	for _, part := range []struct {
		name string
		data []byte
	}{{"parent_header", parent}, {"metadata", metadata}, {"content", content}} {
		if !isJSONObject(part.data) {
			return nil, fmt.Errorf("%s is not a JSON object", part.name)
		}
	}
	return msg, nil
}

// stringField returns fields[name] as a string; a missing field is "".
func stringField(fields map[string]json.RawMessage, name string) (string, error) {
	raw, ok := fields[name]
	if !ok {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errors.New("not a string")
	}
	return s, nil
}

func isJSONObject(data []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(data, &m) == nil && m != nil
}

// outgoing is a message about to be encoded.
type outgoing struct {
	identities [][]byte
	msgType    string
	parent     json.RawMessage // nil → {}
	metadata   any             // nil → {}
	content    any             // nil → {}
	// extraHeader adds fields to the header (a client's subshell_id, say);
	// it cannot replace the ones encode writes.
	extraHeader map[string]any
}

// encode serialises and signs a message with a fresh msg_id (returned too)
// and the current date.
func (o outgoing) encode(session string, s *signer, now time.Time) (frames [][]byte, msgID string, err error) {
	if wm, ok := o.content.(WithMetadata); ok {
		o.content, o.metadata = wm.Content, wm.Metadata
	}
	msgID = uuid.NewString()
	header, err := o.header(Header{
		MsgID:    msgID,
		Session:  session,
		Username: "kernel",
		Date:     now.UTC().Format(dateLayout),
		MsgType:  o.msgType,
		Version:  ProtocolVersion,
	})
	if err != nil {
		return nil, "", fmt.Errorf("encode %s header: %w", o.msgType, err)
	}
	parent := []byte(o.parent)
	if len(parent) == 0 {
		parent = []byte("{}")
	}
	metadata, err := marshalObject(o.metadata)
	if err != nil {
		return nil, "", fmt.Errorf("encode %s metadata: %w", o.msgType, err)
	}
	content, err := marshalObject(o.content)
	if err != nil {
		return nil, "", fmt.Errorf("encode %s content: %w", o.msgType, err)
	}
	frames = make([][]byte, 0, len(o.identities)+6)
	frames = append(frames, o.identities...)
	frames = append(frames, []byte(delimiter), s.sign(header, parent, metadata, content),
		header, parent, metadata, content)
	return frames, msgID, nil
}

// header marshals h with o.extraHeader's fields added.
func (o outgoing) header(h Header) ([]byte, error) {
	data, err := json.Marshal(h)
	if err != nil || len(o.extraHeader) == 0 {
		return data, err
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, err
	}
	for k, v := range o.extraHeader {
		if _, taken := fields[k]; taken {
			return nil, fmt.Errorf("header field %q is written by the encoder", k)
		}
		fields[k] = v
	}
	return json.Marshal(fields)
}

// marshalObject marshals v, turning nil (or JSON null) into {} so no dict
// frame is ever "null".
func marshalObject(v any) ([]byte, error) {
	if v == nil {
		return []byte("{}"), nil
	}
	if raw, ok := v.(json.RawMessage); ok && len(raw) == 0 {
		return []byte("{}"), nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	// json.Marshal output is compact and valid, so its first byte tells the kind.
	if data[0] != '{' {
		return nil, fmt.Errorf("%T does not encode as a JSON object", v)
	}
	return data, nil
}
