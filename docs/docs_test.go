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
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range check(cites, docs) {
		t.Error(p)
	}
	if scanned == 0 || len(cites) == 0 {
		t.Fatalf("scanned %d files, found %d citations: the scan is broken", scanned, len(cites))
	}
	t.Logf("checked %d citations in %d files", len(cites), scanned)
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
