package webrepl

import (
	"errors"
	"io/fs"
	"testing"
)

// The board reports file-system failures as OSError with an errno, written
// "[Errno N] NAME" (with the errno module) or "N" (without); each known one
// matches its sentinel.
func TestFSErrorMapsErrno(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		message string
		want    error
	}{
		{"[Errno 2] ENOENT", fs.ErrNotExist},
		{"2", fs.ErrNotExist},
		{"[Errno 17] EEXIST", fs.ErrExist},
		{"[Errno 13] EACCES", fs.ErrPermission},
		{"[Errno 20] ENOTDIR", ErrNotDir},
		{"21", ErrIsDir},
		{"[Errno 28] ENOSPC", ErrNoSpace},
		{"[Errno 39] ENOTEMPTY", ErrNotEmpty},
	} {
		err := fsError("put", "/x", &Exception{Type: "OSError", Message: c.message})
		if !errors.Is(err, c.want) {
			t.Errorf("OSError %q: %v does not match %v", c.message, err, c.want)
		}
	}
	err := fsError("put", "/x", &Exception{Type: "OSError", Message: "[Errno 5] EIO"})
	for _, e := range []error{fs.ErrNotExist, ErrNoSpace, ErrIsDir} {
		if errors.Is(err, e) {
			t.Errorf("EIO matches %v", e)
		}
	}
}
