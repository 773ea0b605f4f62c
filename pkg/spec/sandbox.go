package spec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	jsonnet "github.com/google/go-jsonnet"
)

// Limits bound the work one pattern may cause: cocogen runs inside Argo
// CD's repo-server on whatever a repository holds. Zero fields take the
// defaults below. Each exceeded limit is an input error naming it and the
// flag that raises it.
type Limits struct {
	// MaxInputBytes bounds every file read: the pattern, Jsonnet imports,
	// application manifests.
	MaxInputBytes int64
	// JsonnetTimeout bounds a Jsonnet pattern's evaluation (wall clock).
	JsonnetTimeout time.Duration
	// JsonnetMemoryBytes bounds how much the process may grow (resident
	// memory) while a Jsonnet pattern evaluates.
	JsonnetMemoryBytes int64
	// JsonnetMaxStack bounds Jsonnet's call depth.
	JsonnetMaxStack int
	// MaxOutputBytes bounds the rendered output (all files together).
	MaxOutputBytes int64
}

// Limit defaults, chosen so that a hostile pattern fails within about a
// second and 200 MiB, while real patterns (kilobytes, milliseconds) are far
// below them.
const (
	DefaultMaxInputBytes      = 8 << 20
	DefaultJsonnetTimeout     = time.Second
	DefaultJsonnetMemoryBytes = 48 << 20
	DefaultJsonnetMaxStack    = 500
	DefaultMaxOutputBytes     = 64 << 20
)

// WithDefaults returns l with zero fields set to the defaults.
func (l Limits) WithDefaults() Limits {
	if l.MaxInputBytes <= 0 {
		l.MaxInputBytes = DefaultMaxInputBytes
	}
	if l.JsonnetTimeout <= 0 {
		l.JsonnetTimeout = DefaultJsonnetTimeout
	}
	if l.JsonnetMemoryBytes <= 0 {
		l.JsonnetMemoryBytes = DefaultJsonnetMemoryBytes
	}
	if l.JsonnetMaxStack <= 0 {
		l.JsonnetMaxStack = DefaultJsonnetMaxStack
	}
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = DefaultMaxOutputBytes
	}
	return l
}

// LimitError is an exceeded limit: an input error that says which limit
// and how to raise it.
func LimitError(file, limit, flag string, value any) *FieldError {
	return &FieldError{File: file, Msg: fmt.Sprintf("limit %s (%v) exceeded: raise it with --%s if this input is meant to be that large", limit, value, flag)}
}

// Repository is the directory a pattern's relative paths (Jsonnet imports,
// application sources) resolve in. Nothing outside it is read: paths are
// resolved with symlinks evaluated, and a path that leaves the directory,
// by "..", an absolute path or a symlink, is refused.
type Repository struct {
	// Dir is the directory as given; used in messages.
	Dir  string
	root *os.Root
}

// OpenRepository opens dir as a Repository.
func OpenRepository(dir string) (*Repository, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening repository %s: %w", dir, err)
	}
	return &Repository{Dir: dir, root: r}, nil
}

// Close releases the repository's directory handle.
func (r *Repository) Close() error { return r.root.Close() }

// FS is the repository as a file system confined to it.
func (r *Repository) FS() fs.FS { return r.root.FS() }

// Rel returns the repository path of a file named as the user named it
// (relative to the working directory, or absolute), symlinks evaluated; an
// error when it is not inside the repository.
func (r *Repository) Rel(file string) (string, error) {
	real, err := filepath.EvalSymlinks(file)
	if err != nil {
		return "", err
	}
	real, err = filepath.Abs(real)
	if err != nil {
		return "", err
	}
	root, err := filepath.EvalSymlinks(r.Dir)
	if err != nil {
		return "", err
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%s is outside the repository %s (symlinks evaluated): cocogen reads nothing outside it", file, r.Dir)
	}
	return filepath.ToSlash(rel), nil
}

// ReadFile reads a regular file at a repository path, at most limit bytes.
// Special files (devices, FIFOs) and paths leaving the repository are
// refused; the error never quotes the file's content.
func (r *Repository) ReadFile(name string, limit int64) ([]byte, error) {
	return readLimited(r.FS(), name, limit)
}

