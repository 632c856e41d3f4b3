package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// The board process's sources travel inside the binary, so that a built
// webrepl-kernel runs a simulated board from any directory.
//
//go:embed board/*.mjs board/py board/package.json board/package-lock.json
var boardSources embed.FS

// modulesEnv names a ready node_modules folder to use instead of `npm ci`.
const modulesEnv = "WEBREPL_SIM_MODULES"

// boardRuntime is a directory holding the board sources and node_modules,
// and the node executable to run them with.
type boardRuntime struct {
	dir     string
	node    string
	modules string // absolute Options.Modules, or ""
}

// prepareRuntime writes the embedded board sources to a cache directory
// named after their content (once per version; a file lock keeps parallel
// test processes from racing) and makes node_modules available beside them.
func prepareRuntime(ctx context.Context, modules string, log io.Writer) (boardRuntime, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return boardRuntime{}, errors.New("node not found on PATH: the simulated board needs Node.js 20 or newer")
	}
	files, err := embeddedBoardFiles()
	if err != nil {
		return boardRuntime{}, err
	}
	if modules != "" {
		if modules, err = filepath.Abs(modules); err != nil {
			return boardRuntime{}, fmt.Errorf("%s: %w", modulesEnv, err)
		}
		if st, err := os.Stat(modules); err != nil || !st.IsDir() {
			return boardRuntime{}, fmt.Errorf("%s=%s is not a node_modules folder (run `npm ci` in sim/board)", modulesEnv, modules)
		}
	}
	hash := sha256.New()
	for _, name := range sortedKeys(files) {
		fmt.Fprintf(hash, "%s\x00%d\x00", name, len(files[name]))
		hash.Write(files[name])
	}
	fmt.Fprintf(hash, "modules\x00%s", modules)
	version := hex.EncodeToString(hash.Sum(nil))[:16]

	root, err := os.UserCacheDir()
	if err != nil {
		root = os.TempDir()
	}
	root = filepath.Join(root, "webrepl-kernel")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return boardRuntime{}, fmt.Errorf("creating the simulator cache: %w", err)
	}
	dir := filepath.Join(root, "sim-"+version)
	unlock, err := lockFile(ctx, dir+".lock")
	if err != nil {
		return boardRuntime{}, err
	}
	defer unlock()
	rt := boardRuntime{dir: dir, node: node, modules: modules}
	ready := filepath.Join(dir, ".ready")
	if _, err := os.Stat(ready); err == nil {
		return rt, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return boardRuntime{}, fmt.Errorf("clearing %s: %w", dir, err)
	}
	for name, data := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return boardRuntime{}, fmt.Errorf("writing the board sources: %w", err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return boardRuntime{}, fmt.Errorf("writing the board sources: %w", err)
		}
	}
	if modules != "" {
		if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
			return boardRuntime{}, fmt.Errorf("linking %s: %w", modulesEnv, err)
		}
	} else if err := npmInstall(ctx, dir, log); err != nil {
		return boardRuntime{}, err
	}
	if err := os.WriteFile(ready, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return boardRuntime{}, fmt.Errorf("marking the simulator cache ready: %w", err)
	}
	return rt, nil
}

// embeddedBoardFiles returns the board sources keyed by their path below board/.
func embeddedBoardFiles() (map[string][]byte, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(boardSources, "board", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := boardSources.ReadFile(path)
		if err != nil {
			return err
		}
		files[strings.TrimPrefix(path, "board/")] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the embedded board sources: %w", err)
	}
	return files, nil
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// npmInstall installs the pinned MicroPython package with `npm ci`.
func npmInstall(ctx context.Context, dir string, log io.Writer) error {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("npm not found on PATH: it is needed once to install the board's MicroPython package (or set %s to a node_modules folder)", modulesEnv)
	}
	if log != nil {
		fmt.Fprintf(log, "sim: installing the board's npm package in %s\n", dir)
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci in %s failed: %w: %s", dir, err, lastLine(out.String()))
	}
	return nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// lockFile takes an exclusive lock on path (flock, or LockFileEx on
// Windows: lock_*.go), polling so that ctx can end the wait.
func lockFile(ctx context.Context, path string) (release func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the simulator cache lock: %w", err)
	}
	for {
		busy, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking the simulator cache: %w", err)
		}
		if !busy {
			return func() {
				unlockFile(f)
				f.Close()
			}, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the simulator cache lock: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
