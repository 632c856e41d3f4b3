// Inspection: Shift-Tab (inspect_request) and the help cells `obj?` and
// `obj??`. What an object is comes from the live board, through a small
// board-side function (inspectorName) that resolves a dotted name without
// running a call and reports, one framed line each, its type, a bounded
// repr, its docstring, its public members and where it was defined. The
// signature and source come from text the kernel can read: the cells this
// kernel ran (its history) for functions and classes defined in a cell, the
// board's .py file for those imported from one. MicroPython keeps neither
// argument names nor counts on a function object (no inspect.signature, no
// usable __code__ on the boards this project meets) and drops docstrings
// when it compiles, so that text is the only place they survive
// (docs/design.md, "Inspection").

package kernel

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"webrepl-kernel/jupyter"
	"webrepl-kernel/webrepl"
)

// inspectTimeout bounds each step of a Shift-Tab on the board (the call,
// and the first time on a connection the definition of the inspector): a
// tooltip that does not come within a few seconds is worth nothing, and the
// board must not stay busy for it. A help cell is a cell: no bound but the
// interrupt.
const inspectTimeout = 5 * time.Second

// Bounds of what the inspector sends back: the repr, the docstring and each
// source line are cut on the board (a list of ten thousand items must not
// cross the link for a tooltip), the member list too. inspectOutputLimit
// bounds what the host keeps of the whole answer, whatever the board (or a
// user __repr__ that prints) sends.
const (
	inspectReprLimit    = 1000
	inspectDocLimit     = 4000
	inspectMembersLimit = 100
	inspectSourceLines  = 80
	inspectLineLimit    = 200
	inspectOutputLimit  = 64 << 10
)

// inspectorName is the board-side function behind inspection, defined once
// per connection (again when missing, as the completer is).
const inspectorName = "__wk_inspect"

// boardResolve is the board-side Python (one space of indent, inside a
// function with g=globals() and a writer w(key, value)) that resolves the
// dotted name o into v without running a call: each attribute step is
// looked up in the class dictionaries along __bases__ first (of v itself
// when it is a class), a property there is reported (w('P', name)) instead
// of read on an instance, and e is left at the class whose dictionary held
// the last step (None otherwise); a name that is not there, or that only a
// user __getattr__ would answer, is reported as w('N', o). Shared by the
// inspector and the completer; it sets p b v a e h s c d, boardMembers
// c m u x d y: the functions that include them keep their own names clear
// of those.
const boardResolve = ` p=o.split('.')
 b=__import__('builtins')
 e=None
 if p[0] in g:v=g[p[0]]
 elif hasattr(b,p[0]):v=getattr(b,p[0])
 else:return w('N',o)
 for a in p[1:]:
  e=None;h=0
  s=[v] if isinstance(v,type) else [type(v)]
  while s:
   c=s.pop(0)
   d=getattr(c,'__dict__',None)
   if isinstance(d,dict) and a in d:
    if not isinstance(v,type) and isinstance(d[a],property):return w('P',a)
    e=c
    break
   if isinstance(d,dict) and '__getattr__' in d:h=1
   s.extend(getattr(c,'__bases__',()))
  if h and e is None and not isinstance(v,type) and a not in(getattr(v,'__dict__',None) or ()):return w('N',o)
  try:v=getattr(v,a)
  except Exception:return w('N',o)
`

// boardMembers sets m to the attribute names of v. MicroPython's dir()
// tries every attribute it might have, which runs a property's getter, so
// where a class along v's __bases__ has a property or __getattr__ the names
// come from the instance and class dictionaries instead.
const boardMembers = ` c=[v] if isinstance(v,type) else [type(v)]
 m=set(getattr(v,'__dict__',None) or ()) if not isinstance(v,type) else set()
 u=0
 while c:
  x=c.pop(0)
  d=getattr(x,'__dict__',None)
  if isinstance(d,dict):
   m.update(d)
   u=u or '__getattr__' in d or any(isinstance(y,property) for y in d.values())
  c.extend(getattr(x,'__bases__',()))
 if not u:
  try:m=dir(v)
  except Exception:pass
`

