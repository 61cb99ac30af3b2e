package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the database to dest while it stays
// in use (VACUUM INTO reads one snapshot), then syncs the copy. dest MUST
// NOT exist.
func (db *DB) Backup(ctx context.Context, dest string) error {
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("backup to %q: %w", dest, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup to %q: %w", dest, err)
	}
	// VACUUM INTO needs a connection that is not query_only; it only
	// reads the source, in one snapshot, and writes dest.
	conn, err := sql.Open("sqlite", "file:"+db.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("backup %q: %w", db.path, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		os.Remove(dest)
		return fmt.Errorf("backup %q to %q: %w", db.path, dest, err)
	}
	if err := syncFile(dest); err != nil {
		return fmt.Errorf("backup to %q: %w", dest, err)
	}
	return syncFile(filepath.Dir(dest))
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Restore installs the database file src as dest: it copies src beside
// dest, syncs it and renames it into place, so dest is either the old
// database or the whole backup. dest and its WAL files MUST NOT exist (the
// caller moves an old database aside) and no server may be using them.
func Restore(src, dest string) error {
	for _, p := range []string{dest, dest + "-wal", dest + "-shm"} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("restore to %q: %q exists", dest, p)
		}
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("restore from %q: %w", src, err)
	}
	defer in.Close()
	tmp := dest + ".restoring"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("restore to %q: %w", dest, err)
	}
	if _, err := out.ReadFrom(in); err != nil {
		out.Close()
		os.Remove(tmp)
		return fmt.Errorf("restore to %q: copy: %w", dest, err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(tmp)
		return fmt.Errorf("restore to %q: sync: %w", dest, err)
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore to %q: %w", dest, err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore to %q: %w", dest, err)
	}
	return syncFile(filepath.Dir(dest))
}
