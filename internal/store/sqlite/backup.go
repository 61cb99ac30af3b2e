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

// RestoringSuffix names the copy Restore works on beside dest.
const RestoringSuffix = ".restoring"

// Restore installs the database file src as dest: it copies src beside
// dest (dest + RestoringSuffix), syncs it, calls check on the copy (which
// is then exactly what will be installed), calls makeRoom if it is not nil
// (to move an old database aside only once the backup has passed), and
// renames the copy into place, so dest is either the old database or the
// whole checked backup. No server may be using dest. A copy left by a
// crashed restore is replaced.
func Restore(src, dest string, check func(path string) error, makeRoom func() error) error {
	occupied := func() error {
		for _, p := range []string{dest, dest + "-wal", dest + "-shm"} {
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("restore to %q: %q exists", dest, p)
			}
		}
		return nil
	}
	if makeRoom == nil {
		if err := occupied(); err != nil {
			return err
		}
	}
	tmp := dest + RestoringSuffix
	removeTmp := func() {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(tmp + suffix)
		}
	}
	removeTmp()
	if err := copyDBFile(src, tmp); err != nil {
		removeTmp()
		return fmt.Errorf("restore %q to %q: %w", src, dest, err)
	}
	if check != nil {
		if err := check(tmp); err != nil {
			removeTmp()
			return err
		}
	}
	// Checking opened the copy: fold any WAL it made back in, so the file
	// that is renamed is complete on its own.
	for _, suffix := range []string{"-wal", "-shm"} {
		if st, err := os.Stat(tmp + suffix); err == nil && st.Size() > 0 && suffix == "-wal" {
			removeTmp()
			return fmt.Errorf("restore to %q: checking the copy left a write-ahead log", dest)
		}
		os.Remove(tmp + suffix)
	}
	if makeRoom != nil {
		if err := makeRoom(); err != nil {
			removeTmp()
			return err
		}
	}
	if err := occupied(); err != nil {
		removeTmp()
		return err
	}
	if err := os.Rename(tmp, dest); err != nil {
		removeTmp()
		return fmt.Errorf("restore to %q: %w", dest, err)
	}
	return syncFile(filepath.Dir(dest))
}

func copyDBFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if st, err := in.Stat(); err != nil {
		return err
	} else if !st.Mode().IsRegular() {
		return fmt.Errorf("%q is not a regular file", src)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := out.ReadFrom(in); err != nil {
		out.Close()
		return fmt.Errorf("copy: %w", err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return fmt.Errorf("sync: %w", err)
	}
	return out.Close()
}
