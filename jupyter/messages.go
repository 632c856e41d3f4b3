package jupyter

import (
	"encoding/json"
)

// Content structs for the messages a kernel sends and receives
// (jupyter_client docs/messaging.rst, protocol 5.5). Fields the
// jupyter_kernel_test schemas require are never omitted: maps and slices that
// are nil still encode as {} and [].

// Reply statuses.
const (
	StatusOK    = "ok"
	StatusError = "error"
	// StatusAborted is deprecated but what ipykernel sends for requests
	// skipped after a stop_on_error failure.
	StatusAborted = "aborted"
)

// Execution states for Status.
const (
	StateStarting = "starting"
	StateBusy     = "busy"
	StateIdle     = "idle"
)

// Stream names.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// MIMEBundle maps MIME types ("text/plain") to data. Nil encodes as {}.
type MIMEBundle map[string]any

// MarshalJSON encodes nil as {}.
func (b MIMEBundle) MarshalJSON() ([]byte, error) { return marshalMap(b) }

// Metadata is a free-form JSON object. Nil encodes as {}.
type Metadata map[string]any

// MarshalJSON encodes nil as {}.
func (m Metadata) MarshalJSON() ([]byte, error) { return marshalMap(m) }

func marshalMap[M ~map[string]any](m M) ([]byte, error) {
	if m == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]any(m))
}

// nonNil returns s, or an empty slice when s is nil (so it encodes as []).
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ---- kernel_info ----

// KernelInfoRequest has no fields.
type KernelInfoRequest struct{}

// KernelInfoReply answers kernel_info_request.
type KernelInfoReply struct {
	Status                string       `json:"status"`
	ProtocolVersion       string       `json:"protocol_version"`
	Implementation        string       `json:"implementation"`
	ImplementationVersion string       `json:"implementation_version"`
	LanguageInfo          LanguageInfo `json:"language_info"`
	Banner                string       `json:"banner"`
	Debugger              bool         `json:"debugger"`
	HelpLinks             []HelpLink   `json:"help_links"`
	// SupportedFeatures names the optional protocol features the kernel
	// implements (JEP 92: "debugger", "kernel subshells"); empty when none.
	SupportedFeatures []string `json:"supported_features"`
}

// MarshalJSON keeps help_links and supported_features lists.
func (r KernelInfoReply) MarshalJSON() ([]byte, error) {
	type plain KernelInfoReply
	p := plain(r)
	p.HelpLinks = nonNil(p.HelpLinks)
	p.SupportedFeatures = nonNil(p.SupportedFeatures)
	return json.Marshal(p)
}

// LanguageInfo describes the kernel's language. FileExtension starts with ".".
type LanguageInfo struct {
	Name              string `json:"name"`
	Version           string `json:"version"`
	Mimetype          string `json:"mimetype"`
	FileExtension     string `json:"file_extension"`
	PygmentsLexer     string `json:"pygments_lexer,omitempty"`
	CodemirrorMode    any    `json:"codemirror_mode,omitempty"` // string or object
	NbconvertExporter string `json:"nbconvert_exporter,omitempty"`
}

// HelpLink is one entry of the frontend's Help menu.
type HelpLink struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

// ---- execute ----

// ExecuteRequest is the content of execute_request. Fields a client leaves
// out take the protocol defaults (store_history true unless silent,
// allow_stdin and stop_on_error true).
type ExecuteRequest struct {
	Code            string            `json:"code"`
	Silent          bool              `json:"silent"`
	StoreHistory    bool              `json:"store_history"`
	UserExpressions map[string]string `json:"user_expressions"`
	AllowStdin      bool              `json:"allow_stdin"`
	StopOnError     bool              `json:"stop_on_error"`
}

