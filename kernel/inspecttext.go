// The text of an inspection, laid out as IPython's pager lays it out.

package kernel

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

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
