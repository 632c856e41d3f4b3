// Package mip installs MicroPython packages on a board from the host: it
// reads micropython-lib's package index (its v2 layout), a github:/gitlab:
// source, a URL or a local package.json, fetches each package's files and
// its dependencies over the host's network, and writes them to the board
// all or nothing (boardsync.Install), skipping files whose SHA-256 on the
// board already matches. The layout it follows is the one MicroPython's own
// mip (micropython-lib micropython/mip) and mpremote's mip.py read:
//
//	{index}/package/{mpy version or "py"}/{name}/{version}.json
//	    {"version": ..., "hashes": [[path, short sha256], ...],
//	     "urls": [[path, url], ...], "deps": [[name, version], ...]}
//	{index}/file/{hash[:2]}/{hash}
//
// It knows no Jupyter: %mip and `webrepl-kernel mip` call it.
package mip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"webrepl-kernel/boardsync"
	"webrepl-kernel/webrepl"
)

// DefaultIndex is micropython-lib's index, as mip and mpremote use it.
const DefaultIndex = "https://micropython.org/pi/v2"

// maxDownload bounds one file or package description read from the
// network: more than any board's flash.
const maxDownload = 16 << 20

// ErrNotFound: the index has no such package or version (HTTP 404).
var ErrNotFound = errors.New("not found")

// Options change Install.
type Options struct {
	Index  string // "" is DefaultIndex
	Target string // board folder; "" is the board's lib folder (webrepl.LibInfo)
	NoMPY  bool   // take .py files even where the index has .mpy ones
	// Client fetches; nil is http.DefaultClient.
	Client *http.Client
	// Line, if set, sees one line per package as it is resolved.
	Line func(string)
}

// Package is one package resolved for an install.
type Package struct {
	Name    string
	Version string
	Files   []boardsync.File
	Written int // files written (the others were there with the same hash)
}

// Result is what an install did.
type Result struct {
	Target   string
	MPY      string // the bytecode version asked for, or "py"
	Packages []*Package
	Written  int
	Skipped  int
	Bytes    int
}

// Summary is the install's last line.
func (r Result) Summary() string {
	return fmt.Sprintf("installed %d package(s) in %s: %d file(s) written (%d bytes), %d already there with the same hash",
		len(r.Packages), r.Target, r.Written, r.Bytes, r.Skipped)
}

var hosts = map[string]string{
	// github:org/repo/path → raw.githubusercontent.com/org/repo/BRANCH/path
	"github:": "https://raw.githubusercontent.com/%s/%s/%s/%s",
	// gitlab:org/repo/path → gitlab.com/org/repo/-/raw/BRANCH/path
	"gitlab:": "https://gitlab.com/%s/%s/-/raw/%s/%s",
}

// rewriteURL turns a github:/gitlab: source into its raw-file URL at
// branch (HEAD when none); other URLs are kept.
func rewriteURL(u, branch string) string {
	for prefix, format := range hosts {
		rest, ok := strings.CutPrefix(u, prefix)
		if !ok {
			continue
		}
		parts := strings.SplitN(rest, "/", 3)
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		if branch == "" {
			branch = "HEAD"
		}
		return fmt.Sprintf(format, parts[0], parts[1], branch, parts[2])
	}
	return u
}

