package kernel

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// coalesceDelay is how long board output may wait to be merged with more
// output into one stream message. Boards send a frame per write (often per
// line ending), so a printing loop would otherwise flood the frontend. The
// first lines after a quiet moment (nothing published for coalesceDelay)
// go at once; what follows them within coalesceDelay is merged.
const coalesceDelay = 15 * time.Millisecond

// maxPendingText bounds the output held for coalescing: at that size Write
// publishes at once, itself, instead of leaving it to the timer. Publishing
// waits while the frontend is behind (jupyter's iopub queues are bounded
// and block), so Write then blocks, webrepl stops reading the board, and
// TCP slows the board down: the kernel reads the board no faster than the
// frontend is fed.
const maxPendingText = 64 << 10

// maxCellText bounds the stream text (stdout and stderr) one cell shows.
// JupyterLab keeps a cell's stream output as one growing text that it
// renders again on every message, so a board printing as fast as the link
// allows (megabytes a minute) makes the page unusable (issue 16 item 7;
// the browser test prints flat out). Past it the cell says so in one
// stderr line and its further text is read from the board and dropped, so
// the program runs on; results, input() and displays still go through.
const maxCellText = 1 << 20

// maxFramedValue bounds the repr of one value (or one input() prompt) held
// until its frame ends; the rest is counted and said, not kept.
const maxFramedValue = 1 << 20

// maxMessageFrame bounds a board message frame (boardmsg.go) held until it
// ends: the base64 of maxMessageData with its line ends, and a header. A
// longer frame is counted, not kept, and refused in one line.
const maxMessageFrame = maxMessageData/3*4 + maxMessageData/768 + 8 + maxMessageHeader

// cellOutput receives a cell's board output as it arrives and publishes it:
// text as stdout stream messages, framed text written to sys.stderr as
// stderr stream messages, framed expression values as results, and framed
// input() prompts as requests for a line of input.
type cellOutput struct {
	stream    func(text string)   // publishes a stdout stream message
	errStream func(text string)   // publishes a stderr stream message; nil: as stdout
	result    func(repr string)   // publishes an expression value
	input     func(prompt string) // asks the frontend for a line; must not block
	// message receives a board message frame (boardmsg.go) and the bytes
	// of it that were over maxMessageFrame and not kept; nil: dropped.
	// cut tells that the frame never ended (the cell was interrupted).
	message func(frame []byte, overflow int, cut bool)

	starts []string          // the start markers of frames
	ends   map[string]string // start marker → its end marker
	errEnd string            // the end of a stderr frame
	msgEnd string            // the end of a message frame

	mu        sync.Mutex
	text      []byte // output not yet published, all of one stream
	textIsErr bool   // text is stderr output
	marker    []byte // bytes that may be the start of a marker
	framing   string // the end marker awaited while inside a frame, "" outside
	framed    []byte // the framed text received so far
	overflow  int    // framed bytes beyond maxFramedValue, not kept
	echo      []byte // the board's echo of typed input, not to be shown again
	echoed    []byte // output matching the start of echo, held until it is known
	timer     *time.Timer
	published time.Time // when text was last published
	closed    bool
	shown     int  // stream text published so far (maxCellText)
	limited   bool // maxCellText was reached and said
	// discard: the cell has ended (the kernel gave up on the board);
	// output is dropped from then on, without waiting for mu, which a
	// publish blocked on a slow frontend may hold.
	discard atomic.Bool
}

// cut drops all output from now on: the cell it belonged to has ended.
func (o *cellOutput) cut() { o.discard.Store(true) }

// newCellOutput reads the frames of a helper that is not a cell (empty
// token).
func newCellOutput(stream, result, input func(string)) *cellOutput {
	return newTokenOutput("", stream, result, input)
}

// newTokenOutput reads the output of a cell whose frames carry token.
func newTokenOutput(token string, stream, result, input func(string)) *cellOutput {
	o := &cellOutput{stream: stream, result: result, input: input, ends: map[string]string{}}
	for _, pair := range [][2]byte{{kindResult, kindResultEnd}, {kindInput, kindInputEnd}, {kindStderr, kindStderrEnd}, {kindMessage, kindMessageEnd}} {
		start := marker(pair[0], token)
		o.starts = append(o.starts, start)
		o.ends[start] = marker(pair[1], token)
	}
	o.errEnd = marker(kindStderrEnd, token)
	o.msgEnd = marker(kindMessageEnd, token)
	return o
}