// UnmarshalJSON applies the defaults for missing fields.
func (e *ExecuteRequest) UnmarshalJSON(data []byte) error {
	type plain ExecuteRequest
	var p struct {
		plain
		StoreHistory *bool `json:"store_history"`
		AllowStdin   *bool `json:"allow_stdin"`
		StopOnError  *bool `json:"stop_on_error"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*e = ExecuteRequest(p.plain)
	e.StoreHistory = boolOr(p.StoreHistory, !e.Silent)
	e.AllowStdin = boolOr(p.AllowStdin, true)
	e.StopOnError = boolOr(p.StopOnError, true)
	if e.Silent {
		e.StoreHistory = false // the spec: silent forces store_history off
	}
	return nil
}

func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// ExecuteReply answers execute_request. ExecutionCount is always sent. For
// status "error" fill Ename, Evalue and Traceback.
type ExecuteReply struct {
	Status          string         `json:"status"`
	ExecutionCount  int            `json:"execution_count"`
	Payload         []any          `json:"payload,omitempty"`
	UserExpressions map[string]any `json:"user_expressions,omitempty"`
	Ename           string         `json:"ename,omitempty"`
	Evalue          string         `json:"evalue,omitempty"`
	Traceback       []string       `json:"traceback,omitempty"`
}

// MarshalJSON sends payload and user_expressions on "ok" and the error
// fields on "error", each as the schema expects.
func (r ExecuteReply) MarshalJSON() ([]byte, error) {
	type plain ExecuteReply
	if r.Status == StatusOK {
		var p struct {
			plain
			Payload         []any          `json:"payload"`
			UserExpressions map[string]any `json:"user_expressions"`
		}
		p.plain = plain(r)
		p.Payload = nonNil(r.Payload)
		p.UserExpressions = r.UserExpressions
		if p.UserExpressions == nil {
			p.UserExpressions = map[string]any{}
		}
		return json.Marshal(p)
	}
	if r.Status == StatusError {
		var p struct {
			plain
			Ename     string   `json:"ename"`
			Evalue    string   `json:"evalue"`
			Traceback []string `json:"traceback"`
		}
		p.plain, p.Ename, p.Evalue, p.Traceback = plain(r), r.Ename, r.Evalue, nonNil(r.Traceback)
		return json.Marshal(p)
	}
	return json.Marshal(plain(r))
}

// ExecuteInput (iopub) echoes the code being run.
type ExecuteInput struct {
	Code           string `json:"code"`
	ExecutionCount int    `json:"execution_count"`
}

// ExecuteResult (iopub) is the value of the cell; Data should hold "text/plain".
type ExecuteResult struct {
	ExecutionCount int        `json:"execution_count"`
	Data           MIMEBundle `json:"data"`
	Metadata       Metadata   `json:"metadata"`
}

// ---- iopub output ----

// Stream (iopub) is text on stdout or stderr.
type Stream struct {
	Name string `json:"name"` // Stdout or Stderr
	Text string `json:"text"`
}

// Error (iopub "error") reports a failed execution; the frontend shows Traceback.
type Error struct {
	Ename     string   `json:"ename"`
	Evalue    string   `json:"evalue"`
	Traceback []string `json:"traceback"`
}

// MarshalJSON keeps traceback a list.
func (e Error) MarshalJSON() ([]byte, error) {
	type plain Error
	p := plain(e)
	p.Traceback = nonNil(p.Traceback)
	return json.Marshal(p)
}

// ErrorReply is the content of any reply with status "error".
type ErrorReply struct {
	Status    string   `json:"status"` // StatusError
	Ename     string   `json:"ename"`
	Evalue    string   `json:"evalue"`
	Traceback []string `json:"traceback"`
}

// MarshalJSON keeps traceback a list and status set.
func (e ErrorReply) MarshalJSON() ([]byte, error) {
	type plain ErrorReply
	p := plain(e)
	p.Traceback = nonNil(p.Traceback)
	if p.Status == "" {
		p.Status = StatusError
	}
	return json.Marshal(p)
}

// DisplayData (iopub "display_data") shows rich output.
type DisplayData struct {
	Data      MIMEBundle `json:"data"`
	Metadata  Metadata   `json:"metadata"`
	Transient *Transient `json:"transient,omitempty"`
}

// UpdateDisplayData (iopub "update_display_data") replaces an earlier
// display with the same Transient.DisplayID.
type UpdateDisplayData struct {
	Data      MIMEBundle `json:"data"`
	Metadata  Metadata   `json:"metadata"`
	Transient Transient  `json:"transient"`
}

// Transient holds data that is not stored in the notebook.
type Transient struct {
	DisplayID string `json:"display_id,omitempty"`
}

// ClearOutput (iopub "clear_output") clears the cell's output; Wait defers
// the clearing until new output arrives.
type ClearOutput struct {
	Wait bool `json:"wait"`
}

// Status (iopub "status") is the kernel's execution state.
type Status struct {
	ExecutionState string `json:"execution_state"` // StateBusy, StateIdle, StateStarting
}

// IOPubWelcome (iopub "iopub_welcome", protocol 5.5, JEP 65) tells a
// subscriber that its subscription to Subscription (a topic prefix; "" is
// everything) is in place. It has no parent.
type IOPubWelcome struct {
	Subscription string `json:"subscription"`
}

// ---- complete / inspect / is_complete / history ----

// CompleteRequest asks for completions at CursorPos (Unicode code points).
type CompleteRequest struct {
	Code      string `json:"code"`
	CursorPos int    `json:"cursor_pos"`
}

// CompleteReply lists completions replacing Code[CursorStart:CursorEnd].
type CompleteReply struct {
	Status      string   `json:"status"`
	Matches     []string `json:"matches"`
	CursorStart int      `json:"cursor_start"`
	CursorEnd   int      `json:"cursor_end"`
	Metadata    Metadata `json:"metadata"`
}

// MarshalJSON keeps matches a list.
func (r CompleteReply) MarshalJSON() ([]byte, error) {
	type plain CompleteReply
	p := plain(r)
	p.Matches = nonNil(p.Matches)
	return json.Marshal(p)
}

// InspectRequest asks for help on the object at CursorPos.
type InspectRequest struct {
	Code        string `json:"code"`
	CursorPos   int    `json:"cursor_pos"`
	DetailLevel int    `json:"detail_level"` // 0 or 1
}

// InspectReply carries the help text, if Found.
type InspectReply struct {
	Status   string     `json:"status"`
	Found    bool       `json:"found"`
	Data     MIMEBundle `json:"data"`
	Metadata Metadata   `json:"metadata"`
}

// IsCompleteRequest asks whether Code is ready to run (consoles).
type IsCompleteRequest struct {
	Code string `json:"code"`
}

// IsCompleteReply statuses.
const (
	Complete   = "complete"
	Incomplete = "incomplete"
	Invalid    = "invalid"
	Unknown    = "unknown"
)

// IsCompleteReply answers with Complete, Incomplete (with Indent), Invalid or Unknown.
type IsCompleteReply struct {
	Status string `json:"status"`
	Indent string `json:"indent,omitempty"`
}

// HistoryRequest asks for past inputs.
type HistoryRequest struct {
	Output         bool   `json:"output"`
	Raw            bool   `json:"raw"`
	HistAccessType string `json:"hist_access_type"` // "range", "tail", "search"
	Session        int    `json:"session"`
	Start          int    `json:"start"`
	Stop           int    `json:"stop"`
	N              int    `json:"n"`
	Pattern        string `json:"pattern"`
	Unique         bool   `json:"unique"`
}

// HistoryReply lists history entries.
type HistoryReply struct {
	Status  string         `json:"status"`
	History []HistoryEntry `json:"history"`
}

// MarshalJSON keeps history a list.
func (r HistoryReply) MarshalJSON() ([]byte, error) {
	type plain HistoryReply
	p := plain(r)
	p.History = nonNil(p.History)
	return json.Marshal(p)
}

// HistoryEntry encodes as [session, line, input], or with Output set as
// [session, line, [input, output]].
type HistoryEntry struct {
	Session int
	Line    int
	Input   string
	Output  *string
}

// MarshalJSON encodes the tuple form.
func (h HistoryEntry) MarshalJSON() ([]byte, error) {
	if h.Output != nil {
		return json.Marshal([]any{h.Session, h.Line, []string{h.Input, *h.Output}})
	}
	return json.Marshal([]any{h.Session, h.Line, h.Input})
}

// ---- comms ----

// WithMetadata is content sent with a message-level metadata object:
// Publish and Reply take it in place of the content alone. A widget's
// comm_open carries the widget protocol's version there ({"version":
// "2.1.0"}), and a frontend refuses the comm without it.
type WithMetadata struct {
	Content  any
	Metadata any
}

// CommInfoRequest asks for open comms, optionally of one target.
type CommInfoRequest struct {
	TargetName string `json:"target_name,omitempty"`
}

// CommInfoReply lists open comms by id.
type CommInfoReply struct {
	Status string              `json:"status"`
	Comms  map[string]CommInfo `json:"comms"`
}

// MarshalJSON keeps comms an object.
func (r CommInfoReply) MarshalJSON() ([]byte, error) {
	type plain CommInfoReply
	p := plain(r)
	if p.Comms == nil {
		p.Comms = map[string]CommInfo{}
	}
	return json.Marshal(p)
}

// CommInfo describes one open comm.
type CommInfo struct {
	TargetName string `json:"target_name"`
}

// CommOpen opens a comm (either direction).
type CommOpen struct {
	CommID       string   `json:"comm_id"`
	TargetName   string   `json:"target_name"`
	Data         Metadata `json:"data"`
	TargetModule string   `json:"target_module,omitempty"`
}

// CommMsg is a message on an open comm.
type CommMsg struct {
	CommID string   `json:"comm_id"`
	Data   Metadata `json:"data"`
}

// CommClose closes a comm; a kernel answers a comm_open for an unknown
// target with it.
type CommClose struct {
	CommID string   `json:"comm_id"`
	Data   Metadata `json:"data"`
}

// ---- control ----

// ShutdownRequest asks the kernel to exit (and, if Restart, expect a restart).
type ShutdownRequest struct {
	Restart bool `json:"restart"`
}

// ShutdownReply confirms a shutdown; Restart echoes the request.
type ShutdownReply struct {
	Status  string `json:"status"`
	Restart bool   `json:"restart"`
}

// InterruptRequest has no fields (interrupt_mode "message").
type InterruptRequest struct{}

// InterruptReply confirms an interrupt.
type InterruptReply struct {
	Status string `json:"status"`
}

// ---- stdin ----

// InputRequest (kernel → frontend on stdin) asks for a line of input.
type InputRequest struct {
	Prompt   string `json:"prompt"`
	Password bool   `json:"password"`
}

// InputReply (frontend → kernel on stdin) carries the typed line.
type InputReply struct {
	Value string `json:"value"`
}