// inspectorProgram defines the inspector. Its arguments: the dotted name,
// and a token that starts every line it prints (random per request, so
// nothing a user __repr__ prints can pass for an answer). Every attribute
// step is looked up in the class dictionaries first so that a property is
// reported, not run, and where a class has a property or __getattr__ the
// members come from the class dictionaries, not dir() (MicroPython's dir()
// tries every attribute, which runs properties), and an instance is asked
// for no attribute a user __getattr__ could answer: the inspector calls no
// function of the user's except __repr__, as IPython does. Lines: t+K+repr(str) with K one of
//
//	N not found   P a property (not evaluated)   T type name   R repr (cut)
//	r repr length  D docstring  M member  m member count  F file of definition
//	G defined in the REPL's globals  n __name__  K kind (class, function, module)
//	C the class of an instance, defined in the REPL's globals
//	O the class, defined in the REPL's globals, whose dictionary holds the last step
//	L len() of a built-in container  S a source line from the board's file
var inspectorProgram = fmt.Sprintf(`def %[1]s(o,t,R=repr,P=__import__('builtins').print):
 g=globals()
 def w(k,v):P(t+k+R(str(v)))
%[7]s w('T',type(v).__name__)
 try:r=R(v)
 except Exception as x:r='<repr failed: %%s>'%%type(x).__name__
 w('r',len(r));w('R',r[:%[2]d])
 k='class' if isinstance(v,type) else 'module' if type(v).__name__=='module' else 'function' if type(v).__name__ in('function','closure','bound_method','generator') else ''
 w('K',k)
 d=getattr(v,'__doc__',None) if k else (getattr(type(v),'__dict__',None) or {}).get('__doc__')
 if not k and getattr(type(v),'__module__',None)=='__main__':w('C',type(v).__name__)
 if e is not None and getattr(e,'__module__',None)=='__main__':w('O',e.__name__)
 if isinstance(d,str):w('D',d[:%[3]d])
 n=getattr(v,'__name__',None) if k else None
 if isinstance(n,str):w('n',n)
 if isinstance(v,(str,bytes,bytearray,list,tuple,dict,set)):w('L',len(v))
%[8]s m=sorted(x for x in m if isinstance(x,str) and not x.startswith('_'))
 w('m',len(m))
 for x in m[:%[4]d]:w('M',x)
 f=None
 x=getattr(v,'__globals__',None) if k=='function' else None
 if k=='class':
  x=getattr(__import__('sys').modules.get(getattr(v,'__module__',''),None),'__dict__',None)
  if getattr(v,'__module__','')=='__main__':x=g
 if k=='module':f=getattr(v,'__file__',None)
 elif isinstance(x,dict):
  f=x.get('__file__')
  if x is g:w('G',1)
 if not isinstance(f,str):return
 w('F',f)
 if k in('class','function') and isinstance(n,str) and f.endswith('.py'):
  try:
   h=open(f)
   try:
    i=-1
    for l in h:
     if i<0:
      q=l.lstrip()
      if q.startswith('async '):q=q[6:].lstrip()
      if q.startswith(('def ','class ')) and q.split(None,1)[1].startswith(n) and q.split(None,1)[1][len(n):len(n)+1] in('(',':',' '):i=0
     if i>=0:
      w('S',l.rstrip('\r\n')[:%[5]d]);i+=1
      if i>=%[6]d:break
   finally:h.close()
  except Exception:pass
`, inspectorName, inspectReprLimit, inspectDocLimit, inspectMembersLimit, inspectLineLimit, inspectSourceLines,
	boardResolve, boardMembers)

// boardObject is what the inspector found out about one dotted name.
type boardObject struct {
	found      bool
	property   string // the attribute is a property: not evaluated
	typeName   string
	repr       string
	reprLen    int
	kind       string // "class", "function", "module" or ""
	doc        *string
	name       string
	length     *int
	members    []string
	nMembers   int
	file       string
	inGlobals  bool     // defined in the REPL's globals, i.e. by a cell
	cellClass  string   // an instance's class, defined in the REPL's globals
	owner      string   // the class in the REPL's globals that defines the attribute
	fileSource []string // lines of the board's file from the definition on
}

