package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/cocogen/cocogen/internal/atomicfile"
)

// StateFile is the record's file name inside the sandbox directory.
const StateFile = "state.json"

// UserDataFile holds the VM's user data between CreateVM and StartVM (and
// across a restart in between), readable by the daemon only.
const UserDataFile = "user-data"

// Store keeps records under a pods directory, one directory per sandbox.
// Writes are atomic (temporary file, fsync, rename, fsync of the
// directory), so a daemon killed at any instant leaves either the old or
// the new record, never a torn one.
type Store struct {
	dir string
}

// Open makes dir if needed and returns the store with every record found.
// A directory without a readable record is reported in skipped, not
// fatal: one corrupt sandbox must not keep the node's other pods down.
func Open(dir string) (s *Store, records []Record, skipped []error, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, nil, fmt.Errorf("creating pods directory: %w", err)
	}
	s = &Store{dir: dir}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("reading pods directory: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		rec, err := s.load(e.Name())
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		records = append(records, rec)
	}
	sort.Slice(records, func(i, j int) bool { return records[i].ID < records[j].ID })
	return s, records, skipped, nil
}

// Dir is the sandbox's directory.
func (s *Store) Dir(id string) string { return filepath.Join(s.dir, id) }

func (s *Store) load(id string) (Record, error) {
	path := filepath.Join(s.dir, id, StateFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return Record{}, fmt.Errorf("reading %s: %w", path, err)
	}
	var rec Record
	if err := json.Unmarshal(data, &rec); err != nil {
		return Record{}, fmt.Errorf("decoding %s: %w", path, err)
	}
	if rec.ID != id {
		return Record{}, fmt.Errorf("%s: id %q does not match its directory", path, rec.ID)
	}
	if _, ok := next[rec.Phase]; !ok && rec.Phase != Stopped {
		return Record{}, fmt.Errorf("%s: unknown phase %q", path, rec.Phase)
	}
	return rec, nil
}

// Save writes the record atomically, creating the sandbox directory.
func (s *Store) Save(rec Record) error {
	if err := ValidID(rec.ID); err != nil {
		return err
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding sandbox %s: %w", rec.ID, err)
	}
	return s.WriteFile(rec.ID, StateFile, append(data, '\n'))
}

// WriteFile writes a file of the sandbox atomically with mode 0600.
func (s *Store) WriteFile(id, name string, data []byte) error {
	dir := s.Dir(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	return atomicfile.Write(filepath.Join(dir, name), data, 0o600)
}

// ReadFile reads a file of the sandbox.
func (s *Store) ReadFile(id, name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(s.Dir(id), name))
}

// Remove deletes the sandbox's directory with everything in it (record,
// user data, agent socket). A missing directory is not an error.
func (s *Store) Remove(id string) error {
	if err := ValidID(id); err != nil {
		return err
	}
	if err := os.RemoveAll(s.Dir(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing sandbox %s: %w", id, err)
	}
	return atomicfile.SyncDir(s.dir)
}
