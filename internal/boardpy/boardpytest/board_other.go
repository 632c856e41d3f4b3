//go:build !unix

package boardpytest

import "testing"

// BoardPassword is the WebREPL password of boards StartBoard starts.
const BoardPassword = "rmp"

// StartBoard skips: realmp's start.sh runs on Unix only.
func StartBoard(t testing.TB) (url, flash string) {
	t.Helper()
	t.Skip("realmp runs on Unix only")
	return "", ""
}
