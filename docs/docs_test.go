package docs

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// citation is one cited section ("3.2") or appendix ("Appendix A") of a
// document under docs/protocol, with where it was cited.
type citation struct {
	doc, section string
	file         string
	line         int
}

// A reference is the document's path, then a list of sections and
// appendices separated by commas, "and" or en-dash ranges; comment markers
// between them ("//", "#", "*") are skipped so a list may wrap a line.
var (
	refPattern  = regexp.MustCompile(`docs/protocol/([A-Za-z0-9_-]+)\.md((?:[\s/#*]*(?:,|–|-|and|&)?[\s/#*]*(?:§\d+(?:\.\d+)*|Appendix [A-Z]\b|Appendices [A-Z](?:(?:,\s*|\s+and\s+)[A-Z]\b)+))*)`)
	itemPattern = regexp.MustCompile(`(§(\d+(?:\.\d+)*)|Appendix ([A-Z])\b|Appendices ([A-Z](?:(?:,\s*|\s+and\s+)[A-Z]\b)+))`)
	letterPat   = regexp.MustCompile(`[A-Z]`)
	headingPat  = regexp.MustCompile(`^#{1,6}\s+(?:(\d+(?:\.\d+)*)\.?\s|Appendix ([A-Z])\b)`)
)

// citations finds every cited section in text (from file name).
func citations(name, text string) []citation {
	var out []citation
	for _, m := range refPattern.FindAllStringSubmatchIndex(text, -1) {
		doc := text[m[2]:m[3]]
		list := text[m[4]:m[5]]
		items := itemPattern.FindAllStringSubmatchIndex(list, -1)
		if len(items) == 0 {
			// A bare mention of the document is fine, but the document must exist.
			out = append(out, citation{doc: doc, file: name, line: lineOf(text, m[0])})
			continue
		}
		prevEnd := -1
		for i, it := range items {
			sec := ""
			line := lineOf(text, m[4]+it[0])
			switch {
			case it[4] >= 0:
				sec = list[it[4]:it[5]]
			case it[6] >= 0:
				sec = "Appendix " + list[it[6]:it[7]]
			default: // "Appendices A and B"
				for _, l := range letterPat.FindAllString(list[it[8]:it[9]], -1) {
					out = append(out, citation{doc: doc, section: "Appendix " + l, file: name, line: line})
				}
				prevEnd = -1
				continue
			}
			out = append(out, citation{doc: doc, section: sec, file: name, line: line})
			// "§1–§3": the sections between the ends must exist too.
			if i > 0 && prevEnd >= 0 && strings.Contains(list[prevEnd:it[0]], "–") {
				prev := out[len(out)-2].section
				lo, err1 := strconv.Atoi(prev)
				hi, err2 := strconv.Atoi(sec)
				if err1 == nil && err2 == nil {
					for n := lo + 1; n < hi; n++ {
						out = append(out, citation{doc: doc, section: strconv.Itoa(n), file: name, line: line})
					}
				}
			}
			prevEnd = it[1]
		}
	}
	return out
}

// barePattern is a section cited without its document ("§4.4", "§1–§3").
var barePattern = regexp.MustCompile(`§(\d+(?:\.\d+)*)`)

// bareCitations finds the sections cited in text without a document name
// (outside every refPattern match) and resolves them against home, the
// protocol document the package's doc names first. A file whose package names
// none may not cite bare sections: they are reported against doc "".
func bareCitations(name, text, home string) []citation {
	covered := refPattern.FindAllStringIndex(text, -1)
	var out []citation
	for _, m := range barePattern.FindAllStringSubmatchIndex(text, -1) {
		inRef := false
		for _, c := range covered {
			if m[0] >= c[0] && m[1] <= c[1] {
				inRef = true
				break
			}
		}
		if !inRef {
			out = append(out, citation{doc: home, section: text[m[2]:m[3]], file: name, line: lineOf(text, m[0])})
		}
	}
	return out
}

// packageDocPattern is a Go package doc comment: the comment lines right
// before the package clause.
var packageDocPattern = regexp.MustCompile(`(?m)((?:^//.*\n)+)package \w+`)

// homeDocs maps each Go package folder to the first protocol document its
// package doc names, the document its bare § numbers refer to.
func homeDocs(files map[string]string) map[string]string {
	home := map[string]string{}
	for path, text := range files {
		if filepath.Ext(path) != ".go" || strings.HasSuffix(path, "_test.go") {
			continue
		}
		m := packageDocPattern.FindStringSubmatch(text)
		if m == nil || !strings.Contains(m[1], "// Package ") {
			continue
		}
		if ref := refPattern.FindStringSubmatch(m[1]); ref != nil {
			home[filepath.Dir(path)] = ref[1]
		}
	}
	return home
}

func lineOf(text string, offset int) int { return strings.Count(text[:offset], "\n") + 1 }

// headings returns the numbered sections and appendices doc has headings for.
func headings(text string) map[string]bool {
	have := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		m := headingPat.FindStringSubmatch(line)
		switch {
		case m == nil:
		case m[1] != "":
			have[m[1]] = true
		default:
			have["Appendix "+m[2]] = true
		}
	}
	return have
}

