package webrepl_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"unicode/utf8"
)

// genProgram builds a MicroPython program of exactly size bytes from rng and
// computes, in Go, what it prints (LF line ends). The mix covers long lines,
// deep indentation, non-ASCII text and output much larger than the program.
func genProgram(rng *rand.Rand, size int) (code, output string) {
	var prog, out strings.Builder
	indent := []string{" ", "  ", "    ", "\t"}[rng.IntN(4)]
	for {
		left := size - prog.Len()
		if left < 12 {
			break
		}
		src, text := genStatement(rng, left, indent)
		if src == "" || len(src) > left {
			break
		}
		prog.WriteString(src)
		out.WriteString(text)
	}
	// Pad to the exact size with a comment (or, for a 1-byte program, "#").
	if left := size - prog.Len(); left > 0 {
		prog.WriteString("#" + strings.Repeat("p", left-1))
	}
	return prog.String(), out.String()
}

const nonASCII = "éüßñ€中文日本語😀Ωλ→✓ÅØ"

// randomNonASCII picks one rune of nonASCII.
func randomNonASCII(rng *rand.Rand) rune {
	runes := []rune(nonASCII)
	return runes[rng.IntN(len(runes))]
}

// genLiteral returns a Python string literal of at most maxBytes bytes of
// source and the text it stands for.
func genLiteral(rng *rand.Rand, maxBytes int) (src, value string) {
	var s, v strings.Builder
	s.WriteByte('\'')
	runes := rng.IntN(40) + 1
	for i := 0; i < runes; i++ {
		var piece, text string
		switch k := rng.IntN(20); {
		case k < 3:
			r := randomNonASCII(rng)
			piece, text = string(r), string(r)
		case k == 3:
			piece, text = `\'`, `'`
		case k == 4:
			piece, text = `\\`, `\`
		case k == 5:
			piece, text = `\t`, "\t"
		default:
			c := byte(' ' + rng.IntN(95))
			if c == '\'' || c == '\\' {
				c = 'q'
			}
			piece, text = string(c), string(c)
		}
		if s.Len()+len(piece)+1 > maxBytes {
			break
		}
		s.WriteString(piece)
		v.WriteString(text)
	}
	s.WriteByte('\'')
	return s.String(), v.String()
}

func genStatement(rng *rand.Rand, left int, indent string) (src, output string) {
	switch k := rng.IntN(10); {
	case k < 3: // a plain print
		lit, v := genLiteral(rng, min(left-9, 200))
		return "print(" + lit + ")\n", v + "\n"
	case k == 3: // output far larger than the code
		lit, v := genLiteral(rng, min(left-16, 60))
		n := rng.IntN(60) + 1
		return fmt.Sprintf("print(%s * %d)\n", lit, n), strings.Repeat(v, n) + "\n"
	case k == 4: // a loop
		lit, v := genLiteral(rng, min(left-40, 80))
		n := rng.IntN(30) + 1
		var o strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&o, "%s %d\n", v, i)
		}
		return fmt.Sprintf("for i in range(%d):\n%sprint(%s, i)\n", n, indent, lit), o.String()
	case k == 5: // deep indentation
		depth := rng.IntN(20) + 1
		var b strings.Builder
		for d := 0; d < depth; d++ {
			b.WriteString(strings.Repeat(indent, d) + "if True:\n")
		}
		head := b.Len() + depth*len(indent) + 9
		if head+3 > left {
			return "", ""
		}
		lit, v := genLiteral(rng, min(left-head, 100))
		b.WriteString(strings.Repeat(indent, depth) + "print(" + lit + ")\n")
		return b.String(), v + "\n"
	case k == 6: // a long line
		n := int(math.Min(float64(left-40), float64(rng.IntN(3000)+200)))
		if n < 10 {
			return "", ""
		}
		var b strings.Builder
		for b.Len() < n {
			if rng.IntN(8) == 0 {
				b.WriteRune(randomNonASCII(rng))
			} else {
				b.WriteByte(byte('a' + rng.IntN(26)))
			}
		}
		s := b.String()
		return fmt.Sprintf("s = '%s'\nprint(len(s), s[-3:])\n", s),
			fmt.Sprintf("%d %s\n", utf8.RuneCountInString(s), string([]rune(s)[utf8.RuneCountInString(s)-3:]))
	case k == 7: // a non-ASCII comment and a blank line
		lit, _ := genLiteral(rng, min(left-4, 120))
		return "# " + lit + "\n\n", ""
	default: // arithmetic
		a, b := rng.IntN(100000), rng.IntN(1000)+1
		return fmt.Sprintf("print(%d // %d, %d %% %d)\n", a, b, a, b), fmt.Sprintf("%d %d\n", a/b, a%b)
	}
}

// genSize draws a program size from 1 byte to 8 KiB, log-uniformly, so
// that small and large programs are both common.
func genSize(rng *rand.Rand) int {
	return int(math.Exp(rng.Float64() * math.Log(8192)))
}