// Write takes board output (LF line ends). It never fails: a frontend that
// cannot be reached must not stop the program on the board.
func (o *cellOutput) Write(p []byte) (int, error) {
	if o.discard.Load() {
		return len(p), nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return len(p), nil
	}
	data := append(o.marker, p...)
	o.marker = nil
	for len(data) > 0 {
		if o.framing == o.errEnd {
			// Streamed as it comes, like stdout: a long write to stderr
			// is not held until its frame ends.
			if i := bytes.Index(data, []byte(o.errEnd)); i >= 0 {
				o.addText(data[:i], true)
				data = data[i+len(o.errEnd):]
				o.framing = ""
				continue
			}
			keep := markerPrefixLen(data, o.errEnd)
			o.addText(data[:len(data)-keep], true)
			o.marker = append([]byte(nil), data[len(data)-keep:]...)
			break
		}
		if o.framing != "" {
			if i := bytes.Index(data, []byte(o.framing)); i >= 0 {
				o.addFramed(data[:i])
				o.endFrame()
				data = data[i+len(o.framing):]
				o.framing = ""
				continue
			}
			keep := markerPrefixLen(data, o.framing)
			o.addFramed(data[:len(data)-keep])
			o.marker = append([]byte(nil), data[len(data)-keep:]...)
			break
		}
		data = o.dropEcho(data)
		start, at := "", -1
		for _, s := range o.starts {
			if i := bytes.Index(data, []byte(s)); i >= 0 && (at < 0 || i < at) {
				start, at = s, i
			}
		}
		if at >= 0 {
			o.addText(data[:at], false)
			o.framing = o.ends[start]
			data = data[at+len(start):]
			continue
		}
		keep := 0
		for _, s := range o.starts {
			keep = max(keep, markerPrefixLen(data, s))
		}
		o.addText(data[:len(data)-keep], false)
		o.marker = append([]byte(nil), data[len(data)-keep:]...)
		break
	}
	if len(o.text) >= maxPendingText {
		o.flushText(false) // blocks while the frontend is behind
	}
	quiet := time.Since(o.published) >= coalesceDelay
	if i := bytes.LastIndexByte(o.text, '\n'); quiet && i >= 0 {
		// After a quiet moment its complete lines go at once; a line's
		// start waits a little for its end (print writes the two apart).
		o.publishText(i + 1)
	}
	if len(o.text) > 0 && o.timer == nil {
		wait := coalesceDelay - time.Since(o.published)
		if wait <= 0 {
			wait = coalesceDelay
		}
		o.timer = time.AfterFunc(wait, o.flushLater)
	}
	return len(p), nil
}

// addFramed keeps framed text up to maxFramedValue (maxMessageFrame for a
// message).
func (o *cellOutput) addFramed(p []byte) {
	limit := maxFramedValue
	if o.framing == o.msgEnd {
		limit = maxMessageFrame
	}
	room := max(0, limit-len(o.framed))
	o.framed = append(o.framed, p[:min(room, len(p))]...)
	o.overflow += len(p) - min(room, len(p))
}

// addText queues output of one stream; output of the other stream queued
// before it is published first, so the two keep their order.
func (o *cellOutput) addText(p []byte, isErr bool) {
	if len(p) == 0 {
		return
	}
	if isErr != o.textIsErr {
		o.flushText(true)
		o.textIsErr = isErr
	}
	o.text = append(o.text, p...)
}

// endFrame acts on a complete frame, after the text before it.
func (o *cellOutput) endFrame() {
	o.flushText(true)
	if o.framing == o.msgEnd {
		if o.message != nil {
			o.message(o.framed, o.overflow, false)
		}
		o.framed, o.overflow = nil, 0
		return
	}
	if o.overflow > 0 {
		o.framed = fmt.Appendf(o.framed, "… (%d bytes more not shown)", o.overflow)
		o.overflow = 0
	}
	switch o.framing {
	case o.ends[o.starts[0]]:
		o.result(string(o.framed))
	case o.ends[o.starts[1]]:
		o.input(string(o.framed))
	}
	o.framed = nil
}