// check reports every citation whose document or section is missing.
func check(cites []citation, docs map[string]map[string]bool) []string {
	var problems []string
	for _, c := range cites {
		have, ok := docs[c.doc]
		switch {
		case c.doc == "":
			problems = append(problems, fmt.Sprintf("%s:%d: cites §%s, but its package doc names no docs/protocol document", c.file, c.line, c.section))
		case !ok:
			problems = append(problems, fmt.Sprintf("%s:%d: cites docs/protocol/%s.md, which does not exist", c.file, c.line, c.doc))
		case c.section != "" && !have[c.section]:
			what := "§" + c.section
			if strings.HasPrefix(c.section, "Appendix") {
				what = c.section
			}
			problems = append(problems, fmt.Sprintf("%s:%d: cites docs/protocol/%s.md %s, which has no such heading", c.file, c.line, c.doc, what))
		}
	}
	return problems
}

func TestCitationsResolve(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]map[string]bool{}
	entries, err := os.ReadDir(filepath.Join(root, "docs", "protocol"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".md"); ok {
			text, err := os.ReadFile(filepath.Join(root, "docs", "protocol", e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			docs[name] = headings(string(text))
		}
	}
	var cites []citation
	files := map[string]string{} // Go files by path relative to root
	scanned := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".mjs", ".sh", ".py", ".md":
		default:
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		text, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scanned++
		rel, _ := filepath.Rel(root, path)
		cites = append(cites, citations(rel, string(text))...)
		if filepath.Ext(path) == ".go" {
			files[rel] = string(text)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Bare § numbers in Go files refer to the document their package doc names.
	home := homeDocs(files)
	bare := 0
	for rel, text := range files {
		if filepath.Dir(rel) == "docs" {
			continue // this package's tests spell citations out on purpose
		}
		b := bareCitations(rel, text, home[filepath.Dir(rel)])
		bare += len(b)
		cites = append(cites, b...)
	}
	if bare == 0 {
		t.Fatal("found no bare § citations in Go files: the scan is broken")
	}
	for _, p := range check(cites, docs) {
		t.Error(p)
	}
	if scanned == 0 || len(cites) == 0 {
		t.Fatalf("scanned %d files, found %d citations: the scan is broken", scanned, len(cites))
	}
	t.Logf("checked %d citations (%d bare) in %d files", len(cites), bare, scanned)
}

// Bare § numbers resolve against the package doc's document; spelled-out
// ones are not counted twice; a package naming no document may not cite bare.
func TestBareCitations(t *testing.T) {
	w := "docs/protocol/" + "webrepl.md"
	files := map[string]string{
		"a/doc.go":      "// Package a speaks the protocol of " + w + ".\npackage a\n",
		"a/x.go":        "package a\n// see §4.4 and " + w + " §3, then \u00a79\n",
		"b/doc.go":      "// Package b names nothing.\npackage b\n",
		"b/y.go":        "package b\n// §2\n",
		"a/doc_test.go": "// Package a has a test doc naming " + "docs/protocol/" + "other.md.\npackage a\n",
	}
	home := homeDocs(files)
	if len(home) != 1 || home["a"] != "webrepl" {
		t.Fatalf("homeDocs = %v, want only a → webrepl", home)
	}
	var cites []citation
	for _, f := range []string{"a/x.go", "b/y.go"} {
		cites = append(cites, bareCitations(f, files[f], home[filepath.Dir(f)])...)
	}
	have := map[string]map[string]bool{"webrepl": headings("## 4.4 Four\n## 3. Three\n")}
	got := strings.Join(check(cites, have), "\n")
	want := strings.Join([]string{
		"a/x.go:2: cites " + w + " §9, which has no such heading",
		"b/y.go:2: cites §2, but its package doc names no docs/protocol document",
	}, "\n")
	if len(cites) != 3 || got != want {
		t.Errorf("%d citations, problems\n%s\nwant 3 and\n%s", len(cites), got, want)
	}
}

// The parser on made-up text. The document names are split so that this
// file's own source holds no citation.
func TestCitationParsing(t *testing.T) {
	w := "docs/protocol/" + "webrepl.md"
	text := "a\n// see " + w + " §1–§3, §4.4 and\n// §7.2, Appendix B\n" + w + "; bare\n" +
		"docs/protocol/" + "nosuch.md §1\n" + w + " Appendices B and C\n"
	var got []string
	for _, c := range citations("f.go", text) {
		got = append(got, fmt.Sprintf("%s:%d:%s %s", c.file, c.line, c.doc, c.section))
	}
	want := []string{
		"f.go:2:webrepl 1", "f.go:2:webrepl 3", "f.go:2:webrepl 2", "f.go:2:webrepl 4.4",
		"f.go:3:webrepl 7.2", "f.go:3:webrepl Appendix B", "f.go:4:webrepl ", "f.go:5:nosuch 1",
		"f.go:6:webrepl Appendix B", "f.go:6:webrepl Appendix C",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("parsed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	have := headings("# T\n## 1. One\n### 1.2 Two\n## Appendix B — x\nnot # 3. heading\n")
	problems := check(citations("f.go", text), map[string]map[string]bool{"webrepl": have})
	wantProblems := []string{ // §1 and Appendix B have headings; the rest not
		"f.go:2: cites W §3, which has no such heading",
		"f.go:2: cites W §2, which has no such heading",
		"f.go:2: cites W §4.4, which has no such heading",
		"f.go:3: cites W §7.2, which has no such heading",
		"f.go:5: cites docs/protocol/" + "nosuch.md, which does not exist",
		"f.go:6: cites W Appendix C, which has no such heading",
	}
	for i := range wantProblems {
		wantProblems[i] = strings.Replace(wantProblems[i], "W", w, 1)
	}
	if strings.Join(problems, "\n") != strings.Join(wantProblems, "\n") {
		t.Errorf("problems\n%s\nwant\n%s", strings.Join(problems, "\n"), strings.Join(wantProblems, "\n"))
	}
}