// parseInspectorOutput reads the inspector's lines that carry token.
func parseInspectorOutput(out, token string) (boardObject, error) {
	var obj boardObject
	seen := false
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(line, token)
		if !ok || rest == "" {
			continue
		}
		key, literal := rest[0], rest[1:]
		value, err := parsePythonString(literal)
		if err != nil {
			return boardObject{}, fmt.Errorf("inspector line %q: %w", line, err)
		}
		seen = true
		number := func() int { n, _ := strconv.Atoi(value); return n }
		switch key {
		case 'N':
			return boardObject{}, nil
		case 'P':
			obj.property = value
			return obj, nil
		case 'T':
			obj.typeName, obj.found = value, true
		case 'r':
			obj.reprLen = number()
		case 'R':
			obj.repr = value
		case 'K':
			obj.kind = value
		case 'D':
			obj.doc = &value
		case 'n':
			obj.name = value
		case 'L':
			n := number()
			obj.length = &n
		case 'm':
			obj.nMembers = number()
		case 'M':
			obj.members = append(obj.members, value)
		case 'F':
			obj.file = value
		case 'G':
			obj.inGlobals = true
		case 'C':
			obj.cellClass = value
		case 'O':
			obj.owner = value
		case 'S':
			obj.fileSource = append(obj.fileSource, value)
		}
	}
	if !seen {
		return boardObject{}, fmt.Errorf("the inspector printed no answer")
	}
	return obj, nil
}

// parsePythonString reads the repr() of a str as MicroPython writes it:
// quoted with ' (or " when the text holds ' and no "), escapes \\ \' \"
// \n \r \t \xNN, everything else (UTF-8 included) as is.
func parsePythonString(s string) (string, error) {
	if len(s) < 2 || (s[0] != '\'' && s[0] != '"') || s[len(s)-1] != s[0] {
		return "", fmt.Errorf("not a string literal")
	}
	body := s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(body) {
			return "", fmt.Errorf("string literal ends in a backslash")
		}
		i++
		switch body[i] {
		case '\\', '\'', '"':
			b.WriteByte(body[i])
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'x', 'u', 'U':
			width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[body[i]]
			if i+1+width > len(body) {
				return "", fmt.Errorf("short \\%c escape", body[i])
			}
			n, err := strconv.ParseUint(body[i+1:i+1+width], 16, 32)
			if err != nil {
				return "", fmt.Errorf("bad \\%c escape: %w", body[i], err)
			}
			b.WriteRune(rune(n))
			i += width
		default:
			b.WriteByte('\\')
			b.WriteByte(body[i])
		}
	}
	return b.String(), nil
}

// inspectableName is a dotted name: the only thing the inspector evaluates.
var inspectableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// callScanLimit is how far back nameAtCursor looks for an open call.
const callScanLimit = 4096

// nameAtCursor finds what Shift-Tab asks about: the dotted name the cursor
// is in or just after ("machine.Pi|n" → machine.Pin), else the name of the
// call whose arguments the cursor is in ("print(1, |" → print), as IPython
// does. "" when there is none.
func nameAtCursor(code string, cursor int) string {
	runes := []rune(code)
	if cursor < 0 || cursor > len(runes) {
		cursor = len(runes)
	}
	isName := func(r rune) bool { return r == '_' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r) }
	start, end := cursor, cursor
	for start > 0 && isName(runes[start-1]) {
		start--
	}
	for end < len(runes) && isName(runes[end]) {
		end++
	}
	if name := strings.Trim(string(runes[start:end]), "."); inspectableName.MatchString(name) {
		if start == 0 || !strings.ContainsRune("0123456789'\")]}", runes[start-1]) {
			return name
		}
	}
	// The innermost call still open before the cursor (looking back a
	// bounded stretch: a tooltip need not parse a huge cell).
	depth := 0
	for i := cursor - 1; i >= 0 && i >= cursor-callScanLimit; i-- {
		switch runes[i] {
		case ')', ']', '}':
			depth++
		case '[', '{':
			depth--
		case '(':
			if depth > 0 {
				depth--
				continue
			}
			j := i
			for j > 0 && isName(runes[j-1]) {
				j--
			}
			if name := string(runes[j:i]); inspectableName.MatchString(name) {
				return name
			}
			return ""
		}
	}
	return ""
}

// answerToken is a new random prefix for the lines of one answer of a
// board-side helper: output that does not start with it (a __repr__ that
// prints, anything left on the console) cannot pass for the answer.
func answerToken() (string, error) {
	var raw [12]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("making an answer token: %w", err)
	}
	return "\x02" + hex.EncodeToString(raw[:]) + ":", nil
}