// expectEcho tells that line was typed to the board: its readline echoes it
// (and the line end), which the frontend already shows with the prompt.
func (o *cellOutput) expectEcho(line string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	o.addText(o.echoed, false) // an earlier echo that never completed
	o.echoed = nil
	o.echo = []byte(line + "\n")
}

// dropEcho removes the expected echo from the start of data. Output that
// matches only part of it (the echo split across writes) is held back until
// the rest decides; anything else ends the expectation and gives back what
// was held: output must never be lost to a wrong guess.
func (o *cellOutput) dropEcho(data []byte) []byte {
	if len(o.echo) == 0 {
		return data
	}
	n := 0
	for n < len(o.echo) && n < len(data) && o.echo[n] == data[n] {
		n++
	}
	switch {
	case n == len(o.echo): // the whole echo: drop it
		o.echo, o.echoed = nil, nil
		return data[n:]
	case n == len(data): // all of data may still be echo
		o.echo = o.echo[n:]
		o.echoed = append(o.echoed, data...)
		return nil
	}
	held := append(o.echoed, data...)
	o.echo, o.echoed = nil, nil
	return held
}

// markerPrefixLen is the length of the longest suffix of data that is a
// proper prefix of marker (a marker split across two writes).
func markerPrefixLen(data []byte, marker string) int {
	for n := min(len(marker)-1, len(data)); n > 0; n-- {
		if bytes.HasSuffix(data, []byte(marker[:n])) {
			return n
		}
	}
	return 0
}

func (o *cellOutput) flushLater() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.timer = nil
	if !o.closed {
		o.flushText(false)
	}
}

// flushText publishes pending text. Unless all is set it holds back an
// incomplete UTF-8 sequence at the end for the next write to complete.
func (o *cellOutput) flushText(all bool) {
	n := len(o.text)
	if !all {
		n = completeUTF8Len(o.text)
	}
	o.publishText(n)
}

// publishText publishes the first n bytes of pending text.
func (o *cellOutput) publishText(n int) {
	if n == 0 {
		return
	}
	if o.discard.Load() {
		o.text = o.text[:0]
		return
	}
	publish := o.stream
	if o.textIsErr && o.errStream != nil {
		publish = o.errStream
	}
	if o.limited {
		o.text = append(o.text[:0], o.text[n:]...)
		return
	}
	show := n
	if o.shown+n > maxCellText {
		show = completeUTF8Len(o.text[:maxCellText-o.shown])
	}
	if show > 0 {
		publish(string(o.text[:show]))
		o.shown += show
	}
	if show < n {
		o.limited = true
		note := fmt.Sprintf("\n[output limit: this cell has shown %s of text; the rest of its output is not shown "+
			"(the board goes on running it: Interrupt stops it)]\n", byteCount(maxCellText))
		if o.errStream != nil {
			o.errStream(note)
		} else {
			o.stream(note)
		}
	}
	o.published = time.Now()
	o.text = append(o.text[:0], o.text[n:]...)
}

// byteCount says n in bytes, KB or MB.
func byteCount(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// completeUTF8Len is the length of b without a trailing incomplete UTF-8
// sequence.
func completeUTF8Len(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			return len(b)
		}
	}
	return len(b)
}

// Close publishes everything still pending; later writes are dropped.
func (o *cellOutput) Close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	if o.timer != nil {
		o.timer.Stop()
		o.timer = nil
	}
	if o.discard.Load() { // the cell ended without it (cut)
		o.text, o.framed, o.closed = nil, nil, true
		return
	}
	// An unfinished frame (the program was interrupted inside repr) or a
	// partial marker is shown as text rather than lost; an unfinished
	// message is told as cut short.
	switch {
	case o.framing == o.msgEnd:
		o.flushText(true)
		if o.message != nil {
			o.message(o.framed, o.overflow, true)
		}
	case o.framing != "":
		o.addText(o.framed, false)
	}
	o.addText(o.echoed, false)
	if o.framing != o.msgEnd {
		o.addText(o.marker, o.framing == o.errEnd)
	}
	o.flushText(true)
	o.closed = true
}
