package sim

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The simulator cache's lock (flock, LockFileEx on Windows) keeps a second
// holder out until the first lets go, and a waiter's context ends its wait.
// tests/wine/run.sh runs it on Windows too. It removes its folder with
// os.Remove, not t.TempDir's RemoveAll, which fails under Wine 8.
func TestCacheLockExcludes(t *testing.T) {
	dir, err := os.MkdirTemp("", "sim-lock-")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "cache.lock")
	t.Cleanup(func() { os.Remove(path); os.Remove(dir) })

	release, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatalf("first lock: %v", err)
	}
	other, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if busy, err := tryLock(other); err != nil || !busy {
		t.Fatalf("a second holder got the held lock (busy %v, err %v)", busy, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := lockFile(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for a held lock past the context: %v, want the deadline", err)
	}
	release()
	if busy, err := tryLock(other); err != nil || busy {
		t.Fatalf("the released lock stays taken (busy %v, err %v)", busy, err)
	}
	unlockFile(other)
}