// callHelper runs call, a call of the board-side function helper, and
// returns what it printed (at most inspectOutputLimit bytes). When the
// board does not know the function (the first use on this connection, or
// the user deleted it), definition is run once and the call again. Each of
// those steps has its own step time (0: only ctx bounds them), so that
// sending the definition, a kilobyte or two at the board's pace, does not
// eat the time of the call. A link found dead drops the session, as a
// failed cell would.
func (k *Kernel) callHelper(ctx context.Context, s *webrepl.Session, step time.Duration, helper, definition, call string) (string, error) {
	exec := func(code string, out io.Writer) (*webrepl.Result, error) {
		if step > 0 {
			ctx, cancel := context.WithTimeout(ctx, step)
			defer cancel()
			return s.Exec(ctx, []byte(code), out)
		}
		return s.Exec(ctx, []byte(code), out)
	}
	for attempt := 0; ; attempt++ {
		out := &boundedBuffer{limit: inspectOutputLimit}
		res, err := exec(call, out)
		if err == nil && res != nil && res.Exception != nil {
			e := res.Exception
			if attempt == 0 && e.Type == "NameError" && strings.Contains(e.Message, helper) {
				if _, err = exec(definition, &boundedBuffer{limit: inspectOutputLimit}); err == nil {
					continue
				}
			} else {
				err = fmt.Errorf("%s raised %s: %s", helper, e.Type, e.Message)
			}
		}
		if err != nil {
			if !s.Connected() {
				k.dropSession(s)
			}
			return "", err
		}
		return out.String(), nil
	}
}

// inspectOnBoard asks the board about name. It never connects, like
// completion: a tooltip must not log in to a board or take it from another
// notebook. ok is false when the board did not answer.
func (k *Kernel) inspectOnBoard(ctx context.Context, s *webrepl.Session, step time.Duration, name string) (obj boardObject, ok bool) {
	token, err := answerToken()
	if err == nil {
		var out string
		out, err = k.callHelper(ctx, s, step, inspectorName, inspectorProgram,
			fmt.Sprintf("%s(%s,%s)", inspectorName, pythonString(name), pythonString(token)))
		if err == nil {
			obj, err = parseInspectorOutput(out, token)
		}
	}
	if err != nil {
		k.cfg.Logf("kernel: inspect %s on the board: %v", name, err)
		return boardObject{}, false
	}
	return obj, true
}

// boundedBuffer keeps the first limit bytes written to it and drops the
// rest (the answer is then incomplete, never unbounded).
type boundedBuffer struct {
	b     []byte
	limit int
}