func isURL(s string) bool {
	for _, p := range []string{"http://", "https://", "github:", "gitlab:"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// SplitSpec splits PKG[@VERSION].
func SplitSpec(spec string) (name, version string) {
	if i := strings.LastIndexByte(spec, '@'); i > 0 {
		return spec[:i], spec[i+1:]
	}
	return spec, ""
}

// installer is one Install in progress.
type installer struct {
	opts  Options
	index string
	mpy   string
	seen  map[string]bool
	pkgs  []*Package
}

// Install resolves specs (PKG[@VERSION], a github:/gitlab: source, a URL,
// or a local package.json or folder holding one) with their dependencies,
// and writes their files below the target folder on the board. Nothing is
// written unless every file was fetched and checked; a failed write leaves
// the board as it was (boardsync.Install). progress sees the bytes written.
func Install(ctx context.Context, s *webrepl.Session, specs []string, opts Options, progress boardsync.Progress) (Result, error) {
	in := &installer{opts: opts, index: strings.TrimRight(opts.Index, "/"), seen: map[string]bool{}}
	if in.index == "" {
		in.index = DefaultIndex
	}
	if in.opts.Client == nil {
		in.opts.Client = http.DefaultClient
	}
	info, err := s.LibInfo(ctx)
	if err != nil {
		return Result{}, err
	}
	in.mpy = "py"
	if !opts.NoMPY && info.MPY > 0 {
		in.mpy = strconv.Itoa(info.MPY)
	}
	target := opts.Target
	if target == "" {
		target = info.LibDir
	}
	target = strings.TrimRight(target, "/")
	if target == "" {
		target = "/"
	}
	res := Result{Target: target, MPY: in.mpy}
	for _, spec := range specs {
		name, version := SplitSpec(spec)
		if err := in.resolve(ctx, name, version); err != nil {
			return res, err
		}
	}
	res.Packages = in.pkgs
	// Skip files already there with the same hash.
	var all []boardsync.File
	for _, p := range in.pkgs {
		for i := range p.Files {
			p.Files[i].Path = joinTarget(target, p.Files[i].Path)
		}
		all = append(all, p.Files...)
	}
	paths := make([]string, len(all))
	for i, f := range all {
		paths[i] = f.Path
	}
	sums := map[string]string{}
	for len(paths) > 0 {
		batch := paths[:min(32, len(paths))]
		paths = paths[len(batch):]
		got, err := s.Hashes(ctx, batch...)
		if err != nil {
			return res, err
		}
		for i, p := range batch {
			sums[p] = got[i]
		}
	}
	var writes []boardsync.File
	for _, p := range in.pkgs {
		for _, f := range p.Files {
			if sums[f.Path] == boardsync.Sum(f.Data) {
				res.Skipped++
				continue
			}
			p.Written++
			res.Written++
			res.Bytes += len(f.Data)
			writes = append(writes, f)
		}
	}
	if err := boardsync.Install(ctx, s, writes, progress); err != nil {
		return res, err
	}
	return res, nil
}

func joinTarget(target, rel string) string {
	if target == "/" {
		return "/" + rel
	}
	return target + "/" + rel
}

// description is a package's JSON.
type description struct {
	Version string     `json:"version"`
	Hashes  [][]string `json:"hashes"`
	URLs    [][]string `json:"urls"`
	Deps    [][]string `json:"deps"`
}

// resolve fetches one package (and, in turn, its dependencies).
func (in *installer) resolve(ctx context.Context, name, version string) error {
	key := name
	if in.seen[key] {
		return nil
	}
	in.seen[key] = true
	pkg := &Package{Name: name, Version: version}
	var descURL, localDir string
	switch {
	case isURL(name) && (strings.HasSuffix(name, ".py") || strings.HasSuffix(name, ".mpy")):
		data, err := in.get(ctx, rewriteURL(name, version))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		pkg.Files = []boardsync.File{{Path: path.Base(name), Data: data}}
		in.add(pkg)
		return nil
	case isURL(name):
		descURL = name
		if !strings.HasSuffix(descURL, ".json") {
			descURL = strings.TrimRight(descURL, "/") + "/package.json"
		}
		descURL = rewriteURL(descURL, version)
	case isLocal(name):
		file := name
		if st, err := os.Stat(name); err == nil && st.IsDir() {
			file = filepath.Join(name, "package.json")
		}
		localDir = filepath.Dir(file)
		descURL = file
	default:
		if version == "" {
			version = "latest"
		}
		pkg.Version = version
		descURL = fmt.Sprintf("%s/package/%s/%s/%s.json", in.index, in.mpy, name, version)
	}
	var raw []byte
	var err error
	if localDir != "" {
		raw, err = os.ReadFile(descURL)
	} else {
		raw, err = in.get(ctx, descURL)
	}
	if errors.Is(err, ErrNotFound) && !isURL(name) && localDir == "" {
		return fmt.Errorf("no package %s version %s in the index %s (for .mpy version %s)", name, version, in.index, in.mpy)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var desc description
	if err := json.Unmarshal(raw, &desc); err != nil {
		return fmt.Errorf("%s: the package description %s is not valid JSON: %v", name, descURL, err)
	}
	if desc.Version != "" {
		pkg.Version = desc.Version
	}
	for _, h := range desc.Hashes {
		if len(h) != 2 || len(h[1]) < 2 || !safeRel(h[0]) {
			return fmt.Errorf("%s: bad entry %q in \"hashes\"", name, h)
		}
		data, err := in.get(ctx, fmt.Sprintf("%s/file/%s/%s", in.index, h[1][:2], h[1]))
		if err != nil {
			return fmt.Errorf("%s: file %s: %w", name, h[0], err)
		}
		if sum := boardsync.Sum(data); !strings.HasPrefix(sum, strings.ToLower(h[1])) {
			return fmt.Errorf("%s: file %s from the index has SHA-256 %.12s…, the package says %s", name, h[0], sum, h[1])
		}
		pkg.Files = append(pkg.Files, boardsync.File{Path: h[0], Data: data})
	}
	for _, u := range desc.URLs {
		if len(u) != 2 || !safeRel(u[0]) {
			return fmt.Errorf("%s: bad entry %q in \"urls\"", name, u)
		}
		var data []byte
		switch {
		case isURL(u[1]):
			data, err = in.get(ctx, rewriteURL(u[1], version))
		case localDir != "":
			data, err = os.ReadFile(filepath.Join(localDir, filepath.FromSlash(u[1])))
		default:
			data, err = in.get(ctx, descURL[:strings.LastIndexByte(descURL, '/')+1]+u[1])
		}
		if err != nil {
			return fmt.Errorf("%s: file %s: %w", name, u[0], err)
		}
		pkg.Files = append(pkg.Files, boardsync.File{Path: u[0], Data: data})
	}
	in.add(pkg)
	for _, d := range desc.Deps {
		if len(d) == 0 || len(d) > 2 {
			return fmt.Errorf("%s: bad entry %q in \"deps\"", name, d)
		}
		depVersion := ""
		if len(d) == 2 {
			depVersion = d[1]
		}
		if err := in.resolve(ctx, d[0], depVersion); err != nil {
			return err
		}
	}
	return nil
}

func (in *installer) add(p *Package) {
	in.pkgs = append(in.pkgs, p)
	if in.opts.Line != nil {
		v := p.Version
		if v == "" {
			v = "-"
		}
		in.opts.Line(fmt.Sprintf("%s %s: %d file(s)", p.Name, v, len(p.Files)))
	}
}

// isLocal: a spec naming a local package.json or a folder with one.
func isLocal(name string) bool {
	if !strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "/") && !strings.HasSuffix(name, ".json") {
		return false
	}
	_, err := os.Stat(name)
	return err == nil
}

// safeRel: a path a package may write below the target (no .., not
// absolute).
func safeRel(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." || part == "" {
			return false
		}
	}
	return true
}

// get fetches url, bounded; a 404 matches ErrNotFound.
func (in *installer) get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := in.opts.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%s: %w (HTTP 404)", url, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("fetching %s: HTTP %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDownload+1))
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	if len(data) > maxDownload {
		return nil, fmt.Errorf("fetching %s: more than %d MB", url, maxDownload>>20)
	}
	return data, nil
}