// readLimited reads a regular file of fsys, at most limit bytes.
func readLimited(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	if info.Size() > limit {
		return nil, errTooLarge
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}

var errTooLarge = errors.New("file too large")

// ReadRepoFile reads a regular file of a repository file system, at most
// limit bytes; a larger file is the max-input-size limit error.
func ReadRepoFile(fsys fs.FS, name string, limit int64) ([]byte, error) {
	data, err := readLimited(fsys, name, limit)
	if errors.Is(err, errTooLarge) {
		return nil, LimitError(name, "max-input-size", "max-input-size", byteSize(limit))
	}
	return data, err
}

// ByteSize formats a byte count for limit messages.
func ByteSize(n int64) string { return byteSize(n) }

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// importer resolves Jsonnet imports inside the repository only: relative to
// the importing file, then in each -J directory (repository paths too). An
// absolute import, one that climbs out with "..", or one reaching a symlink
// that points outside is refused, and the message names the import, never
// the content of what it would have read.
type importer struct {
	repo   *Repository
	jpaths []string // repository paths
	limit  int64
	cache  map[string]importResult
}

type importResult struct {
	contents jsonnetContents
	err      error
}

// importFrom resolves importedPath as imported from the repository file
// importedFrom.
func (im *importer) importFrom(importedFrom, importedPath string) (jsonnetContents, string, error) {
	if importedPath == "" || path.IsAbs(importedPath) || filepath.IsAbs(importedPath) || strings.HasPrefix(importedPath, `\`) {
		return jsonnetContents{}, "", fmt.Errorf("import %q: imports resolve inside the repository only, relative to the importing file or a -J directory", importedPath)
	}
	dirs := append([]string{path.Dir(importedFrom)}, im.jpaths...)
	var firstErr error
	for _, dir := range dirs {
		p := path.Join(dir, importedPath)
		if !fs.ValidPath(p) {
			if firstErr == nil {
				firstErr = fmt.Errorf("import %q: leaves the repository", importedPath)
			}
			continue
		}
		if r, ok := im.cache[p]; ok {
			return r.contents, p, r.err
		}
		data, err := im.repo.ReadFile(p, im.limit)
		switch {
		case err == nil:
			c := makeContents(data)
			im.cache[p] = importResult{contents: c}
			return c, p, nil
		case errors.Is(err, errTooLarge):
			e := LimitError(p, "max-input-size", "max-input-size", byteSize(im.limit))
			im.cache[p] = importResult{err: e}
			return jsonnetContents{}, p, e
		case errors.Is(err, fs.ErrNotExist):
			continue
		default:
			if firstErr == nil {
				firstErr = fmt.Errorf("import %q: %s", importedPath, describeOpenError(err))
			}
		}
	}
	if firstErr != nil {
		return jsonnetContents{}, "", firstErr
	}
	return jsonnetContents{}, "", fmt.Errorf("import %q: not found in the repository (searched %s)", importedPath, strings.Join(dirs, ", "))
}

// describeOpenError says why a repository path could not be read without
// echoing anything read from it.
func describeOpenError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes") {
		return "leaves the repository (through a symlink or \"..\")"
	}
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

type jsonnetContents = jsonnet.Contents

func makeContents(data []byte) jsonnetContents { return jsonnet.MakeContentsRaw(data) }

// Import implements jsonnet.Importer.
func (im *importer) Import(importedFrom, importedPath string) (jsonnetContents, string, error) {
	return im.importFrom(importedFrom, importedPath)
}

// budgeted runs fn, a Jsonnet evaluation, within the time and memory
// budget: a watchdog samples the process's resident memory and the clock,
// and returns the exceeded limit's error as soon as either is over. The
// evaluation itself cannot be interrupted (go-jsonnet has no cancellation),
// so after a budget error it runs on until the process exits: every
// surface (CLI, Argo CD plugin, KRM function) renders in a process of its
// own, and exits on the error.
func budgeted(file string, l Limits, fn func() (string, error)) (string, error) {
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	base := residentBytes()
	// A soft limit makes the collector work harder as the budget nears, so
	// that garbage (a long tail-recursive loop makes plenty) is not
	// mistaken for growth; restored when the evaluation ends.
	prev := debug.SetMemoryLimit(-1)
	debug.SetMemoryLimit(min(prev, goMemory()+l.JsonnetMemoryBytes*3/4))
	defer debug.SetMemoryLimit(prev)
	// The CLI collects rarely (GOGC 400, for renders whose heap is live);
	// an evaluation makes garbage at full speed, which at that rate would
	// reach the budget as garbage, not growth.
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	// One core: go-jsonnet evaluates on one goroutine, so a second core
	// would only run the collector beside it, and a runaway pattern would
	// cost up to twice its wall-clock budget in CPU. The deadline below
	// then bounds the CPU too.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	go func() {
		out, err := fn()
		done <- result{out, err}
	}()
	deadline := time.NewTimer(l.JsonnetTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case r := <-done:
			return r.out, r.err
		case <-deadline.C:
			return "", LimitError(file, "jsonnet-timeout", "jsonnet-timeout", l.JsonnetTimeout)
		case <-tick.C:
			grown := residentBytes() - base
			if grown <= l.JsonnetMemoryBytes {
				continue
			}
			// Somewhat over: collect and return freed memory to the OS
			// before deciding, so only live memory counts. Far over: no
			// second chance, the next step could double it.
			if grown < l.JsonnetMemoryBytes*3/2 {
				debug.FreeOSMemory()
			}
			if residentBytes()-base > l.JsonnetMemoryBytes {
				return "", LimitError(file, "jsonnet-memory", "jsonnet-memory", byteSize(l.JsonnetMemoryBytes))
			}
		}
	}
}

// goMemory is the memory the Go runtime has mapped for its heap and
// runtime structures, what a soft memory limit is measured against.
func goMemory() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.Sys - ms.HeapReleased)
}

// residentBytes is the process's resident set size: what the budget is
// about (the machine's memory), read from /proc/self/statm on Linux, else
// the Go runtime's view of memory obtained from the OS.
func residentBytes() int64 {
	if data, err := os.ReadFile("/proc/self/statm"); err == nil {
		var size, resident int64
		if _, err := fmt.Sscan(string(data), &size, &resident); err == nil {
			return resident * int64(os.Getpagesize())
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.Sys)
}