func (w *boundedBuffer) Write(p []byte) (int, error) {
	if room := w.limit - len(w.b); room > 0 {
		w.b = append(w.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (w *boundedBuffer) String() string { return string(w.b) }

// noteUncompiled remembers a cell the board did not compile: its text
// defined nothing, so inspection must not take a signature from it.
func (k *Kernel) noteUncompiled(count int, failure *cellError) {
	if failure.ename != "SyntaxError" && failure.ename != "IndentationError" {
		return
	}
	if k.uncompiled == nil {
		k.uncompiled = map[int]bool{}
	}
	k.uncompiled[count] = true
}

// cellDefinition finds the latest cell of this kernel that defined name at
// its top level (skipping cells the board could not compile).
func (k *Kernel) cellDefinition(name string) (definition, bool) {
	for i := len(k.history.entries) - 1; i >= 0; i-- {
		e := k.history.entries[i]
		if k.uncompiled[e.line] {
			continue
		}
		if block, ok := findDefinition(strings.Split(e.input, "\n"), name, true); ok {
			return definition{where: fmt.Sprintf("In [%d]", e.line), lines: block}, true
		}
	}
	return definition{}, false
}

// definitionOf is where the source of what the board found can be read.
func (k *Kernel) definitionOf(obj boardObject) (definition, bool) {
	if obj.kind != "class" && obj.kind != "function" || obj.name == "" {
		return definition{}, false
	}
	if obj.owner != "" {
		// A method of a class defined in a cell: inside that class's block,
		// not a top-level def that happens to share its name.
		class, ok := k.cellDefinition(obj.owner)
		if !ok {
			return definition{}, false
		}
		block, ok := findDefinition(class.lines[1:], obj.name, false)
		return definition{where: class.where, lines: block}, ok
	}
	if obj.inGlobals {
		return k.cellDefinition(obj.name)
	}
	if len(obj.fileSource) > 0 {
		if block, ok := findDefinition(obj.fileSource, obj.name, false); ok {
			return definition{where: obj.file + " (on the board)", lines: block}, true
		}
	}
	return definition{}, false
}

// inspectLabelWidth aligns the values after the longest label,
// "Init signature: ", as IPython does.
const inspectLabelWidth = 16

// inspectionText renders what is known about an object as IPython's pager does:
// one "Field: value" line each; detail 1 (obj??) adds the source.
func (k *Kernel) inspectionText(obj boardObject, detail int) string {
	var b strings.Builder
	field := func(label, value string) {
		if value == "" {
			return
		}
		label += ":"
		value = strings.ReplaceAll(value, "\n", "\n"+strings.Repeat(" ", inspectLabelWidth))
		fmt.Fprintf(&b, "%-*s%s\n", inspectLabelWidth, label, value)
	}
	def, haveDef := k.definitionOf(obj)
	if obj.kind == "" && obj.cellClass != "" {
		// An instance: the docstring of its class, from the class's cell.
		if classDef, ok := k.cellDefinition(obj.cellClass); ok {
			if doc, ok := classDef.docstring(); ok {
				obj.doc = &doc
			}
		}
	}
	if obj.kind == "class" || obj.kind == "function" {
		label := "Signature"
		if obj.kind == "class" {
			label = "Init signature"
		}
		if haveDef {
			field(label, def.signature(obj.name, obj.typeName == "bound_method"))
		} else {
			field(label, "not known (MicroPython keeps no argument names or counts on the board)")
		}
	}
	if obj.kind != "function" {
		repr := obj.repr
		if obj.reprLen > utf8.RuneCountInString(repr) {
			repr += fmt.Sprintf("… (%d characters in all)", obj.reprLen)
		}
		field("String form", repr)
	}
	if obj.length != nil {
		field("Length", strconv.Itoa(*obj.length))
	}
	switch {
	case haveDef && detail > 0:
		field("Source", strings.Join(dedentLines(def.lines), "\n"))
	case haveDef:
		if doc, ok := def.docstring(); ok {
			field("Docstring", doc)
		} else {
			field("Docstring", "<no docstring>")
		}
	case obj.doc != nil && *obj.doc != "":
		field("Docstring", dedentDoc(*obj.doc))
	case obj.kind == "function" || obj.kind == "class":
		field("Docstring", "<no docstring> (MicroPython usually drops docstrings when it compiles)")
	}
	switch {
	case haveDef:
		field("File", def.where)
	case obj.file != "" && obj.file != "<stdin>":
		field("File", obj.file+" (on the board)")
	}
	field("Type", obj.typeName)
	if len(obj.members) > 0 {
		members := strings.Join(obj.members, ", ")
		if obj.nMembers > len(obj.members) {
			members += fmt.Sprintf(", … (%d in all)", obj.nMembers)
		}
		field("Members", members)
	}
	return b.String()
}

// inspection answers for name: found is false when the board does not know
// it (or is not connected); the text otherwise.
func (k *Kernel) inspection(ctx context.Context, s *webrepl.Session, step time.Duration, name string, detail int) (text string, found bool) {
	obj, ok := k.inspectOnBoard(ctx, s, step, name)
	switch {
	case !ok:
		return "", false
	case obj.property != "":
		return fmt.Sprintf("%s is a property: inspection does not run it (that would call the getter).\n", name), true
	case !obj.found:
		return "", false
	}
	return k.inspectionText(obj, detail), true
}

// inspect answers inspect_request (Shift-Tab): from the connected board only.
func (k *Kernel) inspect(ctx context.Context, r jupyter.Request) {
	var req jupyter.InspectRequest
	if err := r.Decode(&req); err != nil {
		k.reply(r, jupyter.ErrorReply{Ename: "ValueError", Evalue: err.Error()})
		return
	}
	reply := jupyter.InspectReply{Status: jupyter.StatusOK, Data: jupyter.MIMEBundle{}, Metadata: jupyter.Metadata{}}
	k.mu.Lock()
	s := k.session
	k.mu.Unlock()
	if text, ok := magicHelp(magicAtCursor(req.Code, req.CursorPos)); ok {
		reply.Found, reply.Data["text/plain"] = true, text
	} else if name := nameAtCursor(req.Code, req.CursorPos); name != "" && s != nil {
		if text, found := k.inspection(ctx, s, inspectTimeout, name, req.DetailLevel); found {
			reply.Found, reply.Data["text/plain"] = true, text
		}
	}
	k.reply(r, reply)
}

// magicAtCursor is the magic named at the start of the cursor's line
// ("%put a.py" → "%put"), or "".
func magicAtCursor(code string, cursor int) string {
	runes := []rune(code)
	if cursor < 0 || cursor > len(runes) {
		cursor = len(runes)
	}
	before, after := string(runes[:cursor]), string(runes[cursor:])
	line := before[strings.LastIndexByte(before, '\n')+1:]
	if i := strings.IndexByte(after, '\n'); i >= 0 {
		after = after[:i]
	}
	line = strings.TrimLeft(line+after, " \t")
	if !strings.HasPrefix(line, "%") {
		return ""
	}
	name, _, _ := strings.Cut(line, " ")
	return strings.TrimRight(name, "?")
}

// magicHelp is the inspection text of a magic, from the magic table.
func magicHelp(name string) (string, bool) {
	m, ok := lookupMagic(name)
	if !ok {
		return "", false
	}
	kind := "line magic"
	if strings.HasPrefix(m.name, "%%") {
		kind = "cell magic"
	}
	return fmt.Sprintf("%-*s%s\n%-*s%s\n%-*s%s\n", inspectLabelWidth, "Usage:", m.usage,
		inspectLabelWidth, "Docstring:", m.help, inspectLabelWidth, "Type:", kind), true
}

// helpQuery is a help cell: "obj?", "obj??", "?obj" or "??obj"; also
// "%magic?".
type helpQuery struct {
	name   string
	detail int
}

var helpCell = regexp.MustCompile(`^(\?{0,2})((?:%%?)?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)(\?{0,2})$`)

// parseHelpQuery recognises a cell that is only a help query.
func parseHelpQuery(code string) (helpQuery, bool) {
	m := helpCell.FindStringSubmatch(strings.TrimSpace(code))
	if m == nil || (m[1] == "") == (m[3] == "") {
		return helpQuery{}, false
	}
	return helpQuery{name: m[2], detail: len(m[1]+m[3]) - 1}, true
}

// runHelp runs a help cell: the text Shift-Tab would show, as a "page"
// payload of the execute_reply (what ipykernel sends; frontends show it in
// their pager), or "Object `x` not found." as output, as IPython says it.
func (k *Kernel) runHelp(ctx context.Context, r jupyter.Request, req jupyter.ExecuteRequest, count int, q helpQuery) (*cellError, []any) {
	io := cellIO{k: k, r: r, silent: req.Silent, count: count, store: req.StoreHistory}
	if strings.HasPrefix(q.name, "%") {
		text, ok := magicHelp(q.name)
		if !ok {
			return hostError("UsageError", "unknown magic "+q.name+" (%lsmagic lists them)"), nil
		}
		return nil, pagePayload(text, req.Silent)
	}
	cell := k.startCell(ctx)
	defer k.endCell(cell)
	defer k.boardDone()
	s, failure := k.connect(cell, r, req, io)
	if failure != nil {
		return failure, nil
	}
	cell.setSession(s) // an interrupt stops the inspector too
	text, found := k.inspection(cell.ctx, s, 0, q.name, q.detail)
	cell.setSession(nil)
	if interrupted, _ := cell.state(); interrupted {
		return interruptedError(), nil
	}
	if !found {
		io.stdout(fmt.Sprintf("Object `%s` not found.\n", q.name))
		return nil, nil
	}
	return nil, pagePayload(text, req.Silent)
}

// pagePayload is the execute_reply payload that shows text in the pager
// (docs/protocol/jupyter.md §1.9); a silent request shows nothing.
func pagePayload(text string, silent bool) []any {
	if silent {
		return nil
	}
	return []any{map[string]any{"source": "page", "data": map[string]any{"text/plain": text}, "start": 0}}
}
